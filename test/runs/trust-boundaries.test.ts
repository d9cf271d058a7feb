// Issue 13 §1, §2, §5: only what the API signed counts. An attacker who can use the Durable
// management API raises votes, confirmations, decisions and cancels with any identity, and starts
// runs with policies of their own; over the real local stack none of that counts, the trail says
// so, and the same decision through the API counts. Refused votes stay bounded in the gate's status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSED_AUDITED_PER_VOTER, REFUSED_SHOWN } from '../../orchestrations/approval/approval-gate.js';
import { runConfigFrom, appSettings, EXECUTOR_VERSION } from '../../shared/config/index.js';
import { gateInstanceId } from '../../shared/runs/contract.js';
import { seal, sign } from '../../functions/runs/signing.js';
import { api, type Api } from '../support/host.js';
import { DECISION_KEY, finished, startRunsEnv, stepState, trailUntil as trailUntilIn, type RunsEnv } from './support.js';

let env: RunsEnv;
let durable: Api;
beforeAll(async () => {
  env = await startRunsEnv({ settings: { LYNCDR_OPERATORS: '["operator", "operator1"]' } });
  durable = api(env.host);
}, 60_000);
afterAll(async () => { await env?.stop(); });

const BAD_SIG = 'A'.repeat(43);
const trailOf = (id: string) => env.trail.readRun(id);
const trailUntil = (id: string, pred: (e: Awaited<ReturnType<typeof trailOf>>) => boolean) => trailUntilIn(env.trail, id, pred);
const refusals = (t: Awaited<ReturnType<typeof trailOf>>, kind: string) =>
  t.filter((e) => /^run:refused:|:refused-cancel:/.test(e.key) && (e.data as { refused?: string }).refused === kind);

