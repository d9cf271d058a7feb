// A malformed result and a rejected command are never retried automatically: each step below is
// retry-safe with attempts to spare, and still waits for an operator's decision after its first
// attempt. Through the real local stack: results go through the results queue and its trigger
// (signed with the site's key, as a genuine worker signs them), commands through the real worker.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuditTrail, type AuditTrail } from '../../shared/audit/index.js';
import { validateInvocation } from '../../shared/commands/index.js';
import { commandIdFor, type ResultMessage } from '../../shared/messages.js';
import { signResult } from '../../shared/results/signature.js';
import { QueueClient } from '@azure/storage-queue';
import { AzuriteQueueTransport, decodeBody } from '../../shared/transport/azurite.js';
import { catalogResolver } from '../../worker/worker.js';
import { appSettings, runConfigFrom } from '../../shared/config/index.js';
import { seal } from '../../functions/runs/signing.js';
import { ORCHESTRATION } from '../../shared/runs/contract.js';
import type { LocalHost } from '../../local/host.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { startTestHost } from '../support/host.js';
import { resultKey } from '../support/result-keys.js';
import { APP, assertNoTimerHeld, DECISION_KEY, finished, runsClient, runsSettings, startSimWorkers, type SimWorkers } from './support.js';

const prefix = uniqueName('m').toLowerCase().slice(0, 12);
const values = runsSettings(prefix);
let dir: string;
let host: LocalHost;
let west: SimWorkers;
let east: SimWorkers | undefined;
let trail: AuditTrail;
const api = runsClient(() => host.url);
const results = new AzuriteQueueTransport({ connectionString: azurite(), prefix });

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-malformed-'));
  host = await startTestHost({ entry: APP, triggers: true, values });
  west = await startSimWorkers({ prefix, dir, sites: ['west'] });
  trail = createAuditTrail({ connectionString: azurite(), tableName: values.LYNCDR_AUDIT_TABLE });
}, 60_000);
afterEach(async () => {
  await east?.stop();
  east = undefined;
});
afterAll(async () => {
  await east?.stop();
  await west?.stop();
  await results.close();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (host) assertNoTimerHeld(host);
});

// Waiting for a decision counts once the step's error is in the status too; a second attempt, or
// a run that ended, is what a wrong automatic retry leads to (seen at once, not at the wait's end).
const waitingDecision = (r: any) => finished(r) || (r?.status?.steps?.step?.state === 'waiting-decision' && r.status.steps.step.lastError !== undefined);
const settled = (r: any) => waitingDecision(r) || (r?.status?.steps?.step?.attempt ?? 1) > 1;
const entries = (id: string) => trail.readRun(id);
const keysOf = async (id: string) => (await entries(id)).map((e) => e.key);
const executionsOf = async (id: string) => (await west.sim.state()).executions.filter((e) => e.commandId.startsWith(`${id}:step:`));
const abort = async (id: string) => {
  expect((await api.call('operator2', 'POST', `runs/${id}/steps/step/decision`, { decision: 'abort', comment: 'test over' })).status).toBe(202);
  expect((await api.waitFor(id, finished)).status.phase).toBe('aborted');
};
/** The step waited for a decision after attempt 1, whose result says `error`, and nothing was sent again. */
const waitedAfterOneAttempt = async (id: string, error: RegExp) => {
  const r = await api.waitFor(id, settled);
  expect(r.status.steps.step, JSON.stringify(r.status.steps.step)).toMatchObject({ state: 'waiting-decision', attempt: 1, lastError: expect.stringMatching(error) });
  const keys = await keysOf(id);
  expect(keys.filter((k) => k.startsWith('step:step:attempt:') && k.endsWith(':dispatched'))).toEqual(['step:step:attempt:1:dispatched']);
  expect(keys.filter((k) => k.includes(':attempt:2'))).toEqual([]);
  return (await entries(id)).find((e) => e.key === 'step:step:attempt:1:result');
};

