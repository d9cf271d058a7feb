// The approval gate's rules, pure: no host, no storage, no clock.
import { describe, it, expect } from 'vitest';
import {
  ApprovalPolicySchema, applyVote, currentDeadline, eligibleApprovers, gateStatus, onTimeout, openGate,
  type ApprovalPolicyInput, type GateState, type VoteInput,
} from '../../shared/approvals/index.js';

const PLAN = 'sha256-' + 'a'.repeat(64);
const OTHER_PLAN = 'sha256-' + 'b'.repeat(64);
const REQUESTED = '2025-03-01T02:00:00.000Z';

const policyOf = (over: Partial<ApprovalPolicyInput> = {}) => ApprovalPolicySchema.parse({
  required: 2,
  approverGroups: { primary: ['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com', 'req@contoso.com'], escalation: ['dave@contoso.com', 'erin@contoso.com'] },
  timeoutMinutes: 30,
  escalationTimeoutMinutes: 15,
  ...over,
});
const gate = () => openGate({ runId: 'run-1', planHash: PLAN, requester: 'req@contoso.com', requestedAt: REQUESTED });
const vote = (approver: string, over: Partial<VoteInput> = {}): VoteInput =>
  ({ approver, decision: 'approve', planHash: PLAN, at: '2025-03-01T02:05:00.000Z', channel: 'teams', ...over });

/** Applies votes that must all be accepted; fails the test on the first refusal. */
function accept(state: GateState, policy: ReturnType<typeof policyOf>, ...votes: VoteInput[]): GateState {
  for (const v of votes) {
    const r = applyVote(state, v, policy);
    expect(r.outcome).toMatchObject({ kind: 'accepted' });
    state = r.state;
  }
  return state;
}

describe('approval gate: N of M', () => {
  it('stays pending below the quorum and is approved when N approvers agree', () => {
    const policy = policyOf();
    let s = accept(gate(), policy, vote('alice@contoso.com'));
    expect(gateStatus(s, policy)).toMatchObject({ status: 'pending', approvers: ['alice@contoso.com'], required: 2, deadline: '2025-03-01T02:30:00.000Z' });
    s = accept(s, policy, vote('Bob@Contoso.com', { channel: 'cli' }));
    expect(gateStatus(s, policy)).toEqual({ status: 'approved', approvers: ['alice@contoso.com', 'bob@contoso.com'], rejectors: [] });
  });

  it('takes no votes once decided', () => {
    const policy = policyOf();
    const s = accept(gate(), policy, vote('alice@contoso.com'), vote('bob@contoso.com'));
    expect(applyVote(s, vote('carol@contoso.com'), policy).outcome).toMatchObject({ kind: 'refused', code: 'gate-closed', reason: expect.stringMatching(/already approved/) });
  });
});

