// The approval gate as its notifications show it (GateView), built from the gate's own state so a
// replayed gate sends exactly what it sent before. Pure: the orchestrator calls it.
import { gateStatus, type ApprovalPolicy, type GateState } from '../../shared/approvals/index.js';
import type { GateCustomStatus, GateInput } from '../../shared/runs/contract.js';
import type { GateView } from '../../shared/runs/notifications.js';

/** Cuts text to a notification field's limit (the schema refuses longer text, and a refused notification tells nobody). */
export const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export function gateView(input: GateInput, policy: ApprovalPolicy, state: GateState, votes: GateCustomStatus['votes'],
  channels: Record<string, string>, cancelled?: 'cancelled'): GateView {
  const st = gateStatus(state, policy);
  const pending = !cancelled && st.status === 'pending';
  return {
    stepId: input.stepId,
    title: clip(input.title, 500),
    reason: clip(input.reason, 4000),
    planHash: input.planHash,
    requester: input.requester,
    status: cancelled ?? st.status,
    phase: state.phase,
    required: policy.required,
    approvers: st.approvers,
    rejectors: st.rejectors,
    eligible: pending && st.status === 'pending' ? st.eligible : [],
    ...(pending && st.status === 'pending' ? { deadline: st.deadline } : {}),
    votes: votes.slice(-200).map((v) => ({
      approver: clip(v.approver, 256), ...(v.approverName ? { approverName: clip(v.approverName, 256) } : {}), decision: clip(v.decision, 20), outcome: v.outcome, at: v.at,
      ...(v.code ? { code: clip(v.code, 60) } : {}), ...(v.reason ? { reason: clip(v.reason, 500) } : {}),
      ...(channels[v.voteId] ? { channel: channels[v.voteId] } : {}),
    })),
    changes: input.changes ?? [],
    changesTotal: input.changesTotal ?? input.changes?.length ?? 0,
    ...(input.rtoForecastMinutes !== undefined ? { rtoForecastMinutes: input.rtoForecastMinutes } : {}),
    ...(input.rtoTargetMinutes !== undefined ? { rtoTargetMinutes: input.rtoTargetMinutes } : {}),
  };
}