/** Sends `fields` on the results queue as the East worker would: for attempt `attempt` (1) of step `step`, once it is dispatched, signed with East's key (or `key`). */
async function answerAsEast(id: string, fields: Record<string, unknown>, key = resultKey('east'), attempt = 1): Promise<void> {
  const deadline = Date.now() + 30_000;
  const dispatched = async () => (await keysOf(id).catch(() => [] as string[])).includes(`step:step:attempt:${attempt}:dispatched`); // no trail until the run's first entry
  while (!(await dispatched()) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  const body = {
    v: 1, commandId: commandIdFor(id, 'step', attempt), runId: id, stepId: 'step', site: 'east', workerId: 'east-worker', attempt,
    finishedAt: new Date().toISOString(), duplicate: false, ...fields,
  } as unknown as ResultMessage;
  await results.sendResult(signResult(body, key));
}

/** Starts a run as an app of executor `version` would have (runs keep the version they started with), signed as the API signs a start. */
async function startAsVersion(version: number, tag: string, options: Record<string, unknown>): Promise<string> {
  const id = `run-v${version}-${tag}-${Date.now().toString(36)}`;
  const config = { ...runConfigFrom(appSettings({ ...process.env, ...values })), executorVersion: version };
  const input = seal(DECISION_KEY, { kind: 'run', runId: id, target: 'run' }, { runId: id, runbook: 'readiness', options: { ...options, tag }, mode: 'drill', requestedBy: 'operator1', requestedAt: new Date().toISOString(), config });
  const res = await fetch(`${host.url}/runtime/webhooks/durabletask/orchestrators/${ORCHESTRATION.runPlan}/${id}`, { method: 'POST', body: JSON.stringify(input), headers: { 'content-type': 'application/json' } });
  expect(res.status).toBe(202);
  return id;
}

describe('a malformed result waits for a decision', () => {
  // No East worker in these: the test answers for it. The step's timeout (60 s) is far off, so
  // the step's error says what it decided on.
  it('a genuine result the trigger cannot parse (a status no worker sends) reaches its step, which records it as malformed', async () => {
    const id = await api.start('operator1', 'readiness', { fixture: 'three-attempts', tag: 'unparseable', timeoutMs: 60_000 });
    await answerAsEast(id, { status: 'done', output: { State: 'Normal' } });
    const result = await waitedAfterOneAttempt(id, /^the worker's result is malformed: status: /);
    expect(result).toMatchObject({ kind: 'step-result', actor: 'lyncdr', data: { error: expect.stringMatching(/^the worker's result is malformed/) } });
    expect((await entries(id)).filter((e) => e.kind === 'step-timed-out')).toEqual([]);
    await abort(id);
  }, 60_000);

  it('an unparseable result signed with another site\'s key does not count: it is dead-lettered, and the step takes its real answer', async () => {
    const id = await api.start('operator1', 'readiness', { fixture: 'three-attempts', tag: 'forged', timeoutMs: 60_000 });
    await answerAsEast(id, { status: 'done' }, resultKey('west'));
    const poison = new QueueClient(azurite(), `${prefix}-results-poison`);
    await poison.createIfNotExists();
    const commandId = commandIdFor(id, 'step', 1);
    const poisoned = async () => (await poison.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.some((m) => decodeBody(m.messageText).includes(commandId));
    const deadline = Date.now() + 30_000;
    while (!(await poisoned()) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect(await poisoned()).toBe(true);
    expect((await api.run(id)).status.steps.step).toMatchObject({ state: 'running', attempt: 1 });
    expect((await keysOf(id)).filter((k) => k.startsWith('step:step:attempt:1:result'))).toEqual([]);
    // The genuine answer still counts.
    await answerAsEast(id, { status: 'succeeded', output: [{ State: 'Normal' }], startedAt: new Date().toISOString() });
    expect((await api.waitFor(id, finished)).status.phase).toBe('succeeded');
    expect((await keysOf(id)).filter((k) => k.includes(':attempt:2'))).toEqual([]);
  }, 60_000);

  it('a result that parses but is impossible for its command (a failure that names no error) waits for a decision', async () => {
    const id = await api.start('operator1', 'readiness', { fixture: 'three-attempts', tag: 'impossible', timeoutMs: 60_000 });
    await answerAsEast(id, { status: 'failed', exitCode: 1, stderr: 'something went wrong' });
    const result = await waitedAfterOneAttempt(id, /^the worker's result is malformed: status failed without an error saying why$/);
    expect(result).toMatchObject({ actor: 'lyncdr', data: { status: 'failed', workerId: 'east-worker', stderr: 'something went wrong', malformed: expect.stringMatching(/without an error/) } });
    await abort(id);
  }, 60_000);
});

describe('a rejected command waits for a decision', () => {
  it('unknown command: the East worker (an older one) has no pool.fabricState in its catalog and refuses it', async () => {
    const known = catalogResolver(validateInvocation);
    east = await startSimWorkers({
      prefix, dir, sites: ['east'], sim: west.sim,
      resolve: (inv) => (inv.name === 'pool.fabricState' ? { ok: false, kind: 'unknown-command', message: `name: unknown command "${inv.name}"` } : known(inv)),
    });
    const id = await api.start('operator1', 'readiness', { fixture: 'three-attempts', tag: 'unknown-command' });
    const result = await waitedAfterOneAttempt(id, /^rejected \(unknown-command\): name: unknown command "pool.fabricState"/);
    expect(result?.data).toMatchObject({ status: 'rejected', error: { kind: 'unknown-command' } });
    expect(await executionsOf(id)).toEqual([]);
    await abort(id);
  }, 60_000);

  it('bad parameters: the East worker\'s catalog refuses the parameters the app sent', async () => {
    // A catalog that reads the pool's name differently: what the app sent does not pass it.
    const resolve = catalogResolver(validateInvocation);
    east = await startSimWorkers({
      prefix, dir, sites: ['east'], sim: west.sim,
      resolve: (inv) => resolve(inv.name === 'pool.fabricState' ? { ...inv, params: { ...inv.params, poolFqdn: 'not a pool' } } : inv),
    });
    const id = await api.start('operator1', 'readiness', { fixture: 'three-attempts', tag: 'bad-params' });
    const result = await waitedAfterOneAttempt(id, /^rejected \(invalid-params\): /);
    expect(result?.data).toMatchObject({ status: 'rejected', error: { kind: 'invalid-params' } });
    expect(await executionsOf(id)).toEqual([]);
    await abort(id);
  }, 60_000);

  it('not supported: the simulator does not model a backup of mgccomp, and the idempotent step is not run again', async () => {
    const id = await api.start('operator1', 'readiness', {
      fixture: 'one-command', tag: 'not-supported', site: 'west', command: 'sql.backupDatabase', maxAttempts: 3, firstIntervalMs: 10,
      params: { sqlServerFqdn: 'pchatsql-west.contoso.com', sqlInstanceName: 'PCHAT', database: 'mgccomp', folder: '\\\\fs-west.contoso.com\\pchat-logship', file: 'mgccomp.bak' },
    });
    const result = await waitedAfterOneAttempt(id, /^failed \(precondition\): not supported by this worker: .*only backs up mgc/);
    expect(result?.data).toMatchObject({ status: 'failed', error: { kind: 'precondition' } });
    expect((await executionsOf(id)).map((e) => [e.commandId, e.outcome])).toEqual([[`${id}:step:1`, 'failed']]);
    await abort(id);
  }, 60_000);

  it('a run started by executor version 9 replays as it ran: the same refusal is retried per its policy', async () => {
    const id = await startAsVersion(9, 'not-supported-v9', {
      fixture: 'one-command', site: 'west', command: 'sql.backupDatabase', maxAttempts: 3, firstIntervalMs: 10,
      params: { sqlServerFqdn: 'pchatsql-west.contoso.com', sqlInstanceName: 'PCHAT', database: 'mgccomp', folder: '\\\\fs-west.contoso.com\\pchat-logship', file: 'mgccomp.bak' },
    });
    const r = await api.waitFor(id, waitingDecision);
    expect(r.status.steps.step, JSON.stringify(r.status.steps.step)).toMatchObject({ state: 'waiting-decision', attempt: 3, lastError: expect.stringMatching(/^failed \(precondition\): not supported by this worker/) });
    expect((await executionsOf(id)).map((e) => e.commandId)).toEqual([1, 2, 3].map((n) => `${id}:step:${n}`));
    await abort(id);
  }, 60_000);
});

// The status decides, not only the error's kind: a rejected command, or one whose outcome is
// unknown, is never sent again by itself, whatever kind the worker named. (Since executor 10 an
// outcome-unknown must name the kind outcome-unknown; runs of version 9 took any, and a failure
// without an error.) No East worker: the test answers for it, signed with East's key.
describe('what is retried is decided by the status as well as the kind', () => {
  it('rejected, naming a kind that is retried elsewhere (internal): waits for a decision after one attempt', async () => {
    const id = await api.start('operator1', 'readiness', { fixture: 'three-attempts', tag: 'rejected-internal', timeoutMs: 60_000 });
    await answerAsEast(id, { status: 'rejected', error: { kind: 'internal', message: 'the worker could not read its catalog' } });
    const result = await waitedAfterOneAttempt(id, /^rejected \(internal\): the worker could not read its catalog$/);
    expect(result).toMatchObject({ actor: 'east-worker', data: { status: 'rejected', error: { kind: 'internal' } } });
    await abort(id);
  }, 60_000);

  it('version 9: outcome-unknown naming another kind (crash) waits for a decision after one attempt', async () => {
    const id = await startAsVersion(9, 'unknown-crash', { fixture: 'three-attempts', timeoutMs: 60_000 });
    await answerAsEast(id, { status: 'outcome-unknown', error: { kind: 'crash', message: 'powershell.exe died' } });
    await waitedAfterOneAttempt(id, /^outcome-unknown \(crash\): powershell\.exe died$/);
    await abort(id);
  }, 60_000);

  it('version 9: outcome-unknown with no error at all waits for a decision after one attempt', async () => {
    const id = await startAsVersion(9, 'unknown-bare', { fixture: 'three-attempts', timeoutMs: 60_000 });
    await answerAsEast(id, { status: 'outcome-unknown', stderr: 'the worker restarted mid-command' });
    await waitedAfterOneAttempt(id, /^outcome-unknown: the worker restarted mid-command$/);
    await abort(id);
  }, 60_000);

  it('version 9: a failure with no error is an execution failure, retried per the policy (the control for the two above)', async () => {
    const id = await startAsVersion(9, 'failed-bare', { fixture: 'three-attempts', timeoutMs: 60_000 });
    await answerAsEast(id, { status: 'failed', exitCode: 1, stderr: 'something went wrong' });
    const second = await api.waitFor(id, (r: any) => finished(r) || r?.status?.steps?.step?.attempt === 2);
    expect(second.status.steps.step).toMatchObject({ state: 'running', attempt: 2, lastError: 'failed: something went wrong' });
    // Its second attempt is sent, and answered.
    await answerAsEast(id, { status: 'succeeded', output: [], startedAt: new Date().toISOString() }, resultKey('east'), 2);
    const done = await api.waitFor(id, finished);
    expect(done.status.steps.step).toMatchObject({ state: 'succeeded', attempt: 2 });
  }, 60_000);
});