describe('approval gate: refusals, each with a reason', () => {
  const policy = policyOf();

  it('refuses self-approval, whatever the case of the identity', () => {
    const r = applyVote(gate(), vote('REQ@contoso.com'), policy);
    expect(r.outcome).toEqual({ kind: 'refused', code: 'self-approval', reason: 'req@contoso.com requested this run and cannot approve it' });
    expect(r.state).toEqual(gate());
  });

  it('refuses a second vote by the same approver, even a changed one', () => {
    const s = accept(gate(), policy, vote('alice@contoso.com'));
    const r = applyVote(s, vote('alice@contoso.com', { decision: 'reject', comment: 'changed my mind' }), policy);
    expect(r.outcome).toMatchObject({ kind: 'refused', code: 'duplicate-vote', reason: expect.stringMatching(/alice@contoso.com already voted \(approve .* via teams\)/) });
    expect(gateStatus(r.state, policy)).toMatchObject({ status: 'pending', approvers: ['alice@contoso.com'] });
  });

  it('refuses a vote from outside the groups, and from the escalation group before escalation', () => {
    expect(applyVote(gate(), vote('mallory@contoso.com'), policy).outcome).toMatchObject({ kind: 'refused', code: 'not-eligible', reason: expect.stringMatching(/not in the approver groups/) });
    expect(applyVote(gate(), vote('dave@contoso.com'), policy).outcome).toMatchObject({ kind: 'refused', code: 'not-eligible', reason: expect.stringMatching(/only after the gate escalates/) });
  });

  it('refuses a vote for a different plan hash', () => {
    expect(applyVote(gate(), vote('alice@contoso.com', { planHash: OTHER_PLAN }), policy).outcome)
      .toMatchObject({ kind: 'refused', code: 'plan-mismatch', reason: expect.stringMatching(/approve exactly the plan they were shown/) });
  });

  it('refuses a rejection without a comment (a blank one counts as none)', () => {
    expect(applyVote(gate(), vote('alice@contoso.com', { decision: 'reject', comment: '   ' }), policy).outcome)
      .toMatchObject({ kind: 'refused', code: 'comment-required' });
  });

  it('refuses a malformed vote instead of throwing', () => {
    expect(applyVote(gate(), { ...vote('alice@contoso.com'), channel: 'sms' }, policy).outcome).toMatchObject({ kind: 'refused', code: 'invalid-vote', reason: expect.stringMatching(/channel/) });
    expect(applyVote(gate(), 'approve', policy).outcome).toMatchObject({ kind: 'refused', code: 'invalid-vote' });
  });

  it('lets the requester withdraw by rejecting their own request', () => {
    const s = accept(gate(), policy, vote('req@contoso.com', { decision: 'reject', comment: 'wrong pool' }));
    expect(gateStatus(s, policy)).toMatchObject({ status: 'rejected', rejectors: ['req@contoso.com'] });
  });
});

describe('approval gate: rejection', () => {
  it('a rejection stops the gate by default', () => {
    const policy = policyOf();
    const s = accept(gate(), policy, vote('alice@contoso.com'), vote('bob@contoso.com', { decision: 'reject', comment: 'pool02 is in maintenance' }));
    expect(gateStatus(s, policy)).toEqual({ status: 'rejected', approvers: ['alice@contoso.com'], rejectors: ['bob@contoso.com'], reason: 'rejected by bob@contoso.com' });
    expect(applyVote(s, vote('carol@contoso.com'), policy).outcome).toMatchObject({ code: 'gate-closed' });
  });

  it('with rejectionStops false a rejection is recorded and the quorum can still approve', () => {
    const policy = policyOf({ rejectionStops: false });
    let s = accept(gate(), policy, vote('bob@contoso.com', { decision: 'reject', comment: 'prefer tomorrow' }));
    expect(gateStatus(s, policy)).toMatchObject({ status: 'pending', rejectors: ['bob@contoso.com'] });
    s = accept(s, policy, vote('alice@contoso.com'), vote('carol@contoso.com'));
    expect(gateStatus(s, policy)).toEqual({ status: 'approved', approvers: ['alice@contoso.com', 'carol@contoso.com'], rejectors: ['bob@contoso.com'] });
  });

  it('aborts at once when the quorum can no longer form and no escalation is left', () => {
    const policy = policyOf({ rejectionStops: false, approverGroups: { primary: ['alice@contoso.com', 'bob@contoso.com', 'req@contoso.com'] } });
    const s = accept(gate(), policy, vote('bob@contoso.com', { decision: 'reject', comment: 'no' }));
    expect(gateStatus(s, policy)).toMatchObject({ status: 'aborted', reason: expect.stringMatching(/quorum unreachable/) });
  });
});

