// One tick of the scheduler: for every configured schedule, the occurrences that came due since
// the last one it handled. The newest runs (requested by schedule:<name>); the ones before it
// were missed (the app was not running) and are reported, never run silently late or dropped
// silently; an occurrence whose previous run is still going is skipped and recorded. Every
// outcome is a row for `lyncdr schedules` and an entry in the schedule's audit trail.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AuditTrail } from '../../shared/audit/index.js';
import { appSettings } from '../../shared/config/index.js';
import { dueOccurrences } from '../../shared/schedules/occurrences.js';
import { startRun } from '../runs/start.js';
import { isActive, statusOf, type Client } from '../runs/read.js';
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
    if (s.afterTopologyChange && !state.topologyHash) state.topologyHash = await topologyHash();
    if (!(await d.store.putState(s.name, state, read?.etag))) return; // another tick did it
    read = await d.store.state(s.name);
    if (!read) return;
  }
  let { state, etag } = read;

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
    const next = await take(d, s, state, etag, latest, 'schedule', late);
    if (!next) return; // another tick took it, and reports what was missed
    if (due.earlierCount > 0) await reportMissed(d, s, due.earlier.map((t) => t.toISOString()), due.earlierCount, due.countCapped, latest);
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
  if (previous && isActive(previous) && trigger === 'topology-change') {
    // The change waits (its hash is not taken) for the running run, and is checked when it ends.
    d.log('info', `schedule ${s.name}: the topology changed while ${state.lastRunId} runs; readiness runs after it`);
    return undefined;
  }
  if (previous && isActive(previous)) {
    // lastRunId stays the running run: the occurrences after this one are skipped until it ends.
    if (!(await d.store.putState(s.name, { ...state, lastOccurrence: occurrence }, etag))) return undefined;
    await recordOutcome(d, s, { occurrence, trigger, outcome: 'skipped', handledAt: d.now.toISOString(), runId: state.lastRunId,
      reason: `the previous run ${state.lastRunId} is still ${String(previous.runtimeStatus)}` });
    return reread(d, s);
  }
  const runId = occurrenceRunId(s.name, occurrence, trigger);
  const starting: ScheduleState = { ...state, lastOccurrence: trigger === 'schedule' ? occurrence : state.lastOccurrence, lastRunId: runId, lastOutcome: 'starting', lastTrigger: trigger, startingOccurrence: occurrence };
  if (!(await d.store.putState(s.name, starting, etag))) return undefined;
  const taken = await reread(d, s);
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
  if (late) reason = [reason, `late: due ${occurrence}, the app was not running then`].filter(Boolean).join('; ');
  const { startingOccurrence: _done, ...rest } = state;
  if (!(await d.store.putState(s.name, { ...rest, lastOutcome: outcome }, etag))) return undefined;
  await recordOutcome(d, s, { occurrence, trigger, outcome, handledAt: d.now.toISOString(), runId, ...(reason ? { reason } : {}), ...(late ? { late } : {}) });
  return reread(d, s);
}

async function reread(d: TickDeps, s: Schedule): Promise<Taken> {
  return d.store.state(s.name);
}

async function recordOutcome(d: TickDeps, s: Schedule, row: OccurrenceRow): Promise<void> {
  d.log(row.outcome === 'started' && !row.late ? 'info' : 'warn', `schedule ${s.name}: ${row.occurrence} (${row.trigger}) ${row.outcome}${row.runId ? ` ${row.runId}` : ''}${row.reason ? `: ${row.reason}` : ''}`);
  // The trail first: it is the record; the row is what `lyncdr schedules` reads.
  await d.trail.append(scheduleTrailId(s.name), `occ:${compact(row.occurrence)}:${row.trigger}:${row.outcome}`, {
    kind: 'schedule-occurrence', actor: scheduleRequester(s.name), at: row.handledAt,
    data: { schedule: s.name, runbook: s.runbook, cron: s.cron, ...row },
  });
  await d.store.record(s.name, row);
}

async function reportMissed(d: TickDeps, s: Schedule, listed: string[], count: number, capped: boolean, before: string): Promise<void> {
  const handledAt = d.now.toISOString();
  const reason = `missed: the app was not running (noticed ${handledAt}); only the newest occurrence, ${before}, runs`;
  d.log('warn', `schedule ${s.name}: ${capped ? `at least ${count}` : count} occurrence(s) missed before ${before}, from ${listed[0]}`);
  await d.trail.append(scheduleTrailId(s.name), `missed:${compact(listed[0])}:${compact(before)}`, {
    kind: 'schedule-occurrence', actor: scheduleRequester(s.name), at: handledAt,
    data: { schedule: s.name, runbook: s.runbook, cron: s.cron, outcome: 'missed', occurrences: listed, count, countCapped: capped, reason },
  });
  for (const occurrence of listed) await d.store.record(s.name, { occurrence, trigger: 'schedule', outcome: 'missed', handledAt, reason });
}