describe('decisions that bypass the API (§1)', () => {
  it('votes and cancels raised straight into the gate and the run do not count, and are audited as refused; the same through the API count', async () => {
    const id = await env.start('operator', 'site-failover', { failedSite: 'East' });
    await env.waitFor(id, stepState('declare-disaster', 'waiting-approval'), 30_000);
    const gateId = gateInstanceId(id, 'declare-disaster');
    await durable.waitFor(gateId, (s) => s?.runtimeStatus === 'Running');
    const planHash = (await env.run(id)).status.planHash as string;
    const vote = (voteId: string, approver: string, extra = {}) => ({ voteId, approver, decision: 'approve', planHash, channel: 'http', ...extra });
    expect(await durable.raise(gateId, 'vote', vote('forged-unsigned', 'alice'))).toBe(202);
    expect(await durable.raise(gateId, 'vote', vote('forged-bad-sig', 'bob', { signedAt: new Date().toISOString(), sig: BAD_SIG }))).toBe(202);
    const g = await durable.waitFor(gateId, (s) => (s?.customStatus?.votes ?? []).length === 2);
    expect(g.customStatus.votes).toEqual([
      expect.objectContaining({ voteId: 'forged-unsigned', approver: 'alice', outcome: 'refused', code: 'bad-signature', reason: expect.stringMatching(/not signed/) }),
      expect.objectContaining({ voteId: 'forged-bad-sig', approver: 'bob', outcome: 'refused', code: 'bad-signature', reason: expect.stringMatching(/signature does not match/) }),
    ]);
    expect(g.customStatus.approvers).toEqual([]);
    const t = await trailUntil(id, (e) => e.filter((x) => x.kind === 'vote').length === 2);
    expect(t.filter((x) => x.kind === 'vote').map((x) => x.data)).toEqual([
      expect.objectContaining({ voteId: 'forged-unsigned', outcome: 'refused', code: 'bad-signature' }),
      expect.objectContaining({ voteId: 'forged-bad-sig', outcome: 'refused', code: 'bad-signature' }),
    ]);

    // A forged cancel on the run and on its gate: the run and the gate go on.
    expect(await durable.raise(id, 'cancel', { by: 'operator', reason: 'forged' })).toBe(202);
    expect(await durable.raise(gateId, 'cancel', { by: 'operator', reason: 'forged', sig: BAD_SIG })).toBe(202);
    const afterCancel = await trailUntil(id, (e) => refusals(e, 'cancel').length === 2);
    expect(refusals(afterCancel, 'cancel')).toEqual([
      expect.objectContaining({ actor: 'lyncdr', data: expect.objectContaining({ claimedBy: 'operator', target: 'run', reason: expect.stringMatching(/not signed/) }) }),
      expect.objectContaining({ actor: 'lyncdr', data: expect.objectContaining({ claimedBy: 'operator', reason: expect.stringMatching(/signature does not match/) }) }),
    ]);
    expect((await env.run(id)).status.cancelRequested).toBeUndefined();
    expect((await durable.status(gateId)).runtimeStatus).toBe('Running');

    // Through the API: alice's and bob's votes count, then the operator's cancel.
    expect((await env.vote('alice', id, 'approve')).body).toMatchObject({ outcome: 'accepted' });
    expect((await env.vote('bob', id, 'approve')).body).toMatchObject({ outcome: 'accepted' });
    await env.waitFor(id, stepState('declare-disaster', 'succeeded'));
    expect((await env.call('operator', 'POST', `runs/${id}/cancel`, { reason: 'test over' })).status).toBe(202);
    const done = await env.waitFor(id, finished, 60_000);
    expect(done.status).toMatchObject({ phase: 'cancelled', cancelRequested: { by: 'operator', reason: 'test over' } });
  }, 120_000);

  it('confirmations and decisions raised straight into the run do not count; through the API they do', async () => {
    const id = await env.start('operator', 'readiness', { fixture: 'manual', lock: 'test:signed-manual' });
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    expect(await durable.raise(id, 'confirm:recreate-log-shipping', { by: 'operator', comment: 'forged' })).toBe(202);
    expect(await durable.raise(id, 'confirm:recreate-log-shipping', { by: 'operator', comment: 'forged', signedAt: new Date().toISOString(), sig: BAD_SIG })).toBe(202);
    const t = await trailUntil(id, (e) => refusals(e, 'confirm').length === 2);
    expect(refusals(t, 'confirm').map((e) => e.data)).toEqual([
      expect.objectContaining({ claimedBy: 'operator', target: 'recreate-log-shipping', reason: expect.stringMatching(/not signed/) }),
      expect.objectContaining({ claimedBy: 'operator', reason: expect.stringMatching(/signature does not match/) }),
    ]);
    expect(t.filter((e) => e.kind === 'manual-confirmed')).toEqual([]);
    expect((await env.run(id)).status.steps['recreate-log-shipping'].state).toBe('waiting-confirmation');
    expect((await env.call('operator', 'POST', `runs/${id}/steps/recreate-log-shipping/confirm`, { comment: 'done' })).status).toBe(202);
    expect((await env.waitFor(id, finished)).status.phase).toBe('succeeded');

    await env.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: 2 });
    const f = await env.start('operator', 'readiness', { fixture: 'faulty', tag: 'signed' });
    await env.waitFor(f, stepState('failing', 'waiting-decision'));
    expect(await durable.raise(f, 'decision:failing', { decision: 'skip', by: 'operator1' })).toBe(202);
    const ft = await trailUntil(f, (e) => refusals(e, 'decision').length === 1);
    expect(refusals(ft, 'decision')[0].data).toMatchObject({ claimedBy: 'operator1', target: 'failing', reason: expect.stringMatching(/not signed/) });
    expect((await env.run(f)).status.steps.failing.state).toBe('waiting-decision');
    expect((await env.call('operator1', 'POST', `runs/${f}/steps/failing/decision`, { decision: 'abort', comment: 'test' })).status).toBe(202);
    expect((await env.waitFor(f, finished)).status.phase).toBe('aborted');
  }, 90_000);
});

