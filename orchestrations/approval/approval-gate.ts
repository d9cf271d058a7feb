// The approval gate: a sub-orchestration per gate step (instance `<runId>:gate:<stepId>`). It
// opens a request bound to the plan hash, takes votes as `vote` events, applies the pure rules of
// shared/approvals (N-of-M, no self-approval, one vote per approver, same plan hash), escalates
// to the second group when the first deadline passes and aborts at the final one. Every vote,
// accepted or refused, is audited and shown in customStatus.
import type { OrchestrationContext, Task } from 'durable-functions';
import {
  ApprovalPolicySchema, applyVote, gateStatus, onTimeout, openGate, type GateState,
} from '../../shared/approvals/index.js';
import { EVENTS, VoteEvent, type GateCustomStatus, type GateInput, type GateResult } from '../../shared/runs/contract.js';
import { activities } from '../executor/activities.js';
import { anyOf, cancelTimer, hasResult } from '../executor/tasks.js';
import { clip, gateView } from './gate-view.js';

export function* approvalGate(context: OrchestrationContext): Generator<Task, GateResult, unknown> {
  const input = context.df.getInput<GateInput>();
  const policy = ApprovalPolicySchema.parse(input.policy);
  const act = activities(context);
  const now = () => context.df.currentUtcDateTime.toISOString();
  const key = (rest: string) => `gate:${input.stepId}:${rest}`;
  const audit = (k: string, kind: 'approval-requested' | 'vote' | 'gate-escalated' | 'gate-decided', actor: string, data: unknown) =>
    act.audit({ runId: input.runId, key: key(k), kind, actor, at: now(), data });

  let state: GateState = openGate({ runId: input.runId, planHash: input.planHash, requester: input.requester, requestedAt: now() });
  const votes: GateCustomStatus['votes'] = [];
  // The gate's status follows from its state; only a cancellation is said from outside.
  const publish = (cancelled?: 'cancelled') => {
    const st = gateStatus(state, policy);
    const status: GateCustomStatus['status'] = cancelled ?? st.status;
    const custom: GateCustomStatus = {
      v: 1, runId: input.runId, stepId: input.stepId, planHash: input.planHash, status, phase: state.phase, required: policy.required,
      approvers: st.approvers, rejectors: st.rejectors, eligible: st.status === 'pending' ? st.eligible : [],
      deadline: st.status === 'pending' ? st.deadline : undefined, votes,
    };
    context.df.setCustomStatus(custom);
  };
  // Executor version 4: the gate tells people when it opens and after every change (GateInput.notify).
  const voteChannels: Record<string, string> = {};
  const notify = function* (cancelled?: 'cancelled'): Generator<Task, void, unknown> {
    if (!input.notify) return;
    try {
      yield act.notify({ kind: 'gate', runId: input.runId, runbook: input.runbook ?? '', runTitle: clip(input.runTitle ?? input.title, 500), at: now(),
        gate: gateView(input, policy, state, votes, voteChannels, cancelled) });
    } catch {
      // Dropped after its retries: a channel that is down must not stop the gate.
    }
  };
  publish();
  yield audit('requested', 'approval-requested', input.requester, {
    stepId: input.stepId, title: input.title, reason: input.reason, planHash: input.planHash, policy: input.policyName,
    required: policy.required, approverGroups: policy.approverGroups, timeoutMinutes: policy.timeoutMinutes, escalationTimeoutMinutes: policy.escalationTimeoutMinutes,
  });
  yield* notify();

  const cancel = context.df.waitForExternalEvent(EVENTS.cancel);
  let vote = context.df.waitForExternalEvent(EVENTS.vote);
  let timer: Task | undefined;
  let timerDeadline: string | undefined;
  for (;;) {
    const st = gateStatus(state, policy);
    if (st.status !== 'pending') {
      const result: GateResult = { status: st.status, approvers: st.approvers, rejectors: st.rejectors, reason: 'reason' in st ? st.reason : undefined, decidedAt: now() };
      // A deadline nobody waits for would keep the gate, and so its run, Running until it passed.
      cancelTimer(timer);
      publish();
      yield audit('decided', 'gate-decided', 'lyncdr', result);
      yield* notify();
      return result;
    }
    // One timer per deadline: a vote does not move the deadline, escalation does.
    if (timerDeadline !== st.deadline) {
      timerDeadline = st.deadline;
      timer = context.df.createTimer(new Date(st.deadline));
    }
    // A task can complete while the gate waits on its audit (a vote and the deadline in one episode,
    // as when a paused gate is resumed): the SDK's Task.any never completes over a task already done.
    const waiting = [vote, timer!, cancel];
    const winner: unknown = waiting.find(hasResult) ?? (yield anyOf(context, waiting));
    if (winner === cancel) {
      const c = cancel.result as { by?: string; reason?: string } | undefined;
      const result: GateResult = { status: 'cancelled', approvers: st.approvers, rejectors: st.rejectors, reason: `run cancelled by ${c?.by ?? 'unknown'}: ${c?.reason ?? ''}`, decidedAt: now() };
      cancelTimer(timer);
      publish('cancelled');
      yield audit('decided', 'gate-decided', c?.by ?? 'lyncdr', result);
      yield* notify('cancelled');
      return result;
    }
    if (winner === timer) {
      const t = onTimeout(state, policy, now());
      state = t.state;
      if (t.outcome.kind === 'escalated') {
        publish();
        yield audit('escalated', 'gate-escalated', 'lyncdr', { added: t.outcome.added, deadline: t.outcome.deadline });
        yield* notify();
      }
      continue;
    }
    // A vote. Parse what we can to say who sent it; the rules decide whether it counts.
    const raw = vote.result;
    vote = context.df.waitForExternalEvent(EVENTS.vote);
    const n = votes.length + 1;
    const parsed = VoteEvent.safeParse(raw);
    const at = now();
    let entry: GateCustomStatus['votes'][number];
    if (!parsed.success) {
      entry = { voteId: `invalid-${n}`, approver: 'unknown', decision: 'unknown', outcome: 'refused', code: 'invalid-vote', reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), at };
    } else {
      const { voteId, client: _client, ...v } = parsed.data;
      const r = applyVote(state, { ...v, at }, policy);
      state = r.state;
      entry = r.outcome.kind === 'accepted'
        ? { voteId, approver: v.approver, decision: v.decision, outcome: 'accepted', at }
        : { voteId, approver: v.approver, decision: v.decision, outcome: 'refused', code: r.outcome.code, reason: r.outcome.reason, at };
    }
    votes.push(entry);
    if (parsed.success) voteChannels[entry.voteId] = parsed.data.channel;
    publish();
    yield audit(`vote:${n}`, 'vote', entry.approver, { ...entry, comment: parsed.success ? parsed.data.comment : undefined, channel: parsed.success ? parsed.data.channel : undefined, planHash: parsed.success ? parsed.data.planHash : undefined, ...(parsed.success && parsed.data.client ? { client: parsed.data.client } : {}) });
    yield* notify();
  }
}
