// The executor's failure paths that must never re-run a command on its own: a step that is not
// retry-safe, a command whose result never came, a command the worker answered outcome-unknown.
// Each waits for an operator's decision after its first attempt. The host runs the real app;
// the East worker is started and stopped by the tests (West always runs).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuditTrail, type AuditTrail } from '../../shared/audit/index.js';
import type { LocalHost } from '../../local/host.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { startTestHost } from '../support/host.js';
import { APP, assertNoTimerHeld, finished, runsClient, runsSettings, startSimWorkers, type SimWorkers } from './support.js';

const prefix = uniqueName('f').toLowerCase().slice(0, 12);
const values = runsSettings(prefix);
let dir: string;
let host: LocalHost;
let west: SimWorkers;
let east: SimWorkers | undefined;
let trail: AuditTrail;
const api = runsClient(() => host.url);

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-failpaths-'));
  host = await startTestHost({ entry: APP, triggers: true, values });
  west = await startSimWorkers({ prefix, dir, sites: ['west'] });
  trail = createAuditTrail({ connectionString: azurite(), tableName: values.LYNCDR_AUDIT_TABLE });
}, 60_000);
afterEach(async () => {
  await east?.stop();
  east = undefined;
  await west.sim.faults.clear();
});
afterAll(async () => {
  await east?.stop();
  await west?.stop();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (host) assertNoTimerHeld(host);
});

const startEast = async () => { east = await startSimWorkers({ prefix, dir, sites: ['east'], sim: west.sim }); };
/** The step waits for a decision, or the run ended (which is what a wrong automatic retry leads to). */
// The step's error reaches the status in the step's row, which may be published a moment after
// its state: waiting for a decision counts once both are there (a CI run read the state alone).
const settled = (r: any) => finished(r) || (r?.status?.steps?.step?.state === 'waiting-decision' && r.status.steps.step.lastError !== undefined);
const executionsOf = async (id: string) => (await west.sim.state()).executions.filter((e) => e.commandId.startsWith(`${id}:step:`));
const keysOf = async (id: string) => (await trail.readRun(id)).map((e) => e.key);
const abort = async (id: string) => {
  expect((await api.call('operator2', 'POST', `runs/${id}/steps/step/decision`, { decision: 'abort', comment: 'test over' })).status).toBe(202);
  const done = await api.waitFor(id, finished);
  expect(done.status.phase).toBe('aborted');
};

describe('never retried automatically', () => {
  it('a step that is not retry-safe waits for a decision after its first failed attempt, whatever its retry policy', async () => {
    await startEast();
    await west.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: 1 });
    const id = await api.start('operator1', 'readiness', { fixture: 'three-attempts', tag: 'unsafe', retrySafe: false });
    const r = await api.waitFor(id, settled);
    expect(r.status.steps.step, JSON.stringify(r.status.steps.step)).toMatchObject({ state: 'waiting-decision', attempt: 1, lastError: expect.stringMatching(/Injected fault/) });
    expect((await executionsOf(id)).map((e) => e.commandId)).toEqual([`${id}:step:1`]);
    const keys = await keysOf(id);
    expect(keys).toContain('step:step:attempt:1:result');
    expect(keys.filter((k) => k.includes(':attempt:2'))).toEqual([]);
    await abort(id);
  }, 60_000);

  it('a command the worker answered outcome-unknown (it stopped mid-command and started again) waits for a decision', async () => {
    await startEast();
    await west.sim.faults.add({ command: 'pool.fabricState', kind: 'hang', remaining: 1 });
    const id = await api.start('operator1', 'readiness', { fixture: 'three-attempts', tag: 'unknown', timeoutMs: 60_000 });
    // The command has begun on the estate: stop the worker (it abandons the message, its journal
    // says started) and start it again, which answers the redelivery outcome-unknown.
    const deadline = Date.now() + 30_000;
    while (!(await executionsOf(id)).length && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect((await executionsOf(id)).map((e) => [e.commandId, e.outcome])).toEqual([[`${id}:step:1`, 'running']]);
    await east!.stop();
    await startEast();
    const r = await api.waitFor(id, settled);
    expect(r.status.steps.step, JSON.stringify(r.status.steps.step)).toMatchObject({ state: 'waiting-decision', attempt: 1, lastError: expect.stringMatching(/^outcome-unknown \(outcome-unknown\): the worker stopped while running this command/) });
    expect((await executionsOf(id)).map((e) => e.commandId)).toEqual([`${id}:step:1`]);
    const result = (await trail.readRun(id)).find((e) => e.key === 'step:step:attempt:1:result');
    expect(result?.data).toMatchObject({ status: 'outcome-unknown' });
    expect((await keysOf(id)).filter((k) => k.includes(':attempt:2'))).toEqual([]);
    await abort(id);
  }, 90_000);

  it('a command whose result never came (no worker for its site) waits for a decision: its outcome is unknown', async () => {
    // No East worker: nothing answers (last of the file: its command stays in the East queue). The host gives up after the step's timeout plus the grace.
    const id = await api.start('operator1', 'readiness', { fixture: 'three-attempts', tag: 'unanswered', timeoutMs: 1000 });
    const waitMs = 1000 + Number(values.LYNCDR_RESULT_GRACE_MS);
    const r = await api.waitFor(id, settled, 3 * waitMs + 30_000);
    expect(r.status.steps.step, JSON.stringify(r.status.steps.step)).toMatchObject({
      state: 'waiting-decision', attempt: 1, lastError: `no result from the east worker within ${waitMs} ms: outcome unknown (the command may have run)`,
    });
    const audit = await trail.readRun(id);
    expect(audit.filter((e) => e.kind === 'step-timed-out').map((e) => e.key)).toEqual(['step:step:attempt:1:timed-out']);
    expect(audit.filter((e) => e.kind === 'step-dispatched').map((e) => e.key)).toEqual(['step:step:attempt:1:dispatched']);
    await abort(id);
  }, 90_000);
});