describe('approval gate: timeouts', () => {
  it('timeout escalates, the escalation group can vote, and the final timeout aborts', () => {
    const policy = policyOf({ required: 3 });
    let s = accept(gate(), policy, vote('alice@contoso.com'));
    expect(currentDeadline(s, policy)).toBe('2025-03-01T02:30:00.000Z');

    const first = onTimeout(s, policy, '2025-03-01T02:30:00.000Z');
    expect(first.outcome).toEqual({ kind: 'escalated', added: ['dave@contoso.com', 'erin@contoso.com'], deadline: '2025-03-01T02:45:00.000Z' });
    s = first.state;
    expect(eligibleApprovers(s, policy)).toContain('dave@contoso.com');
    s = accept(s, policy, vote('dave@contoso.com', { at: '2025-03-01T02:35:00.000Z', channel: 'email' }));
    expect(gateStatus(s, policy)).toMatchObject({ status: 'pending', phase: 'escalated', approvers: ['alice@contoso.com', 'dave@contoso.com'] });

    const second = onTimeout(s, policy, '2025-03-01T02:45:00.000Z');
    expect(second.outcome).toMatchObject({ kind: 'aborted', reason: expect.stringMatching(/no decision after 30 \+ 15 minutes.*2 of 3 approvals/) });
    expect(gateStatus(second.state, policy)).toMatchObject({ status: 'aborted' });
    expect(applyVote(second.state, vote('erin@contoso.com'), policy).outcome).toMatchObject({ code: 'gate-closed', reason: expect.stringMatching(/already aborted/) });
  });

  it('escalation completes the quorum', () => {
    const policy = policyOf();
    let s = accept(gate(), policy, vote('alice@contoso.com'));
    s = onTimeout(s, policy, '2025-03-01T02:30:00.000Z').state;
    s = accept(s, policy, vote('erin@contoso.com'));
    expect(gateStatus(s, policy)).toMatchObject({ status: 'approved', approvers: ['alice@contoso.com', 'erin@contoso.com'] });
  });

  it('without an escalation group the first timeout aborts', () => {
    const policy = policyOf({ approverGroups: { primary: ['alice@contoso.com', 'bob@contoso.com'] } });
    expect(onTimeout(gate(), policy, '2025-03-01T02:30:00.000Z').outcome).toMatchObject({ kind: 'aborted', reason: expect.stringMatching(/after 30 minutes/) });
  });

  it('a timer that fires after the decision changes nothing', () => {
    const policy = policyOf();
    const s = accept(gate(), policy, vote('alice@contoso.com'), vote('bob@contoso.com'));
    expect(onTimeout(s, policy, '2025-03-01T02:30:00.000Z')).toEqual({ state: s, outcome: { kind: 'ignored', reason: 'the gate is already approved' } });
  });
});

describe('approval policy schema', () => {
  it('defaults rejectionStops to true and the escalation group to empty', () => {
    const p = ApprovalPolicySchema.parse({ required: 1, approverGroups: { primary: ['a@x'] }, timeoutMinutes: 5, escalationTimeoutMinutes: 5 });
    expect(p.rejectionStops).toBe(true);
    expect(p.approverGroups.escalation).toEqual([]);
  });

  it('refuses a quorum larger than both groups together and duplicated approvers', () => {
    expect(() => policyOf({ required: 7 })).toThrow(/7 approvals required but only 6 approvers/);
    expect(() => policyOf({ approverGroups: { primary: ['a@x', 'A@x'] } })).toThrow(/listed twice/);
  });
});

describe('approval gate: what each answer says', () => {
  const policy = policyOf();

  it('opens in the primary phase with no votes', () => {
    expect(gate()).toEqual({ request: { runId: 'run-1', planHash: PLAN, requester: 'req@contoso.com', requestedAt: REQUESTED }, phase: 'primary', votes: [] });
  });

  it('names each malformed field of a vote, and the vote itself when it is not an object', () => {
    expect(applyVote(gate(), { ...vote('alice@contoso.com'), decision: 'maybe', planHash: 'short' }, policy).outcome).toEqual({
      kind: 'refused', code: 'invalid-vote',
      reason: 'the vote is malformed: decision: Invalid option: expected one of "approve"|"reject"; planHash: plan hash: 16-200 printable token characters',
    });
    expect(applyVote(gate(), 'approve', policy).outcome).toEqual({ kind: 'refused', code: 'invalid-vote', reason: 'the vote is malformed: vote: Invalid input: expected object, received string' });
  });

  it('tells a rejector without a comment what to do', () => {
    expect(applyVote(gate(), vote('alice@contoso.com', { decision: 'reject' }), policy).outcome)
      .toEqual({ kind: 'refused', code: 'comment-required', reason: 'a rejection must say why: add a comment' });
  });

  it('names every rejector of a gate that holds several rejections', () => {
    // A gate run with rejectionStops false holds several rejections; its status under a policy
    // where rejections stop names them all.
    const lenient = policyOf({ rejectionStops: false });
    const s = accept(gate(), lenient, vote('alice@contoso.com', { decision: 'reject', comment: 'no' }), vote('bob@contoso.com', { decision: 'reject', comment: 'no' }));
    expect(gateStatus(s, policy)).toEqual({ status: 'rejected', approvers: [], rejectors: ['alice@contoso.com', 'bob@contoso.com'], reason: 'rejected by alice@contoso.com, bob@contoso.com' });
  });

  it('a timed-out gate says how many approvals it had', () => {
    const s = accept(gate(), policy, vote('alice@contoso.com'));
    const closed = onTimeout(onTimeout(s, policy, '2025-03-01T02:30:00.000Z').state, policy, '2025-03-01T02:45:00.000Z').state;
    expect(closed).toMatchObject({ phase: 'timed-out', escalatedAt: '2025-03-01T02:30:00.000Z', timedOutAt: '2025-03-01T02:45:00.000Z' });
    expect(gateStatus(closed, policy)).toEqual({ status: 'aborted', approvers: ['alice@contoso.com'], rejectors: [], reason: 'timed out with 1 of 2 approvals' });
  });
});

