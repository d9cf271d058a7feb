// The scheduler on the local host (the real timer trigger, ticking every second here): a schedule
// fires and its run is requested by schedule:<name>; pchat-backup's retention deletes only the
// exports beyond the window; an occurrence whose previous run still goes is skipped and recorded;
// occurrences that fell while the app was down are reported as missed. Each phase starts the host
// with the schedules it needs, as an app restarted with new settings.
import { appendFileSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditTrail, type AuditTrail } from '../../shared/audit/index.js';
import type { LocalHost } from '../../local/host.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { lyncdr } from '../support/cli.js';
import { startTestHost } from '../support/host.js';
import { ScheduleStore } from '../../functions/schedules/store.js';
import { occurrenceRunId } from '../../functions/schedules/tick.js';
import { APP, assertNoTimerHeld, finished, runsClient, runsSettings, startSimWorkers, type SimWorkers } from './support.js';

const prefix = uniqueName('sc').toLowerCase().slice(0, 12);
const hub = uniqueName('Hub');
const values: Record<string, string> = { ...runsSettings(prefix), LYNCDR_SCHEDULE_TICK: '* * * * * *', LYNCDR_SCHEDULE_GRACE_SECONDS: '30', LYNCDR_SCHEDULES_TABLE: uniqueName('Sched') };
const SHARE = '\\\\fs-east.contoso.com\\pchat-logship';
const OTHER = '\\\\fs-west.contoso.com\\pchat-logship';
let dir: string;
let host: LocalHost | undefined;
let workers: SimWorkers;
let trail: AuditTrail;
const api = runsClient(() => host!.url);

