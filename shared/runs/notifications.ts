// What the orchestrators tell people, through the `notify` activity, on every configured channel
// (Teams cards, e-mail). The orchestrator sends what it knows at that moment (it owns the time and
// the state); channels never read the orchestration to complete it, so a replayed or retried
// notify activity renders the same thing. Each notification has a key (notificationKey): a channel
// sends a key to a recipient once, whatever the retries and replays. Pure: imported by orchestrations.
import { z } from 'zod';
import { Measure, RunId } from './contract.js';

const Text = (max: number) => z.string().max(max);
const Iso = z.iso.datetime({ offset: true });

/** A step of the plan that changes the estate, as a gate shows it. */
export const ChangeView = z.strictObject({ id: Text(200), title: Text(500), site: Text(100).optional() });

export const GateVoteView = z.strictObject({
  approver: Text(256), approverName: Text(256).optional(), decision: Text(20), outcome: z.enum(['accepted', 'refused']), code: Text(60).optional(), reason: Text(500).optional(), at: Iso,
  channel: Text(20).optional(),
});

/** An approval gate as the people who vote on it see it. */
export const GateView = z.strictObject({
  stepId: Text(200),
  title: Text(500),
  reason: Text(4000),
  planHash: Text(200),
  requester: Text(256),
  status: z.enum(['pending', 'approved', 'rejected', 'aborted', 'cancelled']),
  phase: z.enum(['primary', 'escalated', 'timed-out']),
  required: z.number().int().positive(),
  approvers: z.array(Text(256)),
  rejectors: z.array(Text(256)),
  /** Who may still vote (empty once decided). */
  eligible: z.array(Text(256)),
  deadline: Iso.optional(),
  votes: z.array(GateVoteView).max(200),
  /** The steps that change the estate (at most 50 listed; `changesTotal` counts them all). */
  changes: z.array(ChangeView).max(50),
  changesTotal: z.number().int().nonnegative(),
  rtoForecastMinutes: z.number().nonnegative().optional(),
  rtoTargetMinutes: z.number().nonnegative().optional(),
});
export type GateView = z.infer<typeof GateView>;

const Base = { runId: RunId, runbook: Text(100), runTitle: Text(500), at: Iso };

export const Notification = z.discriminatedUnion('kind', [
  /** A gate opened, or changed (a vote, escalation, decision): the card updates in place. */
  z.strictObject({ kind: z.literal('gate'), ...Base, gate: GateView }),
  /** A step failed for good and waits for retry / skip / abort. */
  z.strictObject({ kind: z.literal('decision-needed'), ...Base, stepId: Text(200), stepTitle: Text(500), attempt: z.number().int().positive(), error: Text(2000) }),
  /** A manual step waits for its confirmation. */
  z.strictObject({ kind: z.literal('manual-waiting'), ...Base, stepId: Text(200), stepTitle: Text(500), instructions: Text(8000) }),
  /** The run ended. `auditVerified` is filled in by the notify activity, which verifies the trail. */
  z.strictObject({ kind: z.literal('run-ended'), ...Base, outcome: z.enum(['succeeded', 'failed', 'aborted', 'rejected', 'cancelled']), error: Text(2000).optional(), rto: Measure.optional(), rpo: Measure.optional() }),
]);
export type Notification = z.infer<typeof Notification>;

/**
 * The idempotency key of a notification (per run): a channel sends each key to each recipient
 * once. A gate's key carries its version (the votes seen and its status), so every change is one
 * update of the card, sent once.
 */
export function notificationKey(n: Notification): string {
  switch (n.kind) {
    case 'gate': return `gate:${n.gate.stepId}:v${n.gate.votes.length}:${n.gate.status}:${n.gate.phase}`;
    case 'decision-needed': return `decision:${n.stepId}:attempt:${n.attempt}`;
    case 'manual-waiting': return `manual:${n.stepId}`;
    case 'run-ended': return 'run-ended';
  }
}

/** What every channel implements (functions/channels/<name>/). */
export interface ChannelSender {
  readonly name: 'teams' | 'email';
  /** Sends (or updates) once per key and recipient; safe to call again with the same notification. */
  send(n: Notification & { auditVerified?: boolean }): Promise<void>;
}