describe('approval gate: a quorum the escalation group can still complete', () => {
  // primary: alice, bob and the requester; escalation: dave. Two approvals required.
  const policy = policyOf({ rejectionStops: false, approverGroups: { primary: ['alice@contoso.com', 'bob@contoso.com', 'req@contoso.com'], escalation: ['dave@contoso.com'] } });

  it('stays pending in the primary phase while escalation can still add a voter', () => {
    const s = accept(gate(), policy, vote('bob@contoso.com', { decision: 'reject', comment: 'no' }));
    expect(gateStatus(s, policy)).toEqual({
      status: 'pending', phase: 'primary', approvers: [], rejectors: ['bob@contoso.com'], required: 2,
      eligible: ['alice@contoso.com', 'bob@contoso.com', 'req@contoso.com'], deadline: '2025-03-01T02:30:00.000Z',
    });
  });

  it('aborts once escalated when the quorum can no longer form', () => {
    let s = accept(gate(), policy, vote('bob@contoso.com', { decision: 'reject', comment: 'no' }));
    s = onTimeout(s, policy, '2025-03-01T02:30:00.000Z').state;
    expect(gateStatus(s, policy)).toMatchObject({ status: 'pending', phase: 'escalated', deadline: '2025-03-01T02:45:00.000Z' });
    s = accept(s, policy, vote('dave@contoso.com', { decision: 'reject', comment: 'no' }));
    expect(gateStatus(s, policy)).toEqual({
      status: 'aborted', approvers: [], rejectors: ['bob@contoso.com', 'dave@contoso.com'],
      reason: 'quorum unreachable: 0 approvals and 1 possible voters left for 2 required',
    });
  });

  it('an escalation group already inside the primary group adds nobody: the first timeout aborts', () => {
    const overlap = policyOf({ approverGroups: { primary: ['alice@contoso.com', 'bob@contoso.com', 'dave@contoso.com'], escalation: ['dave@contoso.com'] } });
    const r = onTimeout(gate(), overlap, '2025-03-01T02:30:00.000Z');
    expect(r.outcome).toEqual({ kind: 'aborted', reason: 'no decision after 30 minutes: 0 of 2 approvals' });
    expect(r.state).toMatchObject({ phase: 'timed-out', timedOutAt: '2025-03-01T02:30:00.000Z' });
  });

  it('escalation adds only those not already in the primary group', () => {
    const overlap = policyOf({ approverGroups: { primary: ['alice@contoso.com', 'bob@contoso.com', 'dave@contoso.com'], escalation: ['dave@contoso.com', 'erin@contoso.com'] } });
    const r = onTimeout(gate(), overlap, '2025-03-01T02:30:00.000Z');
    expect(r.outcome).toEqual({ kind: 'escalated', added: ['erin@contoso.com'], deadline: '2025-03-01T02:45:00.000Z' });
    expect(r.state).toEqual({ ...gate(), phase: 'escalated', escalatedAt: '2025-03-01T02:30:00.000Z' });
  });
});