/** The app started again with these schedules (existing variables win over a host's values: set them here). */
async function restart(schedules: unknown[]): Promise<void> {
  await host?.stop();
  if (host) assertNoTimerHeld(host);
  process.env.LYNCDR_SCHEDULES = JSON.stringify(schedules);
  host = await startTestHost({ entry: APP, triggers: true, hub, values });
}
const schedules = async () => {
  const r = await api.call('operator', 'GET', 'schedules');
  expect(r.status).toBe(200);
  return r.body.schedules as any[];
};
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what} never happened; last: ${JSON.stringify(v).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
const one = async (name: string) => (await schedules()).find((s) => s.name === name);
/** NCRONTAB for one moment (UTC): second minute hour day month, any weekday. */
const cronAt = (t: Date) => `${t.getUTCSeconds()} ${t.getUTCMinutes()} ${t.getUTCHours()} ${t.getUTCDate()} ${t.getUTCMonth() + 1} *`;
const day = (t: Date, minusDays: number) => new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()) - minusDays * 86_400_000).toISOString().slice(0, 10);
const compact = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase();

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-schedules-'));
  workers = await startSimWorkers({ prefix, dir });
  trail = createAuditTrail({ connectionString: azurite(), tableName: values.LYNCDR_AUDIT_TABLE });
}, 60_000);
afterAll(async () => {
  await host?.stop();
  await workers?.stop();
  delete process.env.LYNCDR_SCHEDULES;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('schedules', () => {
  let occurrence: Date;

  it('a pchat-backup schedule fires: its run is requested by schedule:<name>, exports the night, and deletes only the exports beyond retentionDays', async () => {
    occurrence = new Date(Math.ceil((Date.now() + 6000) / 1000) * 1000);
    const night = day(occurrence, 0);
    // Exports of earlier nights: with 3 days kept, the two older than night-2 go; everything else stays.
    const old = [`${SHARE}\\pchat-${day(occurrence, 10)}.zip`, `${SHARE}\\pchat-${day(occurrence, 3)}.zip`];
    const kept = [`${SHARE}\\pchat-${day(occurrence, 2)}.zip`, `${SHARE}\\pchat-${day(occurrence, 1)}.zip`, `${SHARE}\\pchat-notes.zip`, `${OTHER}\\pchat-${day(occurrence, 30)}.zip`];
    await workers.sim.placeExports([...old, ...kept]);
    await restart([{ name: 'nightly', runbook: 'pchat-backup', cron: cronAt(occurrence), options: { retentionDays: 3 } }]);

    const runId = `run-${compact(occurrence.toISOString())}-s-nightly`;
    const s = await until('the nightly occurrence', () => one('nightly'), (x) => x?.lastRun?.runId === runId && x.lastRun.outcome !== null, 90_000);
    expect(s).toMatchObject({ runbook: 'pchat-backup', mode: 'live', lastOccurrence: occurrence.toISOString(), lastRun: { runId, runtimeStatus: 'Completed', outcome: 'succeeded', scheduler: 'started' }, missed: 0, skipped: 0 });
    // The same moment next year: a one-off expression fires once a year.
    expect(s.next).toBe(new Date(Date.UTC(occurrence.getUTCFullYear() + 1, occurrence.getUTCMonth(), occurrence.getUTCDate(), occurrence.getUTCHours(), occurrence.getUTCMinutes(), occurrence.getUTCSeconds())).toISOString());
    expect(s.recent).toEqual([expect.objectContaining({ occurrence: occurrence.toISOString(), trigger: 'schedule', outcome: 'started', runId })]);
    expect(s.recent[0]).not.toHaveProperty('late');

    const run = await api.run(runId);
    expect(run.status).toMatchObject({ runbook: 'pchat-backup', mode: 'live', requestedBy: 'schedule:nightly', phase: 'succeeded' });
    const exportsNow = Object.values((await workers.sim.state()).exports).map((e) => e.path);
    expect(exportsNow).toEqual(expect.arrayContaining([...kept, `${SHARE}\\pchat-${night}.zip`]));
    for (const f of old) expect(exportsNow).not.toContain(f);

    // The run's trail: requested by the schedule; the retention step's result lists what it deleted.
    const entries = await trail.readRun(runId);
    expect(entries.find((e) => e.key === 'run:declared')).toMatchObject({ kind: 'run-declared', actor: 'schedule:nightly' });
    const pruned = entries.find((e) => e.kind === 'step-result' && e.key.startsWith('step:pchat-prune-exports:'));
    expect((pruned?.data as any).output.map((f: any) => f.FullName)).toEqual([...old].sort());
    // The schedule's own trail, verifiable like a run's.
    const own = await trail.readRun('schedule-nightly');
    expect(own.map((e) => [e.kind, e.actor, (e.data as any).outcome, (e.data as any).runId])).toEqual([['schedule-occurrence', 'schedule:nightly', 'started', runId]]);
    expect((await trail.verify('schedule-nightly')).ok).toBe(true);

    // lyncdr schedules, as an operator runs it.
    const env = { ...process.env, LYNCDR_URL: host!.url, LYNCDR_USER: 'operator' };
    const json = await lyncdr(['schedules', '--json'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).schedules[0]).toMatchObject({ name: 'nightly', lastRun: { runId, outcome: 'succeeded' } });
    // The schedule's trail verifies from the CLI like a run's (process.env has the host's settings).
    const verified = await lyncdr(['audit', 'verify', 'schedule-nightly', '--json'], process.env);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ runId: 'schedule-nightly', ok: true, entries: 1, problems: [] });
    const text = await lyncdr(['schedules'], env);
    expect(text.stdout).toContain(`nightly                  pchat-backup (live)  ${cronAt(occurrence)}`);
    expect(text.stdout).toContain(`last ${occurrence.toISOString()}: ${runId} Completed (succeeded); 0 missed, 0 skipped of the last 1`);
  }, 150_000);

  let running: string;

  it('an occurrence whose previous run still goes is skipped and recorded, and no second run starts beside it', async () => {
    // The first readiness run's reads of the pool pairings fail: it waits for an operator's
    // decision, so every occurrence after it finds it running.
    await workers.sim.faults.add({ command: 'pool.backupRelationship', kind: 'fail', remaining: 1000 });
    await restart([{ name: 'busy', runbook: 'readiness', cron: '*/2 * * * * *' }]);
    const s = await until('two skipped occurrences', () => one('busy'), (x) => x?.recent.filter((r: any) => r.outcome === 'skipped').length >= 2, 90_000);
    const started = s.recent.filter((r: any) => r.outcome === 'started');
    expect(started).toHaveLength(1);
    running = started[0].runId;
    expect(s.lastRun).toMatchObject({ runId: running, runtimeStatus: 'Running', outcome: null });
    for (const r of s.recent.filter((x: any) => x.outcome === 'skipped')) {
      expect(r).toMatchObject({ trigger: 'schedule', runId: running, reason: `the previous run ${running} is still Running` });
      expect(r.occurrence > started[0].occurrence).toBe(true);
    }
    const own = await trail.readRun('schedule-busy');
    expect(own.filter((e) => (e.data as any).outcome === 'skipped').length).toBeGreaterThanOrEqual(2);
    expect((await trail.verify('schedule-busy')).ok).toBe(true);
  }, 150_000);

  it('occurrences that fell while the app was down are reported as missed; the newest is handled when it is back', async () => {
    await api.waitFor(running, (r) => Object.values<any>(r?.status?.steps ?? {}).some((st) => st.state === 'waiting-decision'), 60_000);
    await workers.sim.faults.clear();
    expect((await api.call('operator', 'POST', `runs/${running}/cancel`, { reason: 'test: the hung read' })).status).toBe(202);
    await api.waitFor(running, finished, 60_000);
    const handled = (await one('busy')).lastOccurrence as string;
    await host!.stop();
    assertNoTimerHeld(host!);
    const downAt = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 7000));
    const upAt = new Date().toISOString();
    host = await startTestHost({ entry: APP, triggers: true, hub, values });
    // The missed ones are recorded before the newest is taken: wait for both.
    const lastMissed = (x: any) => x?.recent.filter((r: any) => r.outcome === 'missed').map((r: any) => r.occurrence).sort().at(-1);
    const s = await until('missed occurrences and the newest handled', () => one('busy'),
      (x) => !!lastMissed(x) && x.recent.some((r: any) => r.outcome !== 'missed' && r.occurrence > lastMissed(x)), 60_000);
    const missed = s.recent.filter((r: any) => r.outcome === 'missed').map((r: any) => r.occurrence).sort();
    // Every even second after the last one handled and before the newest, nothing else.
    expect(missed.length).toBeGreaterThanOrEqual(2);
    expect(missed[0] > handled).toBe(true);
    for (const m of missed) expect(Date.parse(m) % 2000).toBe(0);
    expect(missed.at(-1)! < s.lastOccurrence).toBe(true);
    expect(missed.some((m: string) => m > downAt && m < upAt)).toBe(true);
    // The newest of them was handled (run, or skipped if the run before it still went), after the missed ones.
    const newest = s.recent.filter((r: any) => r.outcome !== 'missed' && r.occurrence > missed.at(-1)!).map((r: any) => r.occurrence).sort()[0];
    expect(s.recent.find((r: any) => r.occurrence === newest)?.outcome).toMatch(/^(started|skipped)$/);
    for (const r of s.recent.filter((x: any) => x.outcome === 'missed')) expect(r.reason).toBe(`missed: due while the app was not running (or its tick came late); only the newest occurrence, ${newest}, runs`);
    const entry = (await trail.readRun('schedule-busy')).find((e) => (e.data as any).outcome === 'missed');
    expect(entry).toMatchObject({ at: newest, data: { schedule: 'busy', outcome: 'missed', count: missed.length, countCapped: false, occurrences: missed } });
    expect((await trail.verify('schedule-busy')).ok).toBe(true);
  }, 150_000);

  it('a readiness schedule with afterTopologyChange runs when the topology file changes, and not for the first read of the file', async () => {
    const topo = path.join(dir, 'estate.yaml');
    copyFileSync(values.LYNCDR_TOPOLOGY, topo);
    const sha = () => createHash('sha256').update(readFileSync(topo)).digest('hex');
    process.env.LYNCDR_TOPOLOGY = topo;
    try {
      await restart([{ name: 'weekly', runbook: 'readiness', cron: '0 0 6 * * 1', afterTopologyChange: true }]);
      // First seen: the file's hash is recorded and nothing runs for it.
      const first = await until('the first topology read', () => one('weekly'), (x) => x?.topologySha256 === sha());
      expect(first.recent.filter((r: any) => r.trigger === 'topology-change')).toEqual([]);
      appendFileSync(topo, '\n# a pool was added (test)\n');
      const s = await until('the topology-change run', () => one('weekly'), (x) => x?.topologySha256 === sha() && x.recent.some((r: any) => r.trigger === 'topology-change'));
      const rows = s.recent.filter((r: any) => r.trigger === 'topology-change');
      expect(rows).toEqual([expect.objectContaining({ outcome: 'started', runId: expect.stringMatching(/^run-\d{8}t\d{6}z-s-weekly-topo$/) })]);
      const done = await api.waitFor(rows[0].runId, finished, 90_000);
      expect(done.status).toMatchObject({ runbook: 'readiness', requestedBy: 'schedule:weekly', phase: 'succeeded' });
    } finally {
      process.env.LYNCDR_TOPOLOGY = values.LYNCDR_TOPOLOGY;
    }
  }, 150_000);

  it('a start cut off after its occurrence was taken (the state left "starting") is started at the next tick as the same run', async () => {
    await host!.stop();
    assertNoTimerHeld(host!);
    host = undefined;
    // What a tick that died between taking the occurrence and starting its run leaves behind.
    const occurrence = new Date(Math.floor(Date.now() / 1000) * 1000 - 5000).toISOString();
    const runId = occurrenceRunId('cut', occurrence, 'schedule');
    const store = new ScheduleStore(azurite(), values.LYNCDR_SCHEDULES_TABLE);
    expect(await store.putState('cut', { cron: '0 0 6 * * 1', lastOccurrence: occurrence, lastRunId: runId, lastOutcome: 'starting', lastTrigger: 'schedule', startingOccurrence: occurrence }, undefined)).toBe(true);
    await restart([{ name: 'cut', runbook: 'readiness', cron: '0 0 6 * * 1' }]);
    const s = await until('the interrupted start', () => one('cut'), (x) => x?.recent.length > 0);
    expect(s.recent).toEqual([expect.objectContaining({ occurrence, trigger: 'schedule', outcome: 'started', runId })]);
    expect(s.recent[0]).not.toHaveProperty('late');
    expect(s.lastRun).toMatchObject({ runId, scheduler: 'started' });
    const done = await api.waitFor(runId, finished, 90_000);
    expect(done.status).toMatchObject({ runbook: 'readiness', requestedBy: 'schedule:cut', phase: 'succeeded' });
    expect((await store.state('cut'))?.state).not.toHaveProperty('startingOccurrence');
  }, 150_000);

  it('an occurrence the API would refuse (its lock is held by an operator\'s run) is recorded as refused with the reason', async () => {
    if (!host) await restart([]);
    // A night dated ahead (a typo) would count retention from a file no night wrote: refused.
    const ahead = await api.call('operator', 'POST', 'runs', { runbook: 'pchat-backup', options: { date: '2099-01-01' }, mode: 'live' });
    expect(ahead).toEqual({ status: 400, body: { error: 'pchat-backup: option date 2099-01-01 is more than a day ahead of today (UTC)' } });
    // An operator's backup holds the Persistent Chat lock: its export fails and waits for a decision.
    await workers.sim.faults.add({ command: 'pchat.exportData', kind: 'fail', remaining: 1 });
    const held = await api.start('operator', 'pchat-backup', { date: '2026-01-01' }, 'live');
    await api.waitFor(held, (r) => r?.status?.steps?.['pchat-export']?.state === 'waiting-decision', 60_000);
    const occurrence = new Date(Math.ceil((Date.now() + 4000) / 1000) * 1000);
    await restart([{ name: 'blocked', runbook: 'pchat-backup', cron: cronAt(occurrence) }]);
    const s = await until('the refused occurrence', () => one('blocked'), (x) => x?.recent.length > 0, 60_000);
    expect(s.recent).toEqual([expect.objectContaining({ occurrence: occurrence.toISOString(), outcome: 'refused', runId: occurrenceRunId('blocked', occurrence.toISOString(), 'schedule') })]);
    expect(s.recent[0].reason).toMatch(/^409: /);
    expect(s.recent[0].reason).toContain(held);
    expect(s.lastRun).toMatchObject({ scheduler: 'refused', runtimeStatus: null });
    expect((await trail.readRun('schedule-blocked')).map((e) => (e.data as any).outcome)).toEqual(['refused']);
    expect((await api.call('operator2', 'POST', `runs/${held}/steps/pchat-export/decision`, { decision: 'abort', comment: 'test over' })).status).toBe(202);
    await api.waitFor(held, finished, 60_000);
  }, 150_000);

  it('an occurrence handled later than the grace runs, marked late with why', async () => {
    if (!host) await restart([]);
    await host!.stop();
    assertNoTimerHeld(host!);
    host = undefined;
    // Seen before the app went down; its one occurrence fell 45 s ago, beyond the 30 s grace.
    const occurrence = new Date(Math.floor(Date.now() / 1000) * 1000 - 45_000);
    const cron = cronAt(occurrence);
    const store = new ScheduleStore(azurite(), values.LYNCDR_SCHEDULES_TABLE);
    expect(await store.putState('latecomer', { cron, lastOccurrence: new Date(occurrence.getTime() - 60_000).toISOString() }, undefined)).toBe(true);
    await restart([{ name: 'latecomer', runbook: 'readiness', cron }]);
    const s = await until('the late occurrence', () => one('latecomer'), (x) => x?.recent.length > 0);
    const runId = occurrenceRunId('latecomer', occurrence.toISOString(), 'schedule');
    expect(s.recent).toEqual([expect.objectContaining({ occurrence: occurrence.toISOString(), outcome: 'started', runId, late: true })]);
    expect(s.recent[0].reason).toMatch(new RegExp(`^late: due ${occurrence.toISOString().replace(/\./g, '\\.')}, handled \\S+ \\(the app was not running, or its tick came late\\)$`));
    expect(Date.parse(s.recent[0].handledAt) - occurrence.getTime()).toBeGreaterThan(30_000);
    expect(s.missed).toBe(1);
    expect((await api.waitFor(runId, finished, 90_000)).status).toMatchObject({ requestedBy: 'schedule:latecomer', phase: 'succeeded' });
  }, 150_000);
});
