// One tick of the scheduler: for every configured schedule, the occurrences that came due since
// the last one it handled. The newest runs (requested by schedule:<name>); the ones before it
// were missed (the app was not running) and are reported, never run silently late or dropped
// silently; an occurrence whose previous run is still going is skipped and recorded. Every
// outcome is a row for `lyncdr schedules` and an entry in the schedule's audit trail.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AuditConflictError, type AuditEntryInput, type AuditTrail } from '../../shared/audit/index.js';
import { appSettings } from '../../shared/config/index.js';
import { dueOccurrences } from '../../shared/schedules/occurrences.js';
import { startRun } from '../runs/start.js';
import { statusOf, type Client } from '../runs/read.js';
import { DATED_RUNBOOKS, type Schedule, type SchedulesConfig } from './config.js';
import type { OccurrenceRow, OccurrenceTrigger, ScheduleState, ScheduleStore } from './store.js';

export interface TickDeps {
  client: Client;
  store: ScheduleStore;
  trail: AuditTrail;
  config: SchedulesConfig;
  now: Date;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export const scheduleRequester = (name: string) => `schedule:${name}`;
export const scheduleTrailId = (name: string) => `schedule-${name}`;
const compact = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase();
/** One run id per occurrence: a tick cut off between taking an occurrence and starting it starts the same run. */
export const occurrenceRunId = (name: string, occurrence: string, trigger: OccurrenceTrigger) =>
  `run-${compact(occurrence)}-s-${name}${trigger === 'topology-change' ? '-topo' : ''}`;

async function topologyHash(): Promise<string> {
  return createHash('sha256').update(await readFile(appSettings().topologyFile)).digest('hex');
}

export async function runTick(d: TickDeps): Promise<void> {
  for (const s of d.config.schedules) {
    try {
      await tickOne(d, s);
    } catch (err) {
      d.log('error', `schedule ${s.name}: ${(err as Error).message}`);
    }
  }
}

async function tickOne(d: TickDeps, s: Schedule): Promise<void> {
  let read = await d.store.state(s.name);
  if (!read || read.state.cron !== s.cron) {
    // First seen (or its expression changed): the newest occurrence within one grace before now
    // still runs (the app started just after it); nothing older is due, so nothing is missed.
    const recent = dueOccurrences(s.cron, new Date(d.now.getTime() - d.config.graceMs), d.now).latest;
    const baseline = new Date(recent ? recent.getTime() - 1 : d.now.getTime()).toISOString();
    const state: ScheduleState = { ...(read?.state ?? {}), cron: s.cron, lastOccurrence: read && read.state.lastOccurrence > baseline ? read.state.lastOccurrence : baseline };
    if (!(await d.store.putState(s.name, state, read?.etag))) return; // another tick did it
    read = await d.store.state(s.name);
    if (!read) return;
  }
  let { state, etag } = read;
  if (s.afterTopologyChange && !state.topologyHash) {
    // afterTopologyChange added to a schedule seen before: this read is the first, not a change.
    if (!(await d.store.putState(s.name, { ...state, topologyHash: await topologyHash() }, etag))) return;
    const again = await d.store.state(s.name);
    if (!again) return;
    ({ state, etag } = again);
  }

  // A start cut off after its occurrence was taken: start the same run now (or see that it exists).
  if (state.lastOutcome === 'starting' && state.lastRunId) {
    const occurrence = state.startingOccurrence ?? state.lastOccurrence;
    const late = d.now.getTime() - Date.parse(occurrence) > d.config.graceMs;
    const next = await start(d, s, state, etag, occurrence, state.lastTrigger ?? 'schedule', late);
    if (!next) return;
    ({ state, etag } = next);
  }

  const due = dueOccurrences(s.cron, new Date(state.lastOccurrence), d.now);
  if (due.latest) {
    const latest = due.latest.toISOString();
    const late = d.now.getTime() - due.latest.getTime() > d.config.graceMs;
    // Reported before the newest is taken: a tick cut off after this reports the same again
    // (the same entry: nothing new), never nothing.
    if (due.earlierCount > 0) await reportMissed(d, s, due.earlier.map((t) => t.toISOString()), due.earlierCount, due.countCapped, latest);
    const next = await take(d, s, state, etag, latest, 'schedule', late);
    if (!next) return; // another tick took it
    ({ state, etag } = next);
  }

  if (s.afterTopologyChange) {
    const hash = await topologyHash();
    if (hash !== state.topologyHash) {
      const at = d.now.toISOString();
      d.log('info', `schedule ${s.name}: the topology changed (sha256 ${hash.slice(0, 12)})`);
      await take(d, s, { ...state, topologyHash: hash }, etag, at, 'topology-change', false);
    }
  }
}

type Taken = { state: ScheduleState; etag: string } | undefined;

/** Takes an occurrence (ETag-guarded), skipping it if the schedule's previous run still runs. */
async function take(d: TickDeps, s: Schedule, state: ScheduleState, etag: string, occurrence: string, trigger: OccurrenceTrigger, late: boolean): Promise<Taken> {
  const previous = state.lastRunId ? await statusOf(d.client, state.lastRunId) : undefined;
  if (previous && going(previous) && trigger === 'topology-change') {
    // The change waits (its hash is not taken) for the running run, and is checked when it ends.
    d.log('info', `schedule ${s.name}: the topology changed while ${state.lastRunId} runs; readiness runs after it`);
    return undefined;
  }
  if (previous && going(previous)) {
    // Recorded first (a tick cut off here records it again: the same entry), then taken;
    // lastRunId stays the running run, so the occurrences after this one are skipped until it ends.
    await recordOutcome(d, s, { occurrence, trigger, outcome: 'skipped', handledAt: d.now.toISOString(), runId: state.lastRunId,
      reason: `the previous run ${state.lastRunId} is still ${String(previous.runtimeStatus)}` });
    if (!(await d.store.putState(s.name, { ...state, lastOccurrence: occurrence }, etag))) return undefined;
    return d.store.state(s.name);
  }
  const runId = occurrenceRunId(s.name, occurrence, trigger);
  const starting: ScheduleState = { ...state, lastOccurrence: trigger === 'schedule' ? occurrence : state.lastOccurrence, lastRunId: runId, lastOutcome: 'starting', lastTrigger: trigger, startingOccurrence: occurrence };
  if (!(await d.store.putState(s.name, starting, etag))) return undefined;
  const taken = await d.store.state(s.name);
  if (!taken) return undefined;
  return start(d, s, taken.state, taken.etag, occurrence, trigger, late);
}

/** Starts the run of a taken occurrence (state.lastRunId) and records what came of it. */
async function start(d: TickDeps, s: Schedule, state: ScheduleState, etag: string, occurrence: string, trigger: OccurrenceTrigger, late: boolean): Promise<Taken> {
  const runId = state.lastRunId!;
  const exists = await statusOf(d.client, runId);
  let outcome: OccurrenceRow['outcome'] = 'started';
  let reason: string | undefined;
  if (!exists) {
    const options = DATED_RUNBOOKS.has(s.runbook) ? { ...s.options, date: occurrence.slice(0, 10) } : s.options;
    const answer = await startRun(d.client, scheduleRequester(s.name), { runbook: s.runbook, options: options as never, mode: s.mode }, undefined, { runId });
    if (answer.status !== 202) {
      outcome = 'refused';
      reason = `${answer.status}: ${String((answer.body as { error?: unknown }).error ?? 'refused')}`;
    }
  }
  if (late) reason = [reason, `late: due ${occurrence}, handled ${d.now.toISOString()} (the app was not running, or its tick came late)`].filter(Boolean).join('; ');
  // Recorded before the state says so: a tick cut off between the two finds 'starting', sees the
  // run exists and records again (the same entry is kept, see recordOutcome).
  await recordOutcome(d, s, { occurrence, trigger, outcome, handledAt: d.now.toISOString(), runId, ...(reason ? { reason } : {}), ...(late ? { late } : {}) });
  const { startingOccurrence: _done, ...rest } = state;
  if (!(await d.store.putState(s.name, { ...rest, lastOutcome: outcome }, etag))) return undefined;
  return d.store.state(s.name);
}

async function recordOutcome(d: TickDeps, s: Schedule, row: OccurrenceRow): Promise<void> {
  d.log(row.outcome === 'started' && !row.late ? 'info' : 'warn', `schedule ${s.name}: ${row.occurrence} (${row.trigger}) ${row.outcome}${row.runId ? ` ${row.runId}` : ''}${row.reason ? `: ${row.reason}` : ''}`);
  // The trail first: it is the record; the row is what `lyncdr schedules` reads.
  await appendOnce(d, s, `occ:${compact(row.occurrence)}:${row.trigger}:${row.outcome}`, {
    kind: 'schedule-occurrence', actor: scheduleRequester(s.name), at: row.handledAt,
    data: { schedule: s.name, runbook: s.runbook, cron: s.cron, ...row },
  });
  await d.store.record(s.name, row);
}

async function reportMissed(d: TickDeps, s: Schedule, listed: string[], count: number, capped: boolean, before: string): Promise<void> {
  const handledAt = d.now.toISOString();
  // Nothing of this tick's own in the entry (it is the same if a cut-off tick reports it again).
  const reason = `missed: due while the app was not running (or its tick came late); only the newest occurrence, ${before}, runs`;
  d.log('warn', `schedule ${s.name}: ${capped ? `at least ${count}` : count} occurrence(s) missed before ${before}, from ${listed[0]}`);
  await appendOnce(d, s, `missed:${compact(listed[0])}:${compact(before)}`, {
    kind: 'schedule-occurrence', actor: scheduleRequester(s.name), at: before,
    data: { schedule: s.name, runbook: s.runbook, cron: s.cron, outcome: 'missed', occurrences: listed, count, countCapped: capped, reason },
  });
  for (const occurrence of listed) await d.store.record(s.name, { occurrence, trigger: 'schedule', outcome: 'missed', handledAt, reason });
}

/** Running, Pending or paused (Suspended): the schedule's previous run still goes. */
const going = (st: NonNullable<Awaited<ReturnType<typeof statusOf>>>) => ['Running', 'Pending', 'Suspended'].includes(String(st.runtimeStatus));

/**
 * Appends an outcome once: a tick cut off after appending (before its state said so) comes back
 * to the same occurrence, and the entry already in the trail, under the same key, is the record.
 */
async function appendOnce(d: TickDeps, s: Schedule, key: string, entry: AuditEntryInput): Promise<void> {
  try {
    await d.trail.append(scheduleTrailId(s.name), key, entry);
  } catch (err) {
    if (!(err instanceof AuditConflictError)) throw err;
    d.log('info', `schedule ${s.name}: ${key} is in the trail already (a tick before this one recorded it)`);
  }
}