describe('events raised at once, while the run is busy with the first (executor version 11)', () => {
  it('four forged confirmations and four forged cancels raised together are each refused and audited; none is lost, and the API\'s confirmation still counts', async () => {
    const id = await env.start('operator', 'readiness', { fixture: 'manual', lock: 'test:at-once' });
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    // Raised together, several land in one batch: the run verifies the first while the rest wait.
    const n = 4;
    const codes = await Promise.all([
      ...Array.from({ length: n }, (_, i) => durable.raise(id, 'confirm:recreate-log-shipping', { by: 'operator', comment: `forged ${i}` })),
      ...Array.from({ length: n }, (_, i) => durable.raise(id, 'cancel', { by: 'operator', reason: `forged ${i}` })),
    ]);
    expect(codes).toEqual(Array(2 * n).fill(202));
    const t = await trailUntil(id, (e) => refusals(e, 'confirm').length + refusals(e, 'cancel').length === 2 * n);
    expect([refusals(t, 'confirm').length, refusals(t, 'cancel').length]).toEqual([n, n]);
    expect((await env.run(id)).status).toMatchObject({ phase: 'running', steps: { 'recreate-log-shipping': { state: 'waiting-confirmation' } } });
    expect((await env.call('operator', 'POST', `runs/${id}/steps/recreate-log-shipping/confirm`, { comment: 'done' })).status).toBe(202);
    expect((await env.waitFor(id, finished)).status.phase).toBe('succeeded');
  }, 90_000);

  it('two forged votes, then three forged cancels raised together at the gate: each is refused and audited, the gate stays open, then two votes through the API approve it', async () => {
    const id = await env.start('operator', 'readiness', { fixture: 'quick-gate', policy: 'default', tag: 'at-once' });
    await env.waitFor(id, stepState('declare', 'waiting-approval'));
    const gateId = gateInstanceId(id, 'declare');
    // The step waits before its gate instance exists: raise into it once it runs.
    await durable.waitFor(gateId, (s) => s?.runtimeStatus === 'Running');
    const planHash = (await env.run(id)).status.planHash as string;
    // Each vote the gate takes is one more wait on the same open cancel wait...
    for (const a of ['alice', 'bob']) expect(await durable.raise(gateId, 'vote', { voteId: `forged-${a}`, approver: a, decision: 'approve', planHash, channel: 'http' })).toBe(202);
    await durable.waitFor(gateId, (g) => (g?.customStatus?.votes ?? []).length === 2);
    // ...so cancels raised together then meet the gate busy with the first.
    expect(await Promise.all(['x', 'y', 'z'].map((r) => durable.raise(gateId, 'cancel', { by: 'operator', reason: `forged ${r}` })))).toEqual([202, 202, 202]);
    const votes = (e: Awaited<ReturnType<typeof trailOf>>) => e.filter((x) => /^gate:declare:vote:\d+$/.test(x.key));
    const t = await trailUntil(id, (e) => refusals(e, 'cancel').length === 3 && votes(e).length === 2);
    expect(votes(t).map((x) => (x.data as { outcome: string }).outcome)).toEqual(['refused', 'refused']);
    expect((await durable.status(gateId)).customStatus).toMatchObject({ status: 'pending', approvers: [] });
    expect((await env.vote('alice', id, 'approve')).body).toMatchObject({ outcome: 'accepted' });
    expect((await env.vote('bob', id, 'approve')).body).toMatchObject({ outcome: 'accepted' });
    expect((await env.waitFor(id, finished)).status.phase).toBe('succeeded');
  }, 90_000);
});

