// The approval gate orchestrator (orchestrations/approval) on the in-process host, started as the
// executor starts it (a sub-orchestration instance `<runId>:gate:<stepId>` with a GateInput) and
// fed vote and cancel events through the Durable API, as the runs API raises them. Without a run
// around it, each turn is quick, so StrykerJS can afford it for every mutant of the gate; the
// runs in test/runs and executor-runs.test.ts check the gate inside a run.
import { afterAll, describe, expect, it } from 'vitest';
import { REFUSED_AUDITED_PER_VOTER, REFUSED_SHOWN } from '../../orchestrations/approval/approval-gate.js';
import { gateView } from '../../orchestrations/approval/gate-view.js';
import { applyVote, openGate, type ApprovalPolicy } from '../../shared/approvals/index.js';
import { createAuditTrail } from '../../shared/audit/index.js';
import { seal, sign } from '../../functions/runs/signing.js';
import { gateInstanceId, type GateInput } from '../../shared/runs/contract.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { hostForFile } from '../support/host.js';
import { APP, assertNoTimerHeld, DECISION_KEY, runsSettings } from '../runs/support.js';

const values = runsSettings(uniqueName('g').toLowerCase().slice(0, 12));
const h = hostForFile({ entry: APP, values });
afterAll(() => { assertNoTimerHeld(h.host); });
const trail = createAuditTrail({ connectionString: azurite(), tableName: values.LYNCDR_AUDIT_TABLE });

const groups = { primary: ['alice', 'bob', 'carol'], escalation: ['dave'] };
const policy = (timeoutMinutes = 30, escalationTimeoutMinutes = 30): ApprovalPolicy => ({ required: 2, approverGroups: groups, timeoutMinutes, escalationTimeoutMinutes, rejectionStops: true });
const PLAN_HASH = `sha256:${'a'.repeat(64)}`;

async function openTestGate(o: { policy?: ApprovalPolicy; signed?: boolean; singleUse?: boolean; notify?: boolean } = {}) {
  const runId = uniqueName('run-gate');
  const input: GateInput = {
    runId, stepId: 'declare', title: 'Declare the disaster', reason: 'East is down', planHash: PLAN_HASH, requester: 'operator1',
    policyName: 'default', policy: o.policy ?? policy(), ...(o.signed ? { signedVotes: true } : {}), ...(o.singleUse ? { singleUse: true } : {}), ...(o.notify ? { notify: true, runbook: 'site-failover', runTitle: 'Site failover of East' } : {}),
  };
  const id = await h.api.start('approvalGate', input, gateInstanceId(runId, 'declare'));
  const opened = await h.api.waitFor(id, (s) => s?.customStatus?.status === 'pending');
  const vote = (approver: string, decision: 'approve' | 'reject' = 'approve', voteId = uniqueName('v')) =>
    ({ voteId, approver, decision, planHash: PLAN_HASH, channel: 'http' as const, comment: `${decision} by ${approver}` });
  const signed = (body: Record<string, unknown>) => sign(DECISION_KEY, { kind: 'vote', runId, target: 'gate:declare' }, body);
  const signedCancel = (body: Record<string, unknown>) => sign(DECISION_KEY, { kind: 'cancel', runId, target: 'gate:declare' }, body);
  /** Raises one event and waits until the gate has taken it (`taken` counts what it has taken). */
  const raise = async (event: 'vote' | 'cancel', data: unknown, taken: (s: any) => number) => {
    const before = taken(await h.api.status(id));
    expect(await h.api.raise(id, event, data)).toBe(202);
    return h.api.waitFor(id, (s) => s?.runtimeStatus !== 'Running' || taken(s) > before);
  };
  return { id, runId, input, opened, vote, signed, signedCancel, raise, keys: async () => (await trail.readRun(runId)).map((e) => e.key) };
}
const votesTaken = (s: any) => s?.customStatus?.votes?.length ?? 0;
/** The activities the gate called, in order, from its history: `audit` and `notify`. */
async function activitiesOf(id: string): Promise<string[]> {
  const history: Array<{ EventType: string; FunctionName?: string }> = (await h.api.status(id, '?showHistory=true')).historyEvents;
  return history.filter((e) => e.EventType === 'TaskScheduled').map((e) => (e.FunctionName === 'runs-audit' ? 'audit' : e.FunctionName === 'notify' ? 'notify' : String(e.FunctionName)));
}
const refusedTaken = (s: any) => s?.customStatus?.refusedTotal ?? 0;

