// Time-outs and gates in live runs, with the decision and confirmation time-outs shortened by
// configuration: an unanswered decision aborts, an unconfirmed manual step aborts, a run waits
// for its maintenance window, cancel reaches a waiting gate, the escalation group's vote counts
// once the gate escalates, and the vote API refuses what it cannot route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/host.js';
import { finished, phase, runsSettings, startRunsEnv, stepState, type RunsEnv } from './support.js';

const TIMEOUT_MINUTES = 0.05;
const approvers = { primary: ['alice', 'bob', 'carol'], escalation: ['dave'] };
let env: RunsEnv;
beforeAll(async () => {
  env = await startRunsEnv({ settings: {
    LYNCDR_DECISION_TIMEOUT_MINUTES: String(TIMEOUT_MINUTES),
    LYNCDR_CONFIRM_TIMEOUT_MINUTES: String(TIMEOUT_MINUTES),
    LYNCDR_APPROVAL_POLICIES: JSON.stringify({
      ...JSON.parse(runsSettings('unused').LYNCDR_APPROVAL_POLICIES),
      // Escalates after 3 s; then an hour for the escalation group to answer.
      escalating: { required: 2, approverGroups: approvers, timeoutMinutes: TIMEOUT_MINUTES, escalationTimeoutMinutes: 60 },
    }),
  } });
}, 60_000);
afterAll(async () => { await env?.stop(); });

// Bounds from the configuration: the time-out itself plus room for a busy machine.
const afterTimeout = TIMEOUT_MINUTES * 60_000 + 30_000;

describe('decision and confirmation time-outs', () => {
  it('a failed step nobody decides on is aborted by lyncdr when the decision time-out passes', async () => {
    await env.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: 2 });
    const id = await env.start('operator1', 'readiness', { fixture: 'faulty', tag: 'decision-timeout' });
    await env.waitFor(id, stepState('failing', 'waiting-decision'));
    const done = await env.waitFor(id, finished, afterTimeout);
    expect(done.status.phase).toBe('aborted');
    expect(done.status.steps.failing).toMatchObject({ state: 'failed', decisions: [{ decision: 'abort', by: 'lyncdr' }] });
    expect(done.status.steps.after.state).toBe('cancelled');
    const decision = (await env.trail.readRun(id)).find((e) => e.key === 'step:failing:attempt:2:decision');
    expect(decision).toMatchObject({ kind: 'operator-decision', actor: 'lyncdr', data: { decision: 'abort', comment: `no decision within ${TIMEOUT_MINUTES} minutes` } });
  }, 90_000);

  it('a manual step nobody confirms aborts the run when the confirmation time-out passes', async () => {
    const id = await env.start('operator1', 'readiness', { fixture: 'manual', lock: 'test:confirm-timeout' });
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    const done = await env.waitFor(id, finished, afterTimeout);
    expect(done.status.phase).toBe('aborted');
    expect(done.status.steps['recreate-log-shipping']).toMatchObject({ state: 'failed', lastError: `manual step recreate-log-shipping was not confirmed within ${TIMEOUT_MINUTES} minutes` });
    expect(done.status.steps.after.state).toBe('cancelled');
    expect((await env.trail.readRun(id)).some((e) => e.kind === 'manual-confirmed')).toBe(false);
  }, 90_000);
});

describe('a deadline that passes while the run refuses a forged event (executor version 11)', () => {
  /** Raises `event` ten at a time without pause for `ms`, or until the run has ended (410). */
  const flood = async (id: string, event: string, body: (n: number) => unknown, ms: number) => {
    const durable = api(env.host);
    const until = Date.now() + ms;
    let n = 0;
    await Promise.all(Array.from({ length: 10 }, async () => {
      while (Date.now() < until) if ((await durable.raise(id, event, body(n++))) !== 202) return;
    }));
    return n;
  };

  it('forged decisions raised past the decision deadline do not hold the step: lyncdr aborts it', async () => {
    await env.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: 2 });
    const id = await env.start('operator1', 'readiness', { fixture: 'faulty', tag: 'decision-flood' });
    await env.waitFor(id, stepState('failing', 'waiting-decision'));
    // Past the deadline: it fires while the run is busy refusing one of them.
    const raised = await flood(id, 'decision:failing', (n) => ({ decision: 'skip', by: `forger-${n}` }), TIMEOUT_MINUTES * 60_000 + 3000);
    expect(raised).toBeGreaterThan(10);
    const done = await env.waitFor(id, finished, afterTimeout);
    expect(done.status.phase).toBe('aborted');
    expect(done.status.steps.failing.decisions).toEqual([expect.objectContaining({ decision: 'abort', by: 'lyncdr' })]);
  }, 90_000);

  it('forged confirmations raised past the confirmation deadline do not hold the manual step: the run aborts', async () => {
    const id = await env.start('operator1', 'readiness', { fixture: 'manual', lock: 'test:confirm-flood' });
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    const raised = await flood(id, 'confirm:recreate-log-shipping', (n) => ({ by: `forger-${n}`, comment: 'forged' }), TIMEOUT_MINUTES * 60_000 + 3000);
    expect(raised).toBeGreaterThan(10);
    const done = await env.waitFor(id, finished, afterTimeout);
    expect(done.status.phase).toBe('aborted');
    expect(done.status.steps['recreate-log-shipping'].lastError).toBe(`manual step recreate-log-shipping was not confirmed within ${TIMEOUT_MINUTES} minutes`);
  }, 90_000);
});

