// The rules of the approval gate as pure functions: no I/O, no clock, no randomness, so the
// orchestrator can call them during replay and get the same answer every time. The clock comes in
// as arguments (vote times, the timer's fire time).
import {
  ApprovalRequestSchema, VoteSchema,
  type ApprovalPolicy, type ApprovalRequestInput, type GateState, type Identity, type Vote,
} from './schema.js';

export type RefusalCode =
  | 'invalid-vote' | 'gate-closed' | 'plan-mismatch' | 'self-approval' | 'not-eligible' | 'duplicate-vote' | 'comment-required';

export type VoteOutcome =
  | { kind: 'accepted'; vote: Vote }
  | { kind: 'refused'; code: RefusalCode; reason: string };

export interface VoteResult { state: GateState; outcome: VoteOutcome }

export type GateStatus =
  | { status: 'pending'; phase: 'primary' | 'escalated'; approvers: Identity[]; rejectors: Identity[]; required: number; eligible: Identity[]; deadline: string }
  | { status: 'approved'; approvers: Identity[]; rejectors: Identity[] }
  | { status: 'rejected'; approvers: Identity[]; rejectors: Identity[]; reason: string }
  | { status: 'aborted'; approvers: Identity[]; rejectors: Identity[]; reason: string };

export type TimeoutOutcome =
  | { kind: 'escalated'; added: Identity[]; deadline: string }
  | { kind: 'aborted'; reason: string }
  /** The gate was already decided: a timer that fired late changes nothing. */
  | { kind: 'ignored'; reason: string };

export interface TimeoutResult { state: GateState; outcome: TimeoutOutcome }

/** Opens a gate for a request. Throws a ZodError for a malformed request: that is a bug upstream. */
export function openGate(request: ApprovalRequestInput): GateState {
  return { request: ApprovalRequestSchema.parse(request), phase: 'primary', votes: [] };
}

/** Who may vote now: the primary group, plus the escalation group once escalated. */
export function eligibleApprovers(state: GateState, policy: ApprovalPolicy): Identity[] {
  const { primary, escalation } = policy.approverGroups;
  const groups = state.phase === 'primary' ? primary : [...primary, ...escalation];
  return [...new Set(groups)];
}

/** When the timer for the current phase fires: request + timeout, or escalation + its timeout. */
export function currentDeadline(state: GateState, policy: ApprovalPolicy): string {
  if (state.phase === 'primary') return addMinutes(state.request.requestedAt, policy.timeoutMinutes);
  return addMinutes(state.escalatedAt ?? state.request.requestedAt, policy.escalationTimeoutMinutes);
}

function addMinutes(iso: string, minutes: number): string {
  return new Date(Date.parse(iso) + minutes * 60_000).toISOString();
}

const refused = (state: GateState, code: RefusalCode, reason: string): VoteResult => ({ state, outcome: { kind: 'refused', code, reason } });

/**
 * Applies one vote. A refused vote leaves the state unchanged and says why, so the orchestrator
 * can audit the refusal and answer the voter; nothing here throws on bad input.
 */
