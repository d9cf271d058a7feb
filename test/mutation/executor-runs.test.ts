// Real runs through the in-process stack (stack.ts), asserting what the executor and the approval
// gate record at each turn: the automatic retry and its backoff, the operator's decisions after
// the retries run out, an approved gate starting the RTO clock, a rejection ending the run. They
// kill mutants of orchestrations/executor and orchestrations/approval that the API-level tests
// in test/runs leave alive (see README, "Mutation testing").
import { describe, expect, it } from 'vitest';
import { finished, stepState } from '../runs/support.js';
import { api } from '../support/host.js';
import { stackForFile } from './stack.js';

const stack = stackForFile();
const entries = async (id: string) => stack.env.trail.readRun(id);

describe('automatic retries', () => {
  it('a retryable failure of a retry-safe step is retried after its backoff (timers of 10 ms, then 20 ms) until it succeeds, asking nobody; the run then releases its lock', async () => {
    const { env } = stack;
    await env.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: 2 });
    const id = await env.start('operator1', 'readiness', { fixture: 'three-attempts', tag: 'auto-retry' });
    const done = await env.waitFor(id, finished);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.status.phase).toBe('succeeded');
    expect(done.report.outcome).toBe('succeeded');
    expect(done.status.steps.step).toMatchObject({ state: 'succeeded', attempt: 3 });
    expect(done.status.steps.step.decisions).toBeUndefined();
    expect(await env.executed(id, 'step')).toEqual([`${id}:step:1`, `${id}:step:2`, `${id}:step:3`]);

    const trail = await entries(id);
    const keys = trail.map((e) => e.key);
    expect(keys.filter((k) => k.startsWith('step:'))).toEqual([
      'step:step:attempt:1:dispatched', 'step:step:attempt:1:result',
      'step:step:attempt:2:dispatched', 'step:step:attempt:2:result',
      'step:step:attempt:3:dispatched', 'step:step:attempt:3:result',
    ]);
    const entry = (k: string) => trail.find((e) => e.key === k);
    // The durable timers of the run, from its history: each attempt waits for its result (the
    // step's timeout plus the grace), and between attempts the backoff, firstIntervalMs (10 ms)
    // and then times backoffCoefficient (2).
    const history: Array<{ EventType: string; Timestamp: string; FireAt?: string }> = (await api(env.host).status(id, '?showHistory=true')).historyEvents;
    const resultWait = 10_000 + Number(env.values.LYNCDR_RESULT_GRACE_MS);
    expect(history.filter((e) => e.EventType === 'TimerCreated').map((e) => Date.parse(e.FireAt!) - Date.parse(e.Timestamp))).toEqual([resultWait, 10, resultWait, 20, resultWait]);
    expect(entry('step:step:attempt:1:result')?.data).toMatchObject({ status: 'failed', error: { message: expect.stringMatching(/Injected fault/) } });
    expect(entry('step:step:attempt:3:result')?.data).toMatchObject({ status: 'succeeded', duplicate: false });
    expect(entry('run:end')).toMatchObject({ kind: 'run-completed', data: { outcome: 'succeeded', steps: { step: 'succeeded' } } });
    expect(keys.slice(-2)).toEqual(['run:rto-rpo', 'run:end']);

    // The lock came back: a run on it starts and completes.
    const again = await env.start('operator1', 'readiness', { fixture: 'three-attempts', tag: 'auto-retry' });
    expect((await env.waitFor(again, finished)).status.phase).toBe('succeeded');
  }, 60_000);

  it('once the retries are spent an operator decides: retry runs one more attempt, which failing asks again, and skip lets the dependants run', async () => {
    const { env } = stack;
    await env.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: 3 });
    const id = await env.start('operator1', 'readiness', { fixture: 'faulty', tag: 'decide-twice' });
    const first = await env.waitFor(id, (r) => stepState('failing', 'waiting-decision')(r) && r.status.steps.failing.lastError !== undefined);
    expect(first.status.steps.failing).toMatchObject({ attempt: 2, lastError: expect.stringMatching(/^failed \(execution\): .*Injected fault/) });
    expect(first.status.steps.after.state).toBe('pending');
    expect(await env.decide(id, 'failing', 'retry')).toBe(202);
    await env.waitFor(id, (r) => stepState('failing', 'waiting-decision')(r) && r.status.steps.failing.attempt === 3);
    expect(await env.executed(id, 'failing')).toHaveLength(3);
    expect(await env.decide(id, 'failing', 'skip', 'operator3')).toBe(202);
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps.failing).toMatchObject({
      state: 'skipped', attempt: 3, decisions: [{ decision: 'retry', by: 'operator2' }, { decision: 'skip', by: 'operator3' }],
    });
    expect(done.status.steps.after.state).toBe('succeeded');
    const trail = await entries(id);
    expect(trail.filter((e) => e.kind === 'operator-decision').map((e) => [e.key, e.actor, (e.data as { decision: string; attempt: number }).decision, (e.data as { attempt: number }).attempt])).toEqual([
      ['step:failing:attempt:2:decision', 'operator2', 'retry', 2],
      ['step:failing:attempt:3:decision', 'operator3', 'skip', 3],
    ]);
    expect(trail.find((e) => e.key === 'run:end')).toMatchObject({ kind: 'run-completed', data: { steps: { failing: 'skipped', after: 'succeeded' } } });
  }, 60_000);
});

