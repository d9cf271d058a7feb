// Issue 13 §1/§3, executor version 12: a result raised straight into a run (the Durable management
// API, past the results trigger) counts only when the worker of the step's site signed it for the
// very command, attempt and site the step waits for. Forged and replayed results are raised into
// a real host's runs; each refused one is audited (result-refused) and the step waits on, until
// its real result (from the simulated worker, or signed with the site's key through the results
// queue and the trigger, as a worker sends it) completes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAuditTrail, type AuditTrail } from '../../shared/audit/index.js';
import { appSettings, runConfigFrom } from '../../shared/config/index.js';
import { commandIdFor, type ResultMessage } from '../../shared/messages.js';
import { signResult } from '../../shared/results/signature.js';
import { ORCHESTRATION } from '../../shared/runs/contract.js';
import { AzuriteQueueTransport } from '../../shared/transport/azurite.js';
import { seal } from '../../functions/runs/signing.js';
import type { LocalHost } from '../../local/host.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { api, startTestHost, type Api } from '../support/host.js';
import { resultKey } from '../support/result-keys.js';
import { APP, DECISION_KEY, assertNoTimerHeld, finished, runsClient, runsSettings, startSimWorkers, trailUntil, type RunsClient } from './support.js';

let host: LocalHost;
let client: RunsClient;
let durable: Api;
let trail: AuditTrail;
let transport: AzuriteQueueTransport;
let values: Record<string, string>;
let dir: string;
let prefix: string;

beforeAll(async () => {
  prefix = uniqueName('t').toLowerCase().slice(0, 12);
  dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-raised-'));
  values = runsSettings(prefix);
  // No worker runs: each test decides who answers the command waiting on East's queue.
  host = await startTestHost({ entry: APP, triggers: true, values });
  client = runsClient(() => host.url);
  durable = api(host);
  trail = createAuditTrail({ connectionString: azurite(), tableName: values.LYNCDR_AUDIT_TABLE });
  transport = new AzuriteQueueTransport({ connectionString: azurite(), prefix });
}, 60_000);

afterAll(async () => {
  await transport?.close();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (host) assertNoTimerHeld(host);
});

type Trail = Awaited<ReturnType<AuditTrail['readRun']>>;
const refused = (t: Trail) => t.filter((e) => e.kind === 'result-refused');
const stepResults = (t: Trail) => t.filter((e) => e.kind === 'step-result').map((e) => [e.key, e.actor]);
const onAttempt = (n: number) => (r: any) => r?.status?.steps?.step?.state === 'running' && r.status.steps.step.attempt === n;
/** One read on East, three attempts, a minute for each: only what the test sends answers it. */
const threeAttempts = (tag: string) => ({ fixture: 'three-attempts', tag, timeoutMs: 60_000 });

/** What East's worker sends for attempt `attempt` of the run's step (unsigned). */
function answer(runId: string, attempt: number, extra: Partial<ResultMessage> = {}): ResultMessage {
  return {
    v: 1, commandId: commandIdFor(runId, 'step', attempt), runId, stepId: 'step', site: 'east', workerId: 'east-worker', status: 'succeeded', exitCode: 0,
    output: { Fqdn: 'eepool1.contoso.com', State: 'Healthy' }, finishedAt: new Date().toISOString(), duplicate: false, attempt, ...extra,
  };
}

/** The bodies of the events of that name in the instance's history, as raised. */
async function raisedInHistory(id: string, name: string): Promise<any[]> {
  const s = await durable.status(id, '?showHistory=true&showHistoryOutput=true');
  return (s.historyEvents as Array<{ EventType: string; FunctionName?: string; Input?: unknown }>)
    .filter((e) => e.EventType === 'EventRaised' && e.FunctionName === name).map((e) => e.Input);
}

