// Pausing a live run of executor version 7 (a Durable suspend; version 8: pause-signed.test.ts) while its approval gate waits, over the real app, the local host on Azurite
// and the workers: the run and its gate are suspended, votes are refused, an event and a timer that
// reach the gate anyway are held, not acted on; resumed, they run in the order they came and the
// run completes. Pause and resume are for operators and are in the run's audit trail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventType } from '../../local/engine/history.js';
import { gateInstanceId } from '../../shared/runs/contract.js';
import { lyncdr } from '../support/cli.js';
import { api } from '../support/host.js';
import { sign, seal } from '../../functions/runs/signing.js';
import { appSettings, runConfigFrom } from '../../shared/config/index.js';
import { DECISION_KEY, finished, runsSettings, startRunsEnv, stepState, type RunsEnv } from './support.js';

let env: RunsEnv;
// The gate's first deadline is short enough to pass while the run is paused, long enough to pause
// it before; escalation then leaves time to approve.
const policy = { required: 2, approverGroups: { primary: ['alice', 'bob', 'carol'], escalation: ['dave'] }, timeoutMinutes: 0.1, escalationTimeoutMinutes: 30 };
beforeAll(async () => {
  env = await startRunsEnv({ settings: {
    LYNCDR_OPERATORS: '["operator1", "operator2"]',
    LYNCDR_APPROVAL_POLICIES: JSON.stringify({ ...JSON.parse(runsSettings('unused').LYNCDR_APPROVAL_POLICIES), quick: policy }),
  } });
}, 180_000);
afterAll(async () => { await env?.stop(); });

const cli = (...args: string[]) => lyncdr([...args, '--url', env.host.url]);
/**
 * A run of executor version 7, the last whose pause is a Durable suspend (the API starts version 8,
 * whose pause is a signed event: pause-signed.test.ts). A new run may name an older version only
 * sealed with the app's key, as here.
 */
