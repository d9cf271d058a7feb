// Approval rules, operator decisions, manual steps, cancellation and locks, over the real app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, startRunsEnv, stepState, type RunsEnv } from './support.js';

let env: RunsEnv;
beforeAll(async () => { env = await startRunsEnv(); }, 60_000);
afterAll(async () => { await env?.stop(); });

const gateOf = (r: any, step: string) => r.gates?.[step];

describe('approval gate', () => {
  it('refuses self-approval, a second vote by the same approver and a vote for another plan hash; then N-of-M approves', async () => {
    const id = await env.start('alice', 'fe-pool-failover', { pool: 'eepool1.contoso.com' });
    await env.waitFor(id, stepState('declare-disaster', 'waiting-approval'));

    const self = await env.vote('alice', id, 'approve');
    expect(self.status).toBe(409);
    expect(self.body).toMatchObject({ outcome: 'refused', code: 'self-approval' });

    const wrongHash = await env.vote('bob', id, 'approve', { planHash: 'sha256:' + '0'.repeat(64) });
    expect(wrongHash.body).toMatchObject({ outcome: 'refused', code: 'plan-mismatch' });

    expect((await env.vote('bob', id, 'approve')).body.outcome).toBe('accepted');
    const twice = await env.vote('bob', id, 'approve');
    expect(twice.body).toMatchObject({ outcome: 'refused', code: 'duplicate-vote' });

    const last = await env.vote('carol', id, 'approve');
    expect(last.body).toMatchObject({ outcome: 'accepted', gate: { status: 'approved', approvers: ['bob', 'carol'] } });

    const done = await env.waitFor(id, finished, 60_000);
    expect(done.status.phase).toBe('succeeded');
    expect(gateOf(done, 'declare-disaster').votes.map((v: any) => [v.approver, v.outcome, v.code ?? ''])).toEqual([
      ['alice', 'refused', 'self-approval'], ['bob', 'refused', 'plan-mismatch'], ['bob', 'accepted', ''], ['bob', 'refused', 'duplicate-vote'], ['carol', 'accepted', ''],
    ]);
    const votes = (await env.trail.readRun(id)).filter((e) => e.kind === 'vote');
    expect(votes).toHaveLength(5);
  }, 90_000);

  it('a rejection stops the run', async () => {
    const id = await env.start('operator1', 'fe-pool-failover', { pool: 'eepool1.contoso.com' });
    await env.waitFor(id, stepState('declare-disaster', 'waiting-approval'));
    expect((await env.vote('bob', id, 'reject')).body.outcome).toBe('accepted');
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('rejected');
    expect(done.status.steps['pool-failover-eepool1'].state).toBe('cancelled');
  }, 60_000);

  it('times out, escalates to the second group, then aborts', async () => {
    const id = await env.start('operator1', 'readiness', { fixture: 'quick-gate' });
    await env.waitFor(id, (r) => gateOf(r, 'declare')?.phase === 'escalated', 20_000);
    const done = await env.waitFor(id, finished, 30_000);
    expect(done.status.phase).toBe('aborted');
    expect(done.status.error).toMatch(/timed out with 0 of 2 approvals/);
    const kinds = (await env.trail.readRun(id)).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['approval-requested', 'gate-escalated', 'gate-decided', 'run-aborted']));
  }, 60_000);
});