describe('the approval gate in a run', () => {
  it('approved by two of the primary group: the gate succeeds with its approvers, the RTO clock starts at its decision, and the trail has each turn in order', async () => {
    const { env } = stack;
    const id = await env.start('operator1', 'readiness', { fixture: 'quick-gate', policy: 'default', tag: 'approve' });
    await env.waitFor(id, stepState('declare', 'waiting-approval'));
    expect((await env.vote('bob', id, 'approve')).body).toMatchObject({ outcome: 'accepted', gate: { status: 'pending', approvers: ['bob'] } });
    expect((await env.vote('carol', id, 'approve')).body).toMatchObject({ outcome: 'accepted', gate: { status: 'approved', approvers: ['bob', 'carol'] } });
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps.declare).toMatchObject({ state: 'succeeded', approvers: ['bob', 'carol'] });
    const trail = await entries(id);
    expect(trail.filter((e) => e.key.startsWith('gate:')).map((e) => [e.key, e.kind, e.actor])).toEqual([
      ['gate:declare:requested', 'approval-requested', 'operator1'],
      ['gate:declare:vote:1', 'vote', 'bob'],
      ['gate:declare:vote:2', 'vote', 'carol'],
      ['gate:declare:decided', 'gate-decided', 'lyncdr'],
    ]);
    const decided = trail.find((e) => e.key === 'gate:declare:decided')!.data as { status: string; approvers: string[]; rejectors: string[]; decidedAt: string };
    expect(decided).toMatchObject({ status: 'approved', approvers: ['bob', 'carol'], rejectors: [] });
    expect(done.status.rto).toMatchObject({ from: decided.decidedAt, met: true });
    expect(done.gates.declare).toMatchObject({ status: 'approved', phase: 'primary', required: 2, eligible: [] });
  }, 60_000);

  it('rejected: the run ends rejected with the gate failed and its reason, and the step behind it never runs', async () => {
    const { env } = stack;
    const id = await env.start('operator1', 'readiness', { fixture: 'quick-gate', policy: 'default', tag: 'reject' });
    await env.waitFor(id, stepState('declare', 'waiting-approval'));
    expect((await env.vote('bob', id, 'reject')).body).toMatchObject({ outcome: 'accepted', gate: { status: 'rejected', rejectors: ['bob'] } });
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('rejected');
    expect(done.status.error).toMatch(/^approval declare rejected: \S/);
    expect(done.status.steps.declare).toMatchObject({ state: 'failed', lastError: done.status.error });
    expect(done.status.steps['read-pool'].state).toBe('cancelled');
    expect(await env.executed(id, 'read-pool')).toEqual([]);
    expect(done.status.rto).toMatchObject({ minutes: null, basis: 'no approval gate started the RTO clock' });
    const trail = await entries(id);
    expect(trail.find((e) => e.key === 'gate:declare:decided')?.data).toMatchObject({ status: 'rejected', rejectors: ['bob'], approvers: [] });
    expect(trail.find((e) => e.key === 'run:end')).toMatchObject({ kind: 'run-aborted', data: { outcome: 'rejected', steps: { declare: 'failed', 'read-pool': 'cancelled' } } });
  }, 60_000);
});
