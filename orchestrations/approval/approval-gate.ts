// The approval gate: a sub-orchestration per gate step (instance `<runId>:gate:<stepId>`). It
// opens a request bound to the plan hash, takes votes as `vote` events, applies the pure rules of
// shared/approvals (N-of-M, no self-approval, one vote per approver, same plan hash), escalates
// to the second group when the first deadline passes and aborts at the final one. Every vote,
// accepted or refused, is audited and shown in customStatus.
import type { OrchestrationContext, Task } from 'durable-functions';
import {
  ApprovalPolicySchema, applyVote, gateStatus, onTimeout, openGate, type GateState,
} from '../../shared/approvals/index.js';
import type { VerifyDecisionOutput } from '../../shared/runs/activities.js';
import { EVENTS, VoteEvent, type GateCustomStatus, type GateInput, type GateResult } from '../../shared/runs/contract.js';
import { activities } from '../executor/activities.js';
import { TakenNonces } from '../executor/single-use.js';
import { anyOf, cancelTimer, hasResult } from '../executor/tasks.js';
import { clip, gateView } from './gate-view.js';
import { nameBeside } from '../../shared/identity/display.js';

/**
 * Executor version 5 (GateInput.signedVotes): the gate's customStatus keeps every accepted vote (at
 * most one per approver) and the last REFUSED_SHOWN refused ones, and counts the rest
 * (refusedTotal). A voter refused REFUSED_AUDITED_PER_VOTER times is listed in `limited`: the API
 * refuses their further votes (429) without raising them, and those that still arrive are counted,
 * not audited one by one (the gate's decision entry counts them).
 */
export const REFUSED_SHOWN = 10;
export const REFUSED_AUDITED_PER_VOTER = 5;
/** At most this many voters are named in `limited` (each identity is at most 256 characters). */
export const LIMITED_SHOWN = 20;