describe('signed events are single-use, fresh and bound to the failure they answer (§1, executor version 8)', () => {
  /** The events raised into an instance, as its history keeps them (the management API shows their bodies). */
  const raised = async (id: string, name: string) => ((await durable.status(id, '?showHistory=true&showHistoryOutput=true')).historyEvents as Array<{ EventType: string; FunctionName?: string; Input?: any }>)
    .filter((e) => e.EventType === 'EventRaised' && e.FunctionName === name).map((e) => e.Input);
  const waitingOn = (attempt: number) => (r: any) => stepState('failing', 'waiting-decision')(r) && r.status.steps.failing.attempt === attempt;

  it("a decision captured from history and raised again does not count (replayed); one for attempt 2's failure does not answer attempt 3's; a stale one does not count", async () => {
    await env.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: 3 });
    const f = await env.start('operator', 'readiness', { fixture: 'faulty', tag: 'replay' });
    await env.waitFor(f, waitingOn(2));
    expect((await env.call('operator', 'POST', `runs/${f}/steps/failing/decision`, { decision: 'retry', comment: 'once more' })).status).toBe(202);
    await env.waitFor(f, waitingOn(3));
    const [captured] = await raised(f, 'decision:failing');
    expect(captured).toMatchObject({ decision: 'retry', by: 'operator', attempt: 2, nonce: expect.any(String), sig: expect.any(String) });

    expect(await durable.raise(f, 'decision:failing', captured)).toBe(202);
    const signedFor = { kind: 'decision' as const, runId: f, target: 'failing' };
    expect(await durable.raise(f, 'decision:failing', sign(DECISION_KEY, signedFor, { decision: 'skip', by: 'operator', attempt: 2 }))).toBe(202);
    expect(await durable.raise(f, 'decision:failing', sign(DECISION_KEY, signedFor, { decision: 'skip', by: 'operator', attempt: 3 }, new Date(Date.now() - 20 * 60_000)))).toBe(202);
    const t = await trailUntil(f, (e) => refusals(e, 'decision').length === 3);
    expect(refusals(t, 'decision').map((e) => [e.actor, e.data])).toEqual([
      ['lyncdr', expect.objectContaining({ claimedBy: 'operator', target: 'failing', code: 'replayed', reason: expect.stringMatching(/^replayed: /) })],
      ['lyncdr', expect.objectContaining({ code: 'wrong-attempt', reason: 'the decision answers attempt 2, but the step waits for a decision on attempt 3' })],
      ['lyncdr', expect.objectContaining({ code: 'stale', reason: expect.stringMatching(/more than 15 minutes from .* \(LYNCDR_DECISION_MAX_AGE_MINUTES\): it is stale$/) })],
    ]);
    // Only the decision the API raised counted; the step still waits on attempt 3.
    expect(t.filter((e) => e.kind === 'operator-decision' && e.actor === 'operator').map((e) => e.key)).toEqual(['step:failing:attempt:2:decision']);
    expect((await env.run(f)).status.steps.failing).toMatchObject({ state: 'waiting-decision', attempt: 3 });
    expect((await env.call('operator', 'POST', `runs/${f}/steps/failing/decision`, { decision: 'abort', comment: 'test over' })).status).toBe(202);
    expect((await env.waitFor(f, finished)).status.phase).toBe('aborted');
  }, 90_000);

  it('a vote captured from the gate\'s history and raised again is refused as replayed and audited', async () => {
    const id = await env.start('operator', 'readiness', { fixture: 'quick-gate', policy: 'default', tag: 'replay' });
    await env.waitFor(id, stepState('declare', 'waiting-approval'));
    const gateId = gateInstanceId(id, 'declare');
    expect((await env.vote('alice', id, 'approve')).body).toMatchObject({ outcome: 'accepted' });
    const [captured] = await raised(gateId, 'vote');
    expect(captured).toMatchObject({ approver: 'alice', nonce: expect.any(String), sig: expect.any(String) });
    expect(await durable.raise(gateId, 'vote', captured)).toBe(202);
    const g = await durable.waitFor(gateId, (s) => (s?.customStatus?.votes ?? []).length === 2);
    expect(g.customStatus.votes[1]).toMatchObject({ voteId: captured.voteId, approver: 'alice', outcome: 'refused', code: 'replayed' });
    expect(g.customStatus).toMatchObject({ approvers: ['alice'], status: 'pending' });
    const t = await trailUntil(id, (e) => e.filter((x) => x.kind === 'vote').length === 2);
    expect(t.filter((x) => x.kind === 'vote').map((x) => (x.data as { outcome: string; code?: string }).code ?? (x.data as { outcome: string }).outcome)).toEqual(['accepted', 'replayed']);
    expect((await env.call('operator', 'POST', `runs/${id}/cancel`, { reason: 'test over' })).status).toBe(202);
    expect((await env.waitFor(id, finished)).status.phase).toBe('cancelled');
  }, 60_000);
});

describe('policies come from configuration (§2)', () => {
  const forged = (runId: string, extra: Record<string, unknown> = {}) => ({
    runId, runbook: 'readiness', options: { fixture: 'manual', lock: `test:${runId}` }, mode: 'drill', requestedBy: 'mallory', requestedAt: new Date().toISOString(),
    config: { ...runConfigFrom(appSettings({ ...process.env, ...env.values })), executorVersion: EXECUTOR_VERSION,
      approvalPolicies: { default: { required: 1, approverGroups: { primary: ['mallory'] }, timeoutMinutes: 30, escalationTimeoutMinutes: 30 } } },
    ...extra,
  });

  it('a run started straight through the Durable API, with a one-person policy naming its own approver, does nothing and fails with the reason', async () => {
    for (const [runId, extra] of [['forged-unsigned-1', {}], ['forged-bad-sig-1', { sig: BAD_SIG }]] as const) {
      await durable.start('runPlan', forged(runId, extra), runId);
      const s = await durable.waitFor(runId);
      expect(s.output).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/not started by the lyncdr API/) });
      const t = await trailOf(runId);
      // Nothing declared, planned, locked or dispatched: the run's only entry is its end.
      expect(t.map((e) => e.kind)).toEqual(['run-failed']);
      expect(t[0].data).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/not started by the lyncdr API/) });
    }
  }, 60_000);

  it('a run started straight through the Durable API naming executor version 4, or none, does nothing and fails with the reason (no downgrade)', async () => {
    // Before the fix such a run skipped checkStart and ran its first step (a command on West) at once.
    const legacy = (runId: string, executorVersion: number | undefined) => {
      const f = forged(runId, { requestedBy: 'mallory' });
      const { executorVersion: _v, ...config } = f.config;
      return { ...f, config: executorVersion === undefined ? config : { ...config, executorVersion } };
    };
    for (const [runId, v] of [['forged-v4-1', 4], ['forged-v-none-1', undefined]] as const) {
      await durable.start('runPlan', legacy(runId, v), runId);
      const s = await durable.waitFor(runId);
      expect(s.output).toMatchObject({ outcome: 'failed', error: expect.stringMatching(new RegExp(`names executor version ${v ?? 1}, which new runs may not use`)) });
      const t = await trailOf(runId);
      expect(t.map((e) => e.kind)).toEqual(['run-failed']);
      // No command reached a worker: the simulated estate executed nothing for this run.
      expect((await env.sim.state()).executions.filter((e) => e.commandId.startsWith(`${runId}:`))).toEqual([]);
    }
  }, 60_000);

  it('a run uses the configured policies and records them, whatever its input names', async () => {
    // Signed with the app's key (as if the API had let a policy through): the input's policy is still ignored.
    const runId = 'signed-own-policy-1';
    // The fixture's gate names the policy `quick`, which only the configuration defines (2 of alice, bob, carol).
    const input = seal(DECISION_KEY, { kind: 'run', runId, target: 'run' }, { ...forged(runId), options: { fixture: 'quick-gate' } });
    await durable.start('runPlan', input, runId);
    const gate = await durable.waitFor(gateInstanceId(runId, 'declare'), (s) => s?.customStatus?.status === 'pending');
    expect(gate.customStatus).toMatchObject({ required: 2, eligible: ['alice', 'bob', 'carol'] });
    const t = await trailOf(runId);
    expect(t.find((e) => e.key === 'run:config')?.data).toMatchObject({ approvalPolicies: { default: { required: 2 } }, operators: ['operator', 'operator1'] });
    await env.waitFor(runId, finished);
  }, 60_000);
});