describe('maintenance window', () => {
  it('the run waits for its window before its first command, then runs', async () => {
    const startsAt = new Date(Date.now() + 4000).toISOString();
    const id = await env.start('operator1', 'readiness', { fixture: 'window', tag: 'w', startsAt });
    const waiting = await env.waitFor(id, phase('waiting-window'));
    expect(waiting.status.windowOpensAt).toBe(startsAt);
    expect(waiting.status.steps['read-pool'].state).toBe('pending');
    const done = await env.waitFor(id, finished, 4000 + 30_000);
    expect(done.status.phase).toBe('succeeded');
    const dispatched = (await env.trail.readRun(id)).find((e) => e.kind === 'step-dispatched');
    expect(Date.parse(dispatched!.at)).toBeGreaterThanOrEqual(Date.parse(startsAt));
  }, 60_000);
});

describe('gates in a live run', () => {
  it('cancel while a gate waits: the gate and the run end cancelled, and a vote then is refused', async () => {
    const id = await env.start('operator1', 'fe-pool-failover', { pool: 'eepool1.contoso.com' });
    await env.waitFor(id, stepState('declare-disaster', 'waiting-approval'));
    expect((await env.call('bob', 'POST', `runs/${id}/cancel`, { reason: 'false alarm' })).status).toBe(202);
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('cancelled');
    expect(done.status.steps['declare-disaster'].state).toBe('cancelled');
    expect(done.gates['declare-disaster'].status).toBe('cancelled');
    expect(done.status.steps['pool-failover-eepool1'].state).toBe('cancelled');
    const late = await env.vote('carol', id, 'approve');
    expect(late).toMatchObject({ status: 409, body: { code: 'gate-closed', error: 'no approval gate of this run is waiting for votes' } });
  }, 60_000);

  it('the escalation group may vote only once the gate escalates, and its vote counts', async () => {
    const id = await env.start('operator1', 'readiness', { fixture: 'quick-gate', policy: 'escalating', tag: 'escalation' });
    await env.waitFor(id, stepState('declare', 'waiting-approval'));
    expect((await env.vote('bob', id, 'approve')).body.outcome).toBe('accepted');
    const early = await env.vote('dave', id, 'approve');
    expect(early.body).toMatchObject({ outcome: 'refused' });
    expect(early.body.reason ?? early.body.error).toMatch(/escalation group, which may vote only after the gate escalates/);
    await env.waitFor(id, (r) => r.gates?.declare?.phase === 'escalated', afterTimeout);
    const late = await env.vote('dave', id, 'approve');
    expect(late.body).toMatchObject({ outcome: 'accepted', gate: { status: 'approved', approvers: ['bob', 'dave'] } });
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('succeeded');
    const kinds = (await env.trail.readRun(id)).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['approval-requested', 'gate-escalated', 'gate-decided']));
  }, 90_000);

  it('refuses a vote when no gate waits, and one that does not say which of several open gates it is for', async () => {
    const manual = await env.start('operator1', 'readiness', { fixture: 'manual', lock: 'test:no-gate' });
    await env.waitFor(manual, stepState('recreate-log-shipping', 'waiting-confirmation'));
    expect(await env.vote('bob', manual, 'approve')).toMatchObject({ status: 409, body: { code: 'gate-closed', error: 'no approval gate of this run is waiting for votes' } });
    expect((await env.call('bob', 'POST', `runs/${manual}/cancel`, { reason: 'cleanup' })).status).toBe(202);

    const id = await env.start('operator1', 'readiness', { fixture: 'two-gates', tag: 'refusals' });
    await env.waitFor(id, (r) => stepState('gate-a', 'waiting-approval')(r) && stepState('gate-b', 'waiting-approval')(r));
    expect(await env.vote('bob', id, 'approve')).toMatchObject({ status: 400, body: { error: 'several gates are open (gate-a, gate-b): name one with "step"' } });
    expect((await env.vote('bob', id, 'approve', { step: 'gate-b' })).body).toMatchObject({ outcome: 'accepted', gate: { stepId: 'gate-b' } });
    expect((await env.call('bob', 'POST', `runs/${id}/cancel`, { reason: 'cleanup' })).status).toBe(202);
    await env.waitFor(manual, finished);
    await env.waitFor(id, finished);
  }, 60_000);
});