describe('failing steps and operator decisions', () => {
  const failing = async (tag: string, failures: number) => {
    await env.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: failures });
    const id = await env.start('operator1', 'readiness', { fixture: 'faulty', tag });
    const r = await env.waitFor(id, (x) => stepState('failing', 'waiting-decision')(x) && x.status.steps.failing.lastError !== undefined);
    expect(r.status.steps.failing.attempt).toBe(2); // the step's retry policy: two attempts
    expect(r.status.steps.failing.lastError).toMatch(/Injected fault/);
    return id;
  };
  const decide = (id: string, decision: string) => env.call('operator2', 'POST', `runs/${id}/steps/failing/decision`, { decision, comment: `${decision} it` });

  it('retry: a new attempt runs (and succeeds once the fault is spent)', async () => {
    const id = await failing('retry', 2);
    expect((await decide(id, 'retry')).status).toBe(202);
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps.failing).toMatchObject({ state: 'succeeded', attempt: 3, decisions: [{ decision: 'retry', by: 'operator2' }] });
    const keys = (await env.trail.readRun(id)).map((e) => e.key);
    expect(keys).toEqual(expect.arrayContaining(['step:failing:attempt:1:result', 'step:failing:attempt:2:result', 'step:failing:attempt:2:decision', 'step:failing:attempt:3:result']));
  }, 60_000);

  it('skip: the step is skipped and its dependants run', async () => {
    const id = await failing('skip', 2);
    await decide(id, 'skip');
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps.failing.state).toBe('skipped');
    expect(done.status.steps.after.state).toBe('succeeded');
  }, 60_000);

  it('abort: the run ends aborted and nothing after it runs', async () => {
    const id = await failing('abort', 2);
    await decide(id, 'abort');
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('aborted');
    expect(done.status.steps.failing.state).toBe('failed');
    expect(done.status.steps.after.state).toBe('cancelled');
  }, 60_000);

  it('refuses a decision for a step that is not waiting for one, and a bad body', async () => {
    const id = await env.start('operator1', 'readiness', { fixture: 'manual', lock: 'test:refusals' });
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    expect((await env.call('bob', 'POST', `runs/${id}/steps/read-pool/decision`, { decision: 'retry' })).status).toBe(409);
    expect((await env.call('bob', 'POST', `runs/${id}/steps/recreate-log-shipping/decision`, { decision: 'maybe' })).status).toBe(400);
    expect((await env.call('bob', 'POST', 'runs/run-nope/steps/x/decision', { decision: 'retry' })).status).toBe(404);
    expect((await env.call(undefined, 'POST', `runs/${id}/cancel`, { reason: 'x' })).status).toBe(401);
    await env.call('bob', 'POST', `runs/${id}/cancel`, { reason: 'cleanup' });
    await env.waitFor(id, finished);
  }, 60_000);
});

describe('manual steps, cancellation and locks', () => {
  it('a manual step waits for its confirmation', async () => {
    const id = await env.start('operator1', 'readiness', { fixture: 'manual', lock: 'test:confirm' });
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    expect((await env.call('carol', 'POST', `runs/${id}/steps/recreate-log-shipping/confirm`, { comment: 'wizard done' })).status).toBe(202);
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps['recreate-log-shipping'].decisions[0]).toMatchObject({ decision: 'confirm', by: 'carol' });
    expect((await env.trail.readRun(id)).find((e) => e.kind === 'manual-confirmed')?.actor).toBe('carol');
  }, 60_000);

  it('cancel: waiting steps are cancelled, the run ends cancelled and its locks are released; a second run on a held lock is refused', async () => {
    const id = await env.start('operator1', 'readiness', { fixture: 'manual', lock: 'test:cancel' });
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    const refused = await env.call('operator1', 'POST', 'runs', { runbook: 'readiness', options: { fixture: 'manual', lock: 'test:cancel' } });
    expect(refused).toMatchObject({ status: 409, body: { lock: 'test:cancel', heldBy: id, error: expect.stringMatching(new RegExp(`^lock test:cancel is held by run ${id} since .*: only one run may act on it at a time$`)) } });

    expect((await env.call('bob', 'POST', `runs/${id}/cancel`, { reason: 'drill called off' })).status).toBe(202);
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('cancelled');
    expect(done.status.cancelRequested).toMatchObject({ by: 'bob', reason: 'drill called off' });
    expect(done.status.steps['recreate-log-shipping'].state).toBe('cancelled');
    expect(done.status.steps.after.state).toBe('cancelled');
    expect((await env.call('bob', 'POST', `runs/${id}/cancel`, { reason: 'again' })).status).toBe(409);

    const third = await env.start('operator1', 'readiness', { fixture: 'manual', lock: 'test:cancel' });
    await env.waitFor(third, stepState('recreate-log-shipping', 'waiting-confirmation'));
    await env.call('bob', 'POST', `runs/${third}/cancel`, { reason: 'cleanup' });
    await env.waitFor(third, finished);
  }, 90_000);

  it('lists runs and answers 404 / 400', async () => {
    const list = await env.call('alice', 'GET', 'runs');
    expect(list.status).toBe(200);
    expect(list.body.runs.length).toBeGreaterThan(3);
    expect((await env.call('alice', 'GET', 'runs/run-unknown')).status).toBe(404);
    expect((await env.call('alice', 'POST', 'runs', { runbook: 'no-such' })).status).toBe(400);
    expect((await env.call('alice', 'POST', 'runs', '{not json')).status).toBe(400);
  });
});