export function* approvalGate(context: OrchestrationContext): Generator<Task, GateResult, unknown> {
  const input = context.df.getInput<GateInput>();
  const policy = ApprovalPolicySchema.parse(input.policy);
  const act = activities(context);
  const now = () => context.df.currentUtcDateTime.toISOString();
  const key = (rest: string) => `gate:${input.stepId}:${rest}`;
  const audit = (k: string, kind: 'approval-requested' | 'vote' | 'gate-escalated' | 'gate-decided', actor: string, data: unknown) =>
    act.audit({ runId: input.runId, key: key(k), kind, actor, at: now(), data });

  let state: GateState = openGate({ runId: input.runId, planHash: input.planHash, requester: input.requester, requestedAt: now() });
  let votes: GateCustomStatus['votes'] = [];
  const signed = !!input.signedVotes;
  // Executor version 8: votes and cancels are fresh and single-use (verifyDecision, TakenNonces).
  const singleUse = !!input.singleUse;
  const nonces = new TakenNonces();
  const verify = function* (kind: 'vote' | 'cancel', event: unknown): Generator<Task, { ok: true } | { ok: false; reason: string; code?: string }, unknown> {
    if (!signed) return { ok: true };
    const v = (yield act.verifyDecision({ runId: input.runId, kind, target: `gate:${input.stepId}`, event, ...(singleUse ? { fresh: true } : {}) })) as VerifyDecisionOutput;
    if (!v.ok || !singleUse) return v;
    const replayed = nonces.take(event);
    return replayed ? { ok: false, reason: replayed, code: 'replayed' } : v;
  };
  let received = 0;
  let refusedTotal = 0;
  let refusedUnaudited = 0;
  let refusedCancels = 0;
  const refusedBy = new Map<string, number>();
  // The signed display names of those whose votes counted, by identity (GateResult.names): shown, never compared.
  const names = new Map<string, string>();
  const namesOf = (ids: string[]) => {
    const known = ids.filter((id) => names.has(id)).map((id) => [id, names.get(id)!] as const);
    return known.length ? { names: Object.fromEntries(known) } : {};
  };
  const limited = () => [...refusedBy].filter(([, n]) => n >= REFUSED_AUDITED_PER_VOTER).map(([id]) => id).slice(0, LIMITED_SHOWN);
  // The gate's status follows from its state; only a cancellation is said from outside.
  const publish = (cancelled?: 'cancelled') => {
    const st = gateStatus(state, policy);
    const status: GateCustomStatus['status'] = cancelled ?? st.status;
    const custom: GateCustomStatus = {
      v: 1, runId: input.runId, stepId: input.stepId, planHash: input.planHash, status, phase: state.phase, required: policy.required,
      approvers: st.approvers, rejectors: st.rejectors, eligible: st.status === 'pending' ? st.eligible : [],
      deadline: st.status === 'pending' ? st.deadline : undefined, votes,
      ...(signed ? { refusedTotal, limited: limited() } : {}),
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

  let cancel = context.df.waitForExternalEvent(EVENTS.cancel);
  let vote = context.df.waitForExternalEvent(EVENTS.vote);
  let timer: Task | undefined;
  let timerDeadline: string | undefined;
  for (;;) {
    const st = gateStatus(state, policy);
    if (st.status !== 'pending') {
      const result: GateResult = { status: st.status, approvers: st.approvers, rejectors: st.rejectors, ...namesOf([...st.approvers, ...st.rejectors]), reason: 'reason' in st ? st.reason : undefined, decidedAt: now() };
      // A deadline nobody waits for would keep the gate, and so its run, Running until it passed.
      cancelTimer(timer);
      publish();
      yield audit('decided', 'gate-decided', 'lyncdr', signed ? { ...result, refusedTotal, refusedUnaudited } : result);
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
    const winner: unknown = waiting.find(hasResult) ?? (yield anyOf(context, waiting, { oneWaiterPerEvent: !!input.oneWaiterPerEvent }));
    if (winner === cancel) {
      const c = cancel.result as { by?: string; byName?: unknown; reason?: string } | undefined;
      const v = yield* verify('cancel', cancel.result);
      if (!v.ok) {
        refusedCancels++;
        yield audit(`refused-cancel:${refusedCancels}`, 'vote', 'lyncdr', { refused: 'cancel', claimedBy: typeof c?.by === 'string' ? c.by.slice(0, 256) : 'unknown', reason: v.reason, code: v.code ?? 'bad-signature' });
        cancel = context.df.waitForExternalEvent(EVENTS.cancel);
        continue;
      }
      const result: GateResult = { status: 'cancelled', approvers: st.approvers, rejectors: st.rejectors, ...namesOf([...st.approvers, ...st.rejectors]), reason: `run cancelled by ${c?.by ?? 'unknown'}: ${c?.reason ?? ''}`, decidedAt: now() };
      const cancelledBy = typeof c?.byName === 'string' && c.by ? nameBeside(c.by, c.byName) : undefined;
      cancelTimer(timer);
      publish('cancelled');
      yield audit('decided', 'gate-decided', c?.by ?? 'lyncdr', cancelledBy ? { ...result, actorName: cancelledBy } : result);
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
    // Every vote received, in order (older gates: votes.length + 1, the same number: they keep every vote).
    const n = ++received;
    const parsed = VoteEvent.safeParse(raw);
    const at = now();
    let entry: GateCustomStatus['votes'][number];
    if (!parsed.success) {
      entry = { voteId: `invalid-${n}`, approver: 'unknown', decision: 'unknown', outcome: 'refused', code: 'invalid-vote', reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), at };
    } else {
      const { voteId, client: _client, sig: _sig, signedAt: _signedAt, nonce: _nonce, approverName, ...v } = parsed.data;
      const check = yield* verify('vote', raw);
      // The name is shown only where the signature held: a forger's name is not repeated.
      const name = check.ok ? nameBeside(v.approver, approverName) : undefined;
      const named = name ? { approverName: name } : {};
      if (!check.ok) {
        entry = { voteId, approver: v.approver, decision: v.decision, outcome: 'refused', code: check.code ?? 'bad-signature', reason: check.reason, at };
      } else {
        const r = applyVote(state, { ...v, at }, policy);
        state = r.state;
        entry = r.outcome.kind === 'accepted'
          ? { voteId, approver: v.approver, ...named, decision: v.decision, outcome: 'accepted', at }
          : { voteId, approver: v.approver, ...named, decision: v.decision, outcome: 'refused', code: r.outcome.code, reason: r.outcome.reason, at };
        if (name && r.outcome.kind === 'accepted') names.set(v.approver, name);
      }
    }
    votes.push(entry);
    if (parsed.success) voteChannels[entry.voteId] = parsed.data.channel;
    if (signed && entry.outcome === 'refused') {
      refusedTotal++;
      // Only a signed vote's identity is believed: a forger cannot get a real approver limited
      // (nor can whoever raises a captured vote again: replayed and stale ones are not theirs now).
      const believed = !['bad-signature', 'invalid-vote', 'replayed', 'stale'].includes(entry.code ?? '');
      const before = believed ? (refusedBy.get(entry.approver) ?? 0) : 0;
      if (believed) refusedBy.set(entry.approver, before + 1);
      const refused = votes.filter((x) => x.outcome === 'refused');
      if (refused.length > REFUSED_SHOWN) {
        const drop = new Set(refused.slice(0, refused.length - REFUSED_SHOWN));
        votes = votes.filter((x) => !drop.has(x));
        for (const x of drop) delete voteChannels[x.voteId];
      }
      if (before >= REFUSED_AUDITED_PER_VOTER) {
        refusedUnaudited++;
        publish();
        continue;
      }
    }
    publish();
    // The trail's entry names the voter as `actor` (the identity) with `actorName` beside it.
    const { approverName: actorName, ...recorded } = entry;
    yield audit(`vote:${n}`, 'vote', entry.approver, { ...recorded, ...(actorName ? { actorName } : {}), comment: parsed.success ? parsed.data.comment : undefined, channel: parsed.success ? parsed.data.channel : undefined, planHash: parsed.success ? parsed.data.planHash : undefined, ...(parsed.success && parsed.data.client ? { client: parsed.data.client } : {}) });
    yield* notify();
  }
}