export function applyVote(state: GateState, vote: unknown, policy: ApprovalPolicy): VoteResult {
  const parsed = VoteSchema.safeParse(vote);
  if (!parsed.success) {
    return refused(state, 'invalid-vote', `the vote is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'vote'}: ${i.message}`).join('; ')}`);
  }
  const v = parsed.data;
  const status = gateStatus(state, policy);
  if (status.status !== 'pending') {
    return refused(state, 'gate-closed', `the gate is already ${status.status}; votes are no longer taken`);
  }
  if (v.planHash !== state.request.planHash) {
    return refused(state, 'plan-mismatch', `the vote is for plan ${v.planHash} but the request is for plan ${state.request.planHash}: approvers approve exactly the plan they were shown`);
  }
  // The requester may withdraw (reject) their own request but never approve it: four eyes.
  if (v.decision === 'approve' && v.approver === state.request.requester) {
    return refused(state, 'self-approval', `${v.approver} requested this run and cannot approve it`);
  }
  const eligible = eligibleApprovers(state, policy);
  if (!eligible.includes(v.approver)) {
    const why = state.phase === 'primary' && policy.approverGroups.escalation.includes(v.approver)
      ? 'is in the escalation group, which may vote only after the gate escalates'
      : 'is not in the approver groups of this gate';
    return refused(state, 'not-eligible', `${v.approver} ${why}`);
  }
  const earlier = state.votes.find((x) => x.approver === v.approver);
  if (earlier) {
    return refused(state, 'duplicate-vote', `${v.approver} already voted (${earlier.decision} at ${earlier.at} via ${earlier.channel}); one vote per approver, and it cannot be changed`);
  }
  if (v.decision === 'reject' && !v.comment) {
    return refused(state, 'comment-required', 'a rejection must say why: add a comment');
  }
  return { state: { ...state, votes: [...state.votes, v] }, outcome: { kind: 'accepted', vote: v } };
}

/** Where the gate stands, with who approved and who rejected. */
export function gateStatus(state: GateState, policy: ApprovalPolicy): GateStatus {
  const approvers = state.votes.filter((v) => v.decision === 'approve').map((v) => v.approver);
  const rejectors = state.votes.filter((v) => v.decision === 'reject').map((v) => v.approver);
  if (policy.rejectionStops && rejectors.length > 0) {
    return { status: 'rejected', approvers, rejectors, reason: `rejected by ${rejectors.join(', ')}` };
  }
  if (approvers.length >= policy.required) return { status: 'approved', approvers, rejectors };
  if (state.phase === 'timed-out') {
    return { status: 'aborted', approvers, rejectors, reason: `timed out with ${approvers.length} of ${policy.required} approvals` };
  }
  // Waiting for a quorum that can no longer form would only delay the failover; once no further
  // escalation can add voters, say so at once.
  const eligible = eligibleApprovers(state, policy);
  const outstanding = eligible.filter((id) => id !== state.request.requester && !state.votes.some((v) => v.approver === id));
  const canEscalate = state.phase === 'primary' && policy.approverGroups.escalation.some((id) => !eligible.includes(id));
  if (!canEscalate && approvers.length + outstanding.length < policy.required) {
    return {
      status: 'aborted', approvers, rejectors,
      reason: `quorum unreachable: ${approvers.length} approvals and ${outstanding.length} possible voters left for ${policy.required} required`,
    };
  }
  const phase = state.phase === 'primary' ? 'primary' : 'escalated';
  return { status: 'pending', phase, approvers, rejectors, required: policy.required, eligible, deadline: currentDeadline(state, policy) };
}

/** The current phase's timer fired at `at`: escalate once, then abort. */
export function onTimeout(state: GateState, policy: ApprovalPolicy, at: string): TimeoutResult {
  const status = gateStatus(state, policy);
  if (status.status !== 'pending') return { state, outcome: { kind: 'ignored', reason: `the gate is already ${status.status}` } };
  if (state.phase === 'primary') {
    const added = policy.approverGroups.escalation.filter((id) => !policy.approverGroups.primary.includes(id));
    if (added.length > 0) {
      const next: GateState = { ...state, phase: 'escalated', escalatedAt: at };
      return { state: next, outcome: { kind: 'escalated', added, deadline: currentDeadline(next, policy) } };
    }
  }
  const after = state.phase === 'primary' ? `${policy.timeoutMinutes} minutes` : `${policy.timeoutMinutes} + ${policy.escalationTimeoutMinutes} minutes (escalated at ${state.escalatedAt})`;
  return {
    state: { ...state, phase: 'timed-out', timedOutAt: at },
    outcome: { kind: 'aborted', reason: `no decision after ${after}: ${status.approvers.length} of ${policy.required} approvals` },
  };
}
