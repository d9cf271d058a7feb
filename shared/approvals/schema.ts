// The approval gate's data: the policy a runbook declares, the request the executor opens, and
// the votes that arrive as external events from the CLI, HTTP, Teams, email or the dashboard.
// Votes are untrusted input: they are parsed here, never cast.
import { z } from 'zod';

// Identities are UPNs or object ids from Entra; UPNs are case-insensitive, and comparing them
// case-sensitively would let "Alice@" approve a request made by "alice@".
export const IdentitySchema = z.string().trim().toLowerCase().min(1).max(256);
export type Identity = z.infer<typeof IdentitySchema>;

const IsoTime = z.iso.datetime({ offset: true });
// The plan team owns the hash format; the gate only needs it to be an opaque, printable token.
export const PlanHashSchema = z.string().regex(/^[A-Za-z0-9:+/=_-]{16,200}$/, 'plan hash: 16-200 printable token characters');

export const ApprovalPolicySchema = z
  .strictObject({
    required: z.number().int().min(1),
    approverGroups: z.strictObject({
      primary: z.array(IdentitySchema).min(1),
      escalation: z.array(IdentitySchema).default([]),
    }),
    timeoutMinutes: z.number().positive(),
    escalationTimeoutMinutes: z.number().positive(),
    rejectionStops: z.boolean().default(true),
  })
  .superRefine((p, ctx) => {
    const { primary, escalation } = p.approverGroups;
    if (new Set(primary).size !== primary.length) ctx.addIssue({ code: 'custom', path: ['approverGroups', 'primary'], message: 'an approver is listed twice' });
    if (new Set(escalation).size !== escalation.length) ctx.addIssue({ code: 'custom', path: ['approverGroups', 'escalation'], message: 'an approver is listed twice' });
    const everyone = new Set([...primary, ...escalation]).size;
    if (p.required > everyone) {
      ctx.addIssue({ code: 'custom', path: ['required'], message: `${p.required} approvals required but only ${everyone} approvers exist in both groups` });
    }
  });
export type ApprovalPolicy = z.output<typeof ApprovalPolicySchema>;
export type ApprovalPolicyInput = z.input<typeof ApprovalPolicySchema>;

export const ApprovalRequestSchema = z.strictObject({
  runId: z.string().min(1).max(200),
  planHash: PlanHashSchema,
  requester: IdentitySchema,
  requestedAt: IsoTime,
});
export type ApprovalRequest = z.output<typeof ApprovalRequestSchema>;
export type ApprovalRequestInput = z.input<typeof ApprovalRequestSchema>;

export const VOTE_CHANNELS = ['cli', 'http', 'teams', 'email', 'dashboard'] as const;

export const VoteSchema = z.strictObject({
  approver: IdentitySchema,
  decision: z.enum(['approve', 'reject']),
  planHash: PlanHashSchema,
  comment: z.string().trim().max(2000).optional(),
  at: IsoTime,
  channel: z.enum(VOTE_CHANNELS),
});
export type Vote = z.output<typeof VoteSchema>;
export type VoteInput = z.input<typeof VoteSchema>;

/**
 * The gate's state: plain JSON, so the orchestrator can keep it in a variable across replays,
 * publish it in customStatus and audit it.
 */
export const GateStateSchema = z.strictObject({
  request: ApprovalRequestSchema,
  /** primary: only the primary group may vote; escalated: both groups; timed-out: closed. */
  phase: z.enum(['primary', 'escalated', 'timed-out']),
  escalatedAt: IsoTime.optional(),
  timedOutAt: IsoTime.optional(),
  /** Accepted votes only, in arrival order. Refused votes are the caller's to audit. */
  votes: z.array(VoteSchema),
});
export type GateState = z.output<typeof GateStateSchema>;