describe('the approval gate orchestrator', () => {
  it('counts N of M eligible approvers, refusing an invalid vote, self-approval, a second vote and a voter of the group not yet asked; every vote is audited in order', async () => {
    const g = await openTestGate();
    expect(g.opened.customStatus).toEqual({
      v: 1, runId: g.runId, stepId: 'declare', planHash: PLAN_HASH, status: 'pending', phase: 'primary', required: 2,
      approvers: [], rejectors: [], eligible: ['alice', 'bob', 'carol'], deadline: expect.any(String), votes: [],
    });
    await g.raise('vote', { approver: 'bob' }, votesTaken);
    await g.raise('vote', g.vote('operator1'), votesTaken);
    await g.raise('vote', g.vote('bob', 'approve', 'bob-1'), votesTaken);
    await g.raise('vote', g.vote('bob'), votesTaken);
    const pending = await g.raise('vote', g.vote('dave'), votesTaken);
    expect(pending.customStatus).toMatchObject({ status: 'pending', approvers: ['bob'], eligible: ['alice', 'bob', 'carol'] });
    expect(pending.customStatus.votes.map((v: any) => [v.voteId.startsWith('invalid-') ? v.voteId : v.approver, v.outcome, v.code ?? ''])).toEqual([
      ['invalid-1', 'refused', 'invalid-vote'], ['operator1', 'refused', 'self-approval'], ['bob', 'accepted', ''], ['bob', 'refused', 'duplicate-vote'], ['dave', 'refused', 'not-eligible'],
    ]);
    expect(pending.customStatus.votes[0]).toMatchObject({ approver: 'unknown', decision: 'unknown', reason: expect.stringMatching(/voteId/) });
    await g.raise('vote', g.vote('carol'), votesTaken);
    const done = await h.api.waitFor(g.id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toEqual({ status: 'approved', approvers: ['bob', 'carol'], rejectors: [], decidedAt: expect.any(String) });
    expect(done.customStatus).toMatchObject({ status: 'approved', eligible: [], approvers: ['bob', 'carol'] });
    expect(done.customStatus).not.toHaveProperty('deadline');
    expect(done.customStatus).not.toHaveProperty('refusedTotal');

    const entries = await trail.readRun(g.runId);
    expect(entries.map((e) => [e.key, e.kind, e.actor])).toEqual([
      ['gate:declare:requested', 'approval-requested', 'operator1'],
      ['gate:declare:vote:1', 'vote', 'unknown'],
      ['gate:declare:vote:2', 'vote', 'operator1'],
      ['gate:declare:vote:3', 'vote', 'bob'],
      ['gate:declare:vote:4', 'vote', 'bob'],
      ['gate:declare:vote:5', 'vote', 'dave'],
      ['gate:declare:vote:6', 'vote', 'carol'],
      ['gate:declare:decided', 'gate-decided', 'lyncdr'],
    ]);
    expect(entries[0].data).toEqual({
      stepId: 'declare', title: 'Declare the disaster', reason: 'East is down', planHash: PLAN_HASH, policy: 'default',
      required: 2, approverGroups: groups, timeoutMinutes: 30, escalationTimeoutMinutes: 30,
    });
    expect(entries[3].data).toMatchObject({ voteId: 'bob-1', outcome: 'accepted', comment: 'approve by bob', channel: 'http', planHash: PLAN_HASH });
    expect(entries[7].data).toEqual(done.output);
  }, 60_000);

  it('a rejection decides at once; a gate not asked to notify tells nobody', async () => {
    const g = await openTestGate();
    await g.raise('vote', g.vote('carol', 'reject'), votesTaken);
    const done = await h.api.waitFor(g.id);
    expect(done.output).toMatchObject({ status: 'rejected', approvers: [], rejectors: ['carol'], reason: 'rejected by carol' });
    expect(await activitiesOf(g.id)).toEqual(['audit', 'audit', 'audit']);
  }, 60_000);

  // Executor version 4 (GateInput.notify): people are told when the gate opens and after each
  // change, after its audit entry: a vote (accepted or refused), an escalation, the decision, a cancel.
  it('with notify: the gate tells people when it opens and after every vote and its decision, each after the audit', async () => {
    const g = await openTestGate({ notify: true });
    await expect.poll(() => activitiesOf(g.id), { timeout: 20_000 }).toEqual(['audit', 'notify']);
    await g.raise('vote', g.vote('bob'), votesTaken);
    await g.raise('vote', g.vote('operator1'), votesTaken);
    await g.raise('vote', g.vote('carol'), votesTaken);
    const done = await h.api.waitFor(g.id);
    expect(done.output).toMatchObject({ status: 'approved', approvers: ['bob', 'carol'] });
    expect(await activitiesOf(g.id)).toEqual(['audit', 'notify', 'audit', 'notify', 'audit', 'notify', 'audit', 'notify', 'audit', 'notify']);
  }, 60_000);

  it('with notify: an escalation and the timed-out decision are told; so is a cancel', async () => {
    const late = await openTestGate({ notify: true, policy: policy(0.01, 0.01) });
    expect((await h.api.waitFor(late.id, (s) => s?.runtimeStatus === 'Completed', 30_000)).output).toMatchObject({ status: 'aborted' });
    // requested, escalated, decided: each audited, then told.
    expect(await activitiesOf(late.id)).toEqual(['audit', 'notify', 'audit', 'notify', 'audit', 'notify']);

    const g = await openTestGate({ notify: true });
    await g.raise('cancel', { by: 'carol', reason: 'false alarm' }, () => 0);
    expect((await h.api.waitFor(g.id)).output).toMatchObject({ status: 'cancelled' });
    expect(await activitiesOf(g.id)).toEqual(['audit', 'notify', 'audit', 'notify']);
  }, 60_000);

  it('escalates to the second group when the first deadline passes, then aborts at the second; both are audited', async () => {
    const g = await openTestGate({ policy: policy(0.01, 0.01) });
    const done = await h.api.waitFor(g.id, (s) => s?.runtimeStatus === 'Completed', 30_000);
    expect(done.output).toMatchObject({ status: 'aborted', approvers: [], reason: 'timed out with 0 of 2 approvals' });
    const entries = await trail.readRun(g.runId);
    expect(entries.map((e) => e.key)).toEqual(['gate:declare:requested', 'gate:declare:escalated', 'gate:declare:decided']);
    expect(entries[1]).toMatchObject({ kind: 'gate-escalated', actor: 'lyncdr', data: { added: ['dave'], deadline: expect.any(String) } });
    expect(Date.parse((entries[1].data as { deadline: string }).deadline)).toBeGreaterThan(Date.parse(g.opened.customStatus.deadline));
    expect(done.customStatus).toMatchObject({ status: 'aborted', phase: 'timed-out', eligible: [] });
  }, 60_000);

  it('a cancel ends the gate cancelled, with who cancelled and why', async () => {
    const g = await openTestGate();
    await g.raise('vote', g.vote('bob'), votesTaken);
    await g.raise('cancel', { by: 'carol', reason: 'false alarm' }, () => 0);
    const done = await h.api.waitFor(g.id);
    expect(done.output).toEqual({ status: 'cancelled', approvers: ['bob'], rejectors: [], reason: 'run cancelled by carol: false alarm', decidedAt: expect.any(String) });
    expect(done.customStatus).toMatchObject({ status: 'cancelled', approvers: ['bob'] });
    const decided = (await trail.readRun(g.runId)).at(-1);
    expect(decided).toMatchObject({ key: 'gate:declare:decided', kind: 'gate-decided', actor: 'carol', data: done.output });
    expect(decided?.data).not.toHaveProperty('actorName');

    // A cancel that says nobody and no reason (no API sends one) still ends the gate, said as such, by lyncdr.
    const bare = await openTestGate();
    await bare.raise('cancel', {}, () => 0);
    expect((await h.api.waitFor(bare.id)).output).toMatchObject({ status: 'cancelled', reason: 'run cancelled by unknown: ' });
    expect((await trail.readRun(bare.runId)).at(-1)).toMatchObject({ key: 'gate:declare:decided', actor: 'lyncdr' });
  }, 60_000);

  it('with signed votes: unsigned votes and cancels are refused; a voter refused too often is limited and no longer audited; the status keeps the last refusals', async () => {
    const g = await openTestGate({ signed: true });
    expect(g.opened.customStatus).toMatchObject({ refusedTotal: 0, limited: [] });
    const forged = await g.raise('vote', g.vote('alice'), refusedTaken);
    expect(forged.customStatus.votes).toEqual([expect.objectContaining({ approver: 'alice', outcome: 'refused', code: 'bad-signature', reason: expect.stringMatching(/not signed/) })]);
    expect(forged.customStatus.approvers).toEqual([]);
    // A forged cancel: refused and audited, the gate goes on.
    expect(await h.api.raise(g.id, 'cancel', { by: 'operator1', reason: 'forged' })).toBe(202);
    await expect.poll(async () => (await g.keys()).includes('gate:declare:refused-cancel:1'), { timeout: 20_000 }).toBe(true);
    const refusedCancel = (await trail.readRun(g.runId)).find((e) => e.key === 'gate:declare:refused-cancel:1');
    expect(refusedCancel).toMatchObject({ kind: 'vote', actor: 'lyncdr', data: { refused: 'cancel', claimedBy: 'operator1', reason: expect.stringMatching(/not signed/) } });

    // mallory, signed but not an approver: refused each time; past REFUSED_AUDITED_PER_VOTER, limited.
    for (let i = 0; i <= REFUSED_AUDITED_PER_VOTER; i++) await g.raise('vote', g.signed(g.vote('mallory')), refusedTaken);
    const limited = await h.api.status(g.id);
    expect(limited.customStatus).toMatchObject({ refusedTotal: REFUSED_AUDITED_PER_VOTER + 2, limited: ['mallory'] });
    for (let i = 0; i < 4; i++) await g.raise('vote', g.signed(g.vote(`outsider${i}`)), refusedTaken);
    const trimmed = await h.api.status(g.id);
    const total = REFUSED_AUDITED_PER_VOTER + 6;
    expect(trimmed.customStatus.refusedTotal).toBe(total);
    expect(trimmed.customStatus.votes).toHaveLength(REFUSED_SHOWN);
    expect(trimmed.customStatus.votes.at(-1)).toMatchObject({ approver: 'outsider3', code: 'not-eligible' });
    // alice's forged vote, the oldest refusal, is the one dropped from the status.
    expect(trimmed.customStatus.votes.map((v: any) => v.approver)).toEqual([...Array(REFUSED_AUDITED_PER_VOTER + 1).fill('mallory'), 'outsider0', 'outsider1', 'outsider2', 'outsider3']);

    await g.raise('vote', g.signed(g.vote('bob')), votesTaken);
    await g.raise('vote', g.signed(g.vote('carol')), votesTaken);
    const done = await h.api.waitFor(g.id);
    expect(done.output).toMatchObject({ status: 'approved', approvers: ['bob', 'carol'] });
    const entries = await trail.readRun(g.runId);
    const malloryAudited = entries.filter((e) => e.kind === 'vote' && e.actor === 'mallory');
    expect(malloryAudited).toHaveLength(REFUSED_AUDITED_PER_VOTER);
    expect(entries.at(-1)).toMatchObject({ key: 'gate:declare:decided', data: { status: 'approved', refusedTotal: total, refusedUnaudited: 1 } });
  }, 90_000);
});

describe('single-use signed decisions and signed names (executor 8)', () => {
  it('the same signed vote raised twice counts once (the second is refused as replayed, and not held against the voter); signed names are shown beside the identity, and a signed cancel names its canceller', async () => {
    const g = await openTestGate({ signed: true, singleUse: true });
    const bob = g.signed({ ...g.vote('bob'), approverName: 'Bob Builder' });
    await g.raise('vote', bob, votesTaken);
    const again = await g.raise('vote', bob, refusedTaken);
    expect(again.customStatus.votes.map((v: any) => [v.approver, v.outcome, v.code ?? ''])).toEqual([['bob', 'accepted', ''], ['bob', 'refused', 'replayed']]);
    expect(again.customStatus.votes[0]).toMatchObject({ approverName: 'Bob Builder' });
    expect(again.customStatus.votes[1]).not.toHaveProperty('approverName');
    expect(again.customStatus).toMatchObject({ approvers: ['bob'], refusedTotal: 1, limited: [] });
    // A name that only repeats the identity is not shown.
    await g.raise('vote', g.signed({ ...g.vote('dave'), approverName: 'DAVE' }), votesTaken);
    expect((await h.api.status(g.id)).customStatus.votes[2]).not.toHaveProperty('approverName');

    const replayedCancel = g.signedCancel({ by: 'carol', byName: 'Carol Cook', reason: 'false alarm' });
    await g.raise('cancel', replayedCancel, () => 0);
    const done = await h.api.waitFor(g.id);
    expect(done.output).toEqual({ status: 'cancelled', approvers: ['bob'], rejectors: [], names: { bob: 'Bob Builder' }, reason: 'run cancelled by carol: false alarm', decidedAt: expect.any(String) });
    const entries = await trail.readRun(g.runId);
    expect(entries.find((e) => e.key === 'gate:declare:vote:1')).toMatchObject({ actor: 'bob', data: { actorName: 'Bob Builder', outcome: 'accepted' } });
    expect(entries.find((e) => e.key === 'gate:declare:vote:2')).toMatchObject({ actor: 'bob', data: { outcome: 'refused', code: 'replayed' } });
    expect(entries.at(-1)).toMatchObject({ key: 'gate:declare:decided', actor: 'carol', data: { actorName: 'Carol Cook', status: 'cancelled', names: { bob: 'Bob Builder' } } });
  }, 60_000);

  it('a genuinely signed cancel whose single-use id a vote already took is refused as replayed, audited with who it claims; the gate goes on', async () => {
    const g = await openTestGate({ signed: true, singleUse: true });
    const vote = g.signed(g.vote('bob'));
    await g.raise('vote', vote, votesTaken);
    // Signed with the API's key, fresh, but carrying the nonce the vote used.
    const reused = seal(DECISION_KEY, { kind: 'cancel', runId: g.runId, target: 'gate:declare' }, { by: 'carol', reason: 'false alarm', signedAt: new Date().toISOString(), nonce: vote.nonce });
    expect(await h.api.raise(g.id, 'cancel', reused)).toBe(202);
    await expect.poll(async () => (await g.keys()).includes('gate:declare:refused-cancel:1'), { timeout: 20_000 }).toBe(true);
    expect((await trail.readRun(g.runId)).find((e) => e.key === 'gate:declare:refused-cancel:1'))
      .toMatchObject({ kind: 'vote', actor: 'lyncdr', data: { refused: 'cancel', claimedBy: 'carol', code: 'replayed', reason: expect.stringMatching(/^replayed: /) } });
    expect((await h.api.status(g.id)).runtimeStatus).toBe('Running');
    await g.raise('cancel', g.signedCancel({ by: 'carol', reason: 'false alarm' }), () => 0);
    expect((await h.api.waitFor(g.id)).output).toMatchObject({ status: 'cancelled', reason: 'run cancelled by carol: false alarm' });
  }, 60_000);
});

describe('the gate as its notifications show it (gateView)', () => {
  const input = { runId: 'r', stepId: 'declare', title: 'T'.repeat(600), reason: 'R'.repeat(5000), planHash: PLAN_HASH, requester: 'operator1', policyName: 'default', policy: policy() } as GateInput;
  it('clips its texts, shows the eligible voters and the deadline only while pending, names each vote\'s channel, and keeps the last 200 votes', () => {
    const p = policy();
    let state = openGate({ runId: 'r', planHash: PLAN_HASH, requester: 'operator1', requestedAt: '2026-01-01T00:00:00.000Z' });
    state = applyVote(state, { approver: 'bob', decision: 'approve', planHash: PLAN_HASH, at: '2026-01-01T00:01:00.000Z', channel: 'http' }, p).state;
    const votes = Array.from({ length: 205 }, (_, i) => ({ voteId: `v${i}`, approver: `a${i}`, decision: 'approve', outcome: 'refused' as const, code: 'not-eligible', reason: 'x'.repeat(600), at: '2026-01-01T00:01:00.000Z' }));
    const view = gateView(input, p, state, votes, { v204: 'teams' });
    expect(view).toMatchObject({ stepId: 'declare', status: 'pending', phase: 'primary', required: 2, approvers: ['bob'], rejectors: [], eligible: ['alice', 'bob', 'carol'], deadline: '2026-01-01T00:30:00.000Z', changes: [], changesTotal: 0 });
    expect(view.title).toBe(`${'T'.repeat(499)}…`);
    expect(view.reason).toHaveLength(4000);
    expect(view.votes).toHaveLength(200);
    expect(view.votes[0].approver).toBe('a5');
    expect(view.votes.at(-1)).toEqual({ approver: 'a204', decision: 'approve', outcome: 'refused', at: '2026-01-01T00:01:00.000Z', code: 'not-eligible', reason: `${'x'.repeat(499)}…`, channel: 'teams' });
    expect(view.votes[0]).not.toHaveProperty('channel');
    expect(view).not.toHaveProperty('rtoForecastMinutes');

    const cancelled = gateView({ ...input, changes: [{ id: 's', title: 'S' }], rtoForecastMinutes: 12, rtoTargetMinutes: 30 }, p, state, [], {}, 'cancelled');
    expect(cancelled).toMatchObject({ status: 'cancelled', eligible: [], changes: [{ id: 's', title: 'S' }], changesTotal: 1, rtoForecastMinutes: 12, rtoTargetMinutes: 30 });
    expect(cancelled).not.toHaveProperty('deadline');
  });
});
