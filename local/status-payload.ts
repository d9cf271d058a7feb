// An instance's status as the Durable extension writes it on the wire (HttpApiHandler.ConvertFrom):
// field names and order, `historyEvents` (not `history`: durable-functions 3.x does not read that
// field, so getStatus().history is undefined on Azure, durable-js #620), and timestamps in the
// extension's two formats:
// - createdTime / lastUpdatedTime: .NET DateTime.ToString("s") + "Z", whole seconds,
//   e.g. "2018-02-28T05:18:49Z";
// - history timestamps (Timestamp, ScheduledTime, FireAt): Json.NET's ISO format, fractional
//   seconds without trailing zeros, e.g. "2018-02-28T05:18:49.3452372Z" (DTFx keeps 100 ns
//   ticks; the local host has milliseconds, so at most three digits).
// Both as in the example of the "HTTP API reference" page of the Durable Functions docs.
import type { StatusView } from './engine/engine.js';

export interface StatusPayload {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: unknown[];
}

/** DateTime.ToString("s") + "Z": the seconds, no fraction. */
export function statusTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 19)}Z`;
}

/** Json.NET's IsoDateTimeFormat for a UTC DateTime: the fraction without trailing zeros. */
export function historyTime(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).toISOString().replace(/\.?0*Z$/, 'Z');
}

const TIME_FIELDS = ['Timestamp', 'ScheduledTime', 'FireAt'];

export function statusPayload(s: StatusView): StatusPayload {
  const out: StatusPayload = {
    name: s.name,
    instanceId: s.instanceId,
    runtimeStatus: s.runtimeStatus,
    input: s.input,
    customStatus: s.customStatus,
    output: s.output,
    createdTime: statusTime(s.createdTime),
    lastUpdatedTime: statusTime(s.lastUpdatedTime),
  };
  if (s.history) {
    out.historyEvents = s.history.map((e) => {
      const event = { ...(e as Record<string, unknown>) };
      for (const f of TIME_FIELDS) if (typeof event[f] === 'string') event[f] = historyTime(event[f] as string);
      return event;
    });
  }
  return out;
}