describe('refused votes stay bounded (§5)', () => {
  it('200 refused votes from non-approvers: the gate status keeps the last refusals and a count, each refusal is audited, a voter refused too often is rate-limited', async () => {
    await env.sim.reset();
    const id = await env.start('operator', 'site-failover', { failedSite: 'East' });
    await env.waitFor(id, stepState('declare-disaster', 'waiting-approval'), 30_000);
    const gateId = gateInstanceId(id, 'declare-disaster');
    const answers: number[] = [];
    for (let i = 0; i < 200; i += 5) {
      const batch = await Promise.all([0, 1, 2, 3, 4].map((k) => env.vote(`outsider${i + k}`, id, 'approve')));
      answers.push(...batch.map((b) => b.status));
    }
    expect(answers).toEqual(Array(200).fill(409));
    const g = (await durable.status(gateId)).customStatus;
    expect(g.refusedTotal).toBe(200);
    expect(g.votes).toHaveLength(REFUSED_SHOWN);
    // The last ten received: votes come in batches of five, in any order within a batch.
    expect(g.votes.map((v: { approver: string; code: string }) => [v.approver.replace(/\d$/, ''), v.code])).toEqual(Array(REFUSED_SHOWN).fill(['outsider19', 'not-eligible']));
    // Bound: the fixed fields (under 1,000 characters here) and REFUSED_SHOWN votes of at most
    // voteId 36 + approver 256 + reason 400 + fixed 200 characters each; 200 votes made 46.9 K before.
    expect(JSON.stringify(g).length).toBeLessThan(1000 + REFUSED_SHOWN * 900);
    const t = await trailUntil(id, (e) => e.filter((x) => x.kind === 'vote').length === 200);
    expect(new Set(t.filter((x) => x.kind === 'vote').map((x) => x.actor)).size).toBe(200);

    // One identity: its first refusals are audited, then the API refuses it at once (429) without raising.
    const mine: number[] = [];
    for (let i = 0; i < REFUSED_AUDITED_PER_VOTER + 3; i++) mine.push((await env.vote('mallory', id, 'approve')).status);
    expect(mine).toEqual([...Array(REFUSED_AUDITED_PER_VOTER).fill(409), 429, 429, 429]);
    const after = await trailUntil(id, (e) => e.filter((x) => x.kind === 'vote' && x.actor === 'mallory').length === REFUSED_AUDITED_PER_VOTER);
    expect(after.filter((x) => x.kind === 'vote').length).toBe(200 + REFUSED_AUDITED_PER_VOTER);
    expect((await durable.status(gateId)).customStatus).toMatchObject({ refusedTotal: 200 + REFUSED_AUDITED_PER_VOTER, limited: ['mallory'] });
    expect((await env.call('operator', 'POST', `runs/${id}/cancel`, { reason: 'test over' })).status).toBe(202);
    await env.waitFor(id, finished);
  }, 180_000);
});