let started = 0;
async function startV7(user: string, options: Record<string, unknown>): Promise<string> {
  const runId = `run-v7-pause-${Date.now().toString(36)}-${++started}`;
  const config = { ...runConfigFrom(appSettings({ ...process.env, ...env.values })), executorVersion: 7 };
  const input = seal(DECISION_KEY, { kind: 'run', runId, target: 'run' }, { runId, runbook: 'readiness', options, mode: 'drill', requestedBy: user, requestedAt: new Date().toISOString(), config });
  await api(env.host).start('runPlan', input, runId);
  return runId;
}
const heldOf = async (id: string) => ((await env.host.engine.store.readState(id))?.state.held ?? []).map((e) => e.EventType);
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('pause and resume a run of executor version 7 (a Durable suspend)', () => {
  it('holds the run and its waiting gate: votes refused, a timer and an event held; resumed, they run in order and the run completes', async () => {
    const durable = api(env.host);
    const id = await startV7('operator1', { fixture: 'quick-gate' });
    const gate = gateInstanceId(id, 'declare');
    const waiting = await env.waitFor(id, stepState('declare', 'waiting-approval'));
    await durable.waitFor(gate, (s) => s.runtimeStatus === 'Running');

    // Operators only, with a reason; a running run cannot be resumed.
    expect(await env.call('alice', 'POST', `runs/${id}/pause`, { reason: 'x' })).toMatchObject({ status: 403, body: { error: expect.stringMatching(/^alice may not pause a run/) } });
    expect((await env.call('operator1', 'POST', `runs/${id}/pause`, {})).status).toBe(400);
    expect(await env.call('operator1', 'POST', `runs/${id}/resume`, { reason: 'x' })).toMatchObject({ status: 409, body: { error: `run ${id} is not paused (Running)` } });
    expect((await env.call('operator1', 'POST', 'runs/run-nope/pause', { reason: 'x' })).status).toBe(404);

    const paused = await cli('pause', id, '--reason', 'change freeze & DBA check #1', '--as', 'operator1');
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toBe(`${id} paused with its open gate ${gate}; recorded in its audit trail\n`);
    await durable.waitFor(id, (s) => s.runtimeStatus === 'Suspended');
    await durable.waitFor(gate, (s) => s.runtimeStatus === 'Suspended');
    const shown = await env.run(id);
    expect(shown.runtimeStatus).toBe('Suspended');
    const status = await cli('status', id, '--as', 'carol');
    expect(status.stdout).toMatch(/running, PAUSED \(runtimeStatus Suspended\)/);
    expect(status.stdout).toContain(`paused: nothing advances it until an operator runs lyncdr resume ${id}`);
    expect((await cli('runs', '--as', 'carol')).stdout).toMatch(new RegExp(`^${id}  readiness  drill  running, PAUSED \\(runtimeStatus Suspended\\)  operator1$`, 'm'));

    // Votes and other signals are refused, saying who paused it and why.
    const vote = await env.vote('alice', id, 'approve');
    expect(vote.status).toBe(409);
    expect(vote.body).toMatchObject({ code: 'paused', paused: { by: 'operator1', reason: 'change freeze & DBA check #1' } });
    expect(vote.body.error).toMatch(new RegExp(`^run ${id} is paused by operator1 at \\S+: change freeze & DBA check #1; a vote is refused until an operator resumes it`));
    expect(await env.call('operator1', 'POST', `runs/${id}/steps/read-pool/decision`, { decision: 'skip' })).toMatchObject({ status: 409, body: { code: 'paused' } });
    expect(await env.call('operator2', 'POST', `runs/${id}/pause`, { reason: 'again' })).toMatchObject({ status: 409, body: { error: expect.stringMatching(/is already paused \(by operator1/) } });

    // An event that reaches the gate anyway (raised through the Durable API) and the gate's
    // deadline passing: both are held by the gate, neither advances it.
    // Signed as the API signs (executor version 5 counts nothing else): a vote raised just before the pause.
    expect(await durable.raise(gate, 'vote', sign(DECISION_KEY, { kind: 'vote', runId: id, target: 'gate:declare' },
      { voteId: 'direct-1', approver: 'bob', decision: 'approve', planHash: waiting.status.planHash, channel: 'http' }))).toBe(202);
    // (On a loaded machine the deadline can pass before the vote is raised: both are held either way.)
    await until('the vote and the deadline timer held by the gate', async () => (await heldOf(gate)).sort((x, y) => x - y).join() === `${EventType.TimerFired},${EventType.EventRaised}`);
    expect((await durable.status(gate)).customStatus).toMatchObject({ status: 'pending', phase: 'primary', votes: [] });
    const still = await env.run(id);
    expect([still.runtimeStatus, still.status.steps.declare.state, still.status.steps['read-pool'].state]).toEqual(['Suspended', 'waiting-approval', 'pending']);

    const resumed = await cli('resume', id, '--reason', 'DBA confirmed', '--as', 'operator2');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toBe(`${id} resumed with its open gate ${gate}; recorded in its audit trail\n`);
    // In the order they came: bob's vote counts and the deadline escalates the gate.
    const after = await env.waitFor(id, (r) => r.runtimeStatus === 'Running' && r.gates?.declare?.phase === 'escalated', 30_000);
    expect(after.gates.declare).toMatchObject({ status: 'pending', approvers: ['bob'] });
    expect(await heldOf(gate)).toEqual([]);
    const last = await env.vote('alice', id, 'approve');
    expect(last.body).toMatchObject({ outcome: 'accepted', gate: { status: 'approved', approvers: ['bob', 'alice'] } });
    const done = await env.waitFor(id, finished);
    expect(done.status.phase, JSON.stringify(done.status)).toBe('succeeded');

    // Who and why, in the trail, in order, and the trail verifies.
    const entries = await env.trail.readRun(id);
    const pausedEntry = entries.find((e) => e.kind === 'run-paused');
    const resumedEntry = entries.find((e) => e.kind === 'run-resumed');
    expect(pausedEntry).toMatchObject({ actor: 'operator1', data: { reason: 'change freeze & DBA check #1', gates: [gate] } });
    expect(resumedEntry).toMatchObject({ actor: 'operator2', data: { reason: 'DBA confirmed', gates: [gate] } });
    const kinds = entries.map((e) => e.kind);
    expect(kinds.indexOf('run-paused')).toBeLessThan(kinds.indexOf('run-resumed'));
    expect(kinds.indexOf('run-resumed')).toBeLessThan(kinds.indexOf('gate-decided'));
    expect((await env.trail.verify(id)).ok).toBe(true);
    // The Durable reason says who, as the extension's history would.
    const turns = (await durable.status(id, '?showHistory=true')).historyEvents.filter((e: any) => /^Execution(Suspended|Resumed)$/.test(e.EventType));
    expect(turns.map((e: any) => e.Reason)).toEqual(['paused by operator1: change freeze & DBA check #1', 'resumed by operator2: DBA confirmed']);
    // An ended run cannot be paused.
    expect(await env.call('operator1', 'POST', `runs/${id}/pause`, { reason: 'late' })).toMatchObject({ status: 409, body: { error: `run ${id} is Completed: only a running run can be paused` } });
  }, 150_000);

  it("a worker's result that arrives while the run is paused is kept, not dropped, and the step completes on resume", async () => {
    // The command runs a few seconds: long enough to pause the run while it is on the worker.
    await env.sim.faults.add({ command: 'pool.get', kind: 'slow', remaining: 1, factor: 4000 });
    const id = await startV7('operator1', { fixture: 'manual', lock: 'test:pause-result' });
    await env.waitFor(id, stepState('read-pool', 'running'));
    await until('the command dispatched', async () => (await env.trail.readRun(id)).some((e) => e.key === 'step:read-pool:attempt:1:dispatched'));
    expect((await env.call('operator1', 'POST', `runs/${id}/pause`, { reason: 'hold the run' })).status).toBe(202);
    await until('the result held by the paused run', async () => (await env.host.engine.store.readState(id))?.state.held?.some((e) => e.EventType === EventType.EventRaised && e.Name?.startsWith('result:')) ?? false);
    const paused = await env.run(id);
    expect([paused.runtimeStatus, paused.status.steps['read-pool'].state]).toEqual(['Suspended', 'running']);
    expect((await env.trail.readRun(id)).some((e) => e.key === 'step:read-pool:attempt:1:result')).toBe(false);

    expect((await env.call('operator2', 'POST', `runs/${id}/resume`, { reason: 'go on' })).status).toBe(202);
    // The kept result completes read-pool; its row may be published a moment after the manual
    // step's state (a Node 22 CI run read it between the two): wait for both.
    const resumed = await env.waitFor(id, (r) => stepState('recreate-log-shipping', 'waiting-confirmation')(r) && r.status.steps['read-pool'].state === 'succeeded');
    expect(resumed.status.steps['read-pool'].attempt).toBe(1);
    expect((await env.call('operator1', 'POST', `runs/${id}/steps/recreate-log-shipping/confirm`, { comment: 'done' })).status).toBe(202);
    expect((await env.waitFor(id, finished)).status.phase).toBe('succeeded');
  }, 90_000);
});
