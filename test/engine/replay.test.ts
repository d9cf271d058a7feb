// The episode logic without a host or storage: hand-built histories in, decisions out.
import { describe, expect, it } from 'vitest';
import * as df from 'durable-functions';
import '../../local/host.js'; // installs the functions-core stand-in before any registration
import { installFunctionsCore } from '../../local/functions-core.js';
import { runEpisode, retryDelayMs, type OrchestratorHandler } from '../../local/engine/replay.js';
import { EventType, type HistoryEvent } from '../../local/engine/history.js';

const registry = installFunctionsCore();
const step = df.app.activity('replayStep', { handler: (x: unknown) => x });
df.app.orchestration('replayRetry', function* (context) {
  const r: unknown = yield context.df.callActivityWithRetry('replayStep', new df.RetryOptions(1000, 3), 'x');
  const after: unknown = yield step('after');
  return [r, after];
});
df.app.orchestration('replayCallHttp', function* (context) {
  return yield context.df.callHttp({ method: 'GET', url: 'https://example.invalid/' });
});
df.app.orchestration('replayCallEntity', function* (context) {
  return yield context.df.callEntity(new df.EntityId('counter', 'c1'), 'add', 1);
});
const handler = (name: string) => registry.get(name)!.handler as OrchestratorHandler;

/** A small history builder: each call appends one event with sensible defaults. */
function history() {
  const events: HistoryEvent[] = [];
  const t = '2026-01-01T00:00:00.000Z';
  const b = {
    started(input?: unknown) { events.push({ EventType: EventType.OrchestratorStarted, EventId: -1, IsPlayed: true, Timestamp: t }, { EventType: EventType.ExecutionStarted, EventId: -1, IsPlayed: true, Timestamp: t, Input: input === undefined ? undefined : JSON.stringify(input) }); return b; },
    scheduled(id: number, name: string, extra: Partial<HistoryEvent> = {}) { events.push({ EventType: EventType.TaskScheduled, EventId: id, IsPlayed: true, Timestamp: t, Name: name, ...extra }); return b; },
    failed(id: number, reason: string) { events.push({ EventType: EventType.TaskFailed, EventId: -1, IsPlayed: true, Timestamp: t, TaskScheduledId: id, Reason: reason, Details: reason }); return b; },
    events,
  };
  return b;
}

describe('runEpisode', () => {
  it('schedules the first attempt of a retried activity with its retry bookkeeping', async () => {
    const r = await runEpisode({ instanceId: 'i', name: 'replayRetry', inputJson: undefined, history: [], newEvents: [{ EventType: EventType.ExecutionStarted, EventId: -1, IsPlayed: false, Timestamp: '' }], now: new Date('2026-01-01T00:00:00Z'), handler: handler('replayRetry') });
    expect(r.activities).toEqual([{ id: 0, name: 'replayStep', inputJson: '"x"' }]);
    expect(r.appended.find((e) => e.EventType === EventType.TaskScheduled)?.LyncdrRetry).toMatchObject({ first: 0, attempt: 1 });
  });

  it("after a retried task fails, takes the SDK's next number for the retry timer, with backoff", async () => {
    const h = history().started().scheduled(0, 'replayStep', { LyncdrRetry: { first: 0, attempt: 1, firstAt: '2026-01-01T00:00:00.000Z', options: { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 3 } } });
    const now = new Date('2026-01-01T00:00:05Z');
    const r = await runEpisode({ instanceId: 'i', name: 'replayRetry', inputJson: undefined, history: h.events, newEvents: [{ EventType: EventType.TaskFailed, EventId: -1, IsPlayed: false, Timestamp: '', TaskScheduledId: 0, Reason: 'no', Details: 'no' }], now, handler: handler('replayRetry') });
    expect(r.outcome.kind).toBe('running');
    expect(r.timers).toEqual([{ id: 1, fireAt: '2026-01-01T00:00:06.000Z' }]);
    expect(r.activities).toEqual([]);
  });

  it('fails the instance when replay schedules something else than history recorded', async () => {
    const h = history().started().scheduled(0, 'somethingElse');
    const r = await runEpisode({ instanceId: 'i', name: 'replayRetry', inputJson: undefined, history: h.events, newEvents: [], now: new Date(), handler: handler('replayRetry') });
    expect(r.outcome).toMatchObject({ kind: 'failed' });
    expect((r.outcome as { message: string }).message).toMatch(/action #1 was activity 'somethingElse' in history but the replay now schedules activity 'replayStep'/);
    expect(r.activities).toEqual([]);
  });

  it('fails the instance, saying so, when the orchestrator calls an entity or callHttp (unsupported here)', async () => {
    for (const [name, what] of [['replayCallHttp', /callHttp/], ['replayCallEntity', /entit/i]] as const) {
      const r = await runEpisode({ instanceId: 'i', name, inputJson: undefined, history: [], newEvents: [{ EventType: EventType.ExecutionStarted, EventId: -1, IsPlayed: false, Timestamp: '' }], now: new Date('2026-01-01T00:00:00Z'), handler: handler(name) });
      expect(r.outcome).toMatchObject({ kind: 'failed' });
      const message = (r.outcome as { message: string }).message;
      expect(message).toMatch(/is not supported by the lyncdr local host/);
      expect(message).toMatch(what);
      expect(message).not.toMatch(/action type \d/);
      expect([r.activities, r.timers, r.subOrchestrations]).toEqual([[], [], []]);
    }
  });

  it('computes retry delays as Durable Functions does', () => {
    const p = { firstRetryIntervalInMilliseconds: 100, maxNumberOfAttempts: 5, backoffCoefficient: 2, maxRetryIntervalInMilliseconds: 300 };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(p, n))).toEqual([100, 200, 300, 300]);
  });
});