describe('results raised straight into a run (executor version 12)', () => {
  it('forged results (unsigned, not a result, another site\'s key or site, another attempt, command or step) are refused and audited with the reason; the step waits on, and the East worker\'s own result completes it', async () => {
    const runId = await client.start('operator', 'readiness', threeAttempts('forged'));
    await client.waitFor(runId, onAttempt(1));
    const commandId = commandIdFor(runId, 'step', 1);
    const forger = (extra: Partial<ResultMessage> = {}) => answer(runId, 1, { workerId: 'forger', ...extra });
    const forgeries: Array<[string, unknown]> = [
      ['unsigned', forger()],
      ['not-a-result', { ok: true }],
      // West's worker (or anyone holding West's key) answering the command sent to East.
      ['bad-signature', signResult(forger(), resultKey('west'))],
      ['wrong-site', signResult(forger({ site: 'west' }), resultKey('west'))],
      ['wrong-attempt', signResult(forger({ attempt: 2 }), resultKey('east'))],
      ['wrong-command', signResult(forger({ commandId: commandIdFor(runId, 'step', 2), attempt: 2 }), resultKey('east'))],
      ['wrong-step', signResult(forger({ stepId: 'other' }), resultKey('east'))],
    ];
    for (const [, forged] of forgeries) expect(await durable.raise(runId, `result:${commandId}`, forged)).toBe(202);

    const t = await trailUntil(trail, runId, (e) => refused(e).length === forgeries.length);
    expect(refused(t).map((e) => (e.data as { refusal: string }).refusal).sort()).toEqual(forgeries.map(([why]) => why).sort());
    const why = (refusal: string) => refused(t).find((e) => (e.data as { refusal: string }).refusal === refusal)!;
    expect(refused(t).every((e) => e.actor === 'lyncdr' && e.key.startsWith(`result-refused:${commandId}:`))).toBe(true);
    expect(refused(t).map((e) => (e.data as { awaited: unknown }).awaited)).toEqual(Array(forgeries.length).fill({ commandId, stepId: 'step', site: 'east', attempt: 1 }));
    expect(why('unsigned').data).toMatchObject({ workerId: 'forger', commandId, reason: expect.stringContaining('LYNCDR_RESULT_KEY_EAST') });
    expect(why('not-a-result').data).toMatchObject({ commandId: null, reason: expect.stringMatching(/^not a worker result/) });
    expect(why('wrong-site').data).toMatchObject({ site: 'west', reason: 'the command was sent to site east, the result is from site west' });
    expect(why('wrong-command').data).toMatchObject({ reason: `the result answers command ${runId}:step:2; the step waits for ${commandId} (attempt 1)` });
    // Nothing counted: no result recorded, the same attempt still waits.
    expect(stepResults(t)).toEqual([]);
    expect((await client.run(runId)).status.steps.step).toMatchObject({ state: 'running', attempt: 1 });

    // The genuine answer: East's simulated worker, signing with East's key.
    const workers = await startSimWorkers({ prefix, dir, sites: ['east'] });
    try {
      const done = await client.waitFor(runId, finished, 60_000);
      expect(done.status.phase).toBe('succeeded');
      expect(done.status.steps.step).toMatchObject({ state: 'succeeded', attempt: 1 });
    } finally {
      await workers.stop();
    }
    const after = await trail.readRun(runId);
    expect(stepResults(after)).toEqual([['step:step:attempt:1:result', expect.stringMatching(/^east-[0-9a-f]{8}$/)]]);
    expect(refused(after)).toHaveLength(forgeries.length);
  }, 120_000);

  it('a genuine result captured from history and raised again changes nothing: not for its own command once counted, not for the next attempt\'s', async () => {
    const runId = await client.start('operator', 'readiness', threeAttempts('captured'));
    await client.waitFor(runId, onAttempt(1));
    // East's answer to attempt 1, signed as its worker signs, through the results queue and the trigger: a retryable failure.
    await transport.sendResult(signResult(answer(runId, 1, { status: 'failed', exitCode: 1, output: null, stderr: 'transient', error: { kind: 'execution', message: 'transient' } }), resultKey('east')));
    await client.waitFor(runId, onAttempt(2));
    const [captured] = await raisedInHistory(runId, `result:${commandIdFor(runId, 'step', 1)}`);
    // The trigger raised it as the worker signed it.
    expect(captured).toMatchObject({ commandId: commandIdFor(runId, 'step', 1), attempt: 1, status: 'failed', signature: expect.stringMatching(/^hmac-sha256:/) });

    // Raised again for its own command (whose wait is over) and for attempt 2's.
    expect(await durable.raise(runId, `result:${commandIdFor(runId, 'step', 1)}`, captured)).toBe(202);
    expect(await durable.raise(runId, `result:${commandIdFor(runId, 'step', 2)}`, captured)).toBe(202);
    const t = await trailUntil(trail, runId, (e) => refused(e).length === 1);
    expect(refused(t)[0].data).toMatchObject({
      refusal: 'wrong-command', commandId: commandIdFor(runId, 'step', 1), attempt: 1, awaited: { commandId: commandIdFor(runId, 'step', 2), attempt: 2 },
    });
    expect(stepResults(t)).toEqual([['step:step:attempt:1:result', 'east-worker']]);
    expect((await client.run(runId)).status.steps.step).toMatchObject({ state: 'running', attempt: 2 });

    // Attempt 2's own answer counts, once.
    await transport.sendResult(signResult(answer(runId, 2), resultKey('east')));
    const done = await client.waitFor(runId, finished);
    expect(done.status.steps.step).toMatchObject({ state: 'succeeded', attempt: 2 });
    const after = await trail.readRun(runId);
    expect(stepResults(after)).toEqual([['step:step:attempt:1:result', 'east-worker'], ['step:step:attempt:2:result', 'east-worker']]);
    expect(refused(after)).toHaveLength(1);
  }, 90_000);

  it('forged results raised without pause past the deadline do not hold the step: it times out while they are being refused', async () => {
    // A second for the command plus the five seconds' grace: the deadline passes while forgeries keep coming.
    const runId = await client.start('operator', 'readiness', { fixture: 'three-attempts', tag: 'deadline', timeoutMs: 1000 });
    await client.waitFor(runId, onAttempt(1));
    const commandId = commandIdFor(runId, 'step', 1);
    // Ten at a time, so some always wait behind the one being checked: the deadline passes while
    // the run is busy refusing one, and what it waits on next must still end at the deadline.
    const until = Date.now() + 8000;
    let n = 0;
    await Promise.all(Array.from({ length: 10 }, async () => {
      while (Date.now() < until) expect(await durable.raise(runId, `result:${commandId}`, answer(runId, 1, { workerId: `forger-${n++}` }))).toBe(202);
    }));
    const r = await client.waitFor(runId, (x) => x?.status?.steps?.step?.state === 'waiting-decision' && x.status.steps.step.lastError !== undefined, 20_000);
    expect(r.status.steps.step).toMatchObject({ attempt: 1, lastError: expect.stringMatching(/^no result from the east worker within 6000 ms/) });
    const t = await trail.readRun(runId);
    expect(refused(t).length).toBeGreaterThan(0);
    expect(stepResults(t)).toEqual([]);
    expect((await client.call('operator', 'POST', `runs/${runId}/steps/step/decision`, { decision: 'abort', comment: 'test over' })).status).toBe(202);
    expect((await client.waitFor(runId, finished)).status.phase).toBe('aborted');
  }, 90_000);

  it('a run started by executor version 11 replays as it ran: a result raised into it counts unchecked', async () => {
    const runId = `run-v11-${Date.now().toString(36)}`;
    const config = { ...runConfigFrom(appSettings({ ...process.env, ...values })), executorVersion: 11 };
    // Signed as the API signs a start (version 5 and later count only that).
    const input = seal(DECISION_KEY, { kind: 'run', runId, target: 'run' }, {
      runId, runbook: 'readiness', options: threeAttempts('v11'), mode: 'drill', requestedBy: 'operator', requestedAt: new Date().toISOString(), config,
    });
    await durable.start(ORCHESTRATION.runPlan, input, runId);
    await client.waitFor(runId, onAttempt(1));
    expect(await durable.raise(runId, `result:${commandIdFor(runId, 'step', 1)}`, answer(runId, 1, { workerId: 'forger' }))).toBe(202);
    const done = await client.waitFor(runId, finished);
    expect(done.status.steps.step).toMatchObject({ state: 'succeeded', attempt: 1 });
    const t = await trail.readRun(runId);
    expect(stepResults(t)).toEqual([['step:step:attempt:1:result', 'forger']]);
    expect(refused(t)).toEqual([]);
  }, 60_000);
});
