// The run contract: what starts the executor orchestration (RunInput), the external events it and
// the approval gate accept, the customStatus it publishes (v1) and the report it returns. The
// HTTP API, the CLI, the dashboard and the orchestrators all parse with these schemas; see
// docs/status-contract.md. Pure: imported by orchestrations.
import { z } from 'zod';
import { ApprovalPolicySchema, IdentitySchema, VOTE_CHANNELS } from '../approvals/schema.js';
import { RunbookName } from '../plan/schema.js';
import { NAME_MAX } from '../identity/display.js';
import type { ChangeView } from './notifications.js';

export const STATUS_CONTRACT_VERSION = 1;

export const RunMode = z.enum(['drill', 'what-if', 'live']);
export type RunMode = z.infer<typeof RunMode>;

/** Run ids become audit partition keys, instance ids and part of command ids. */
export const RunId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,79}$/, 'run id: letters, digits and hyphens, at most 80');

/** Runbook options as JSON (lists and objects too: users, recorded); each runbook's
 * own schema validates them (orchestrations/runbooks). */
export const RunOptions = z.record(z.string(), z.json());
export type RunOptions = z.infer<typeof RunOptions>;

/** Configuration that reaches the orchestrators as input (they may not read app settings). */
export const RunConfig = z.strictObject({
  queuePrefix: z.string().min(1).max(40),
  /** Approval policies by name; a gate whose policy is not listed uses `default`. */
  approvalPolicies: z.record(z.string(), ApprovalPolicySchema),
  /** How long a failed step waits for an operator decision before the run aborts. */
  decisionTimeoutMinutes: z.number().positive(),
  /** How long a manual step waits for its confirmation before the run aborts. */
  confirmationTimeoutMinutes: z.number().positive(),
  /** Added to a step's timeout before the orchestrator stops waiting for the worker's reply. */
  resultGraceMs: z.number().int().nonnegative(),
  /**
   * The executor's behaviour this run started with, so a run replays the way it ran across an
   * upgrade of the app. 2: a verification rides with its command and a step's result and verdict
   * are audited in one activity. 3: customStatus is the run's summary and the step rows are written
   * (shared/config EXECUTOR_VERSION). 4: the run and its gates call the notify activity (gates,
   * manual steps, decisions, the end). 7: a command step with `records` is sent with `keep`, so
   * the worker keeps a listed output whole for later users.moveRecorded ranges. 10: a refused precondition is
   * not retried automatically, and a result impossible for its command counts as malformed. 11: an
   * event raised while the run or its gate is busy is kept for the next wait of its name. 12: a
   * result raised into the run counts only when its site's worker signed it for the command,
   * attempt and site the step waits for (verifyResult); anything else is audited as refused. 13: a command
   * step's verification may read the run's records (`from`), as a manual step's check does. 14: a decision on a failed step is audited with the failure it answered (`finding`). Absent (1): runs started before that.
   */
  executorVersion: z.number().int().min(1).optional(),
});
export type RunConfig = z.infer<typeof RunConfig>;

export const RunInput = z.strictObject({
  runId: RunId,
  runbook: RunbookName,
  options: RunOptions,
  mode: RunMode,
  requestedBy: IdentitySchema,
  /** The starter's UPN for display beside requestedBy (shared/identity/display.ts); sealed with the rest, never compared. */
  requestedByName: z.string().min(1).max(NAME_MAX).optional(),
  requestedAt: z.iso.datetime({ offset: true }),
  config: RunConfig,
  /** Executor version 5: the API's signature over the rest of the input (functions/runs/signing.ts). */
  sig: z.string().max(100).optional(),
});
export type RunInput = z.infer<typeof RunInput>;

// ---- external events (names are part of the contract) ----

export const EVENTS = {
  /**
   * On the run: a worker's ResultMessage for one attempt of one step, with its signature (the
   * trigger raises it as the worker signed it; from executor version 12 the run checks it again).
   */
  result: (commandId: string) => `result:${commandId}`,
  /** On the run: an operator's decision for a step waiting-for-decision. */
  decision: (stepId: string) => `decision:${stepId}`,
  /** On the run: an operator confirms a manual step is done. */
  confirm: (stepId: string) => `confirm:${stepId}`,
  /** On the run and on its open approval gate. */
  cancel: 'cancel',
  /** On the approval gate instance. */
  vote: 'vote',
  /** Executor version 8: on the run, an operator's signed pause and resume (the API raises them). */
  pause: 'pause',
  resume: 'resume',
} as const;

/** The approval sub-orchestration of a gate step has this instance id. */
export const gateInstanceId = (runId: string, stepId: string) => `${runId}:gate:${stepId}`;

const Comment = z.string().trim().max(2000).optional();

/** Where a decision was taken (absent in events raised before channels were recorded). */
const DecisionChannel = z.enum(VOTE_CHANNELS).optional();
/**
 * Executor version 5: when the API signed the event, and its signature (checked by an activity
 * before it counts). Version 8: its single-use id, taken once by the run or gate it is for.
 */
const Signed = { signedAt: z.iso.datetime({ offset: true }).optional(), nonce: z.string().max(100).optional(), sig: z.string().max(100).optional() };
/**
 * The decider's UPN for display beside `by` / `approver` (the identity compared, an Entra object
 * id in easy-auth mode): never compared, signed with the rest of the event. Absent in events raised
 * before it existed and when it would only repeat the identity (shared/identity/display.ts).
 */
const DisplayName = z.string().trim().min(1).max(256).optional();
/** The browser a decision came from, when the channel knows it (e-mailed links): recorded in the trail. */
export const DecisionClient = z.strictObject({ userAgent: z.string().max(500), address: z.string().max(100) }).optional();
/** `attempt`: the failed attempt the decision answers (executor version 8 refuses it for any other). */
export const DecisionEvent = z.strictObject({ decision: z.enum(['retry', 'skip', 'abort']), by: IdentitySchema, byName: DisplayName, comment: Comment, channel: DecisionChannel, client: DecisionClient, attempt: z.number().int().positive().optional(), ...Signed });
export type DecisionEvent = z.infer<typeof DecisionEvent>;
/** `override`: the operator confirms although the step's check fails; the reason is audited with them. */
export const ConfirmOverride = z.strictObject({ reason: z.string().trim().min(1).max(2000) });
export const ConfirmEvent = z.strictObject({ by: IdentitySchema, byName: DisplayName, comment: Comment, channel: DecisionChannel, client: DecisionClient, override: ConfirmOverride.optional(), ...Signed });
export type ConfirmEvent = z.infer<typeof ConfirmEvent>;
export const CancelEvent = z.strictObject({ by: IdentitySchema, byName: DisplayName, reason: z.string().trim().min(1).max(2000), channel: DecisionChannel, ...Signed });
export type CancelEvent = z.infer<typeof CancelEvent>;
/** Executor version 8: a pause or a resume (the same body), counted only when signed by the API for the run. */
export const PauseEvent = CancelEvent;
export type PauseEvent = CancelEvent;
/** A vote as raised on the gate; the gate stamps the time (`at`) itself. */
export const VoteEvent = z.strictObject({
  voteId: z.string().min(1).max(100),
  approver: IdentitySchema,
  approverName: DisplayName,
  decision: z.enum(['approve', 'reject']),
  planHash: z.string().min(1).max(200),
  comment: Comment,
  channel: z.enum(VOTE_CHANNELS),
  /** Not a rule's input: the gate records it with the vote and leaves it out of the rules. */
  client: DecisionClient,
  ...Signed,
});
export type VoteEvent = z.infer<typeof VoteEvent>;

// ---- a run as the API shows it (RunStatus, v1): the summary and the step rows put together ----

export const StepState = z.enum([
  'pending', 'running', 'waiting-approval', 'waiting-decision', 'waiting-confirmation', 'succeeded', 'failed', 'skipped', 'cancelled',
]);
export type StepState = z.infer<typeof StepState>;

export const RunPhase = z.enum([
  'planning', 'locking', 'waiting-window', 'running', 'succeeded', 'failed', 'aborted', 'rejected', 'cancelled',
]);
export type RunPhase = z.infer<typeof RunPhase>;

export const StepStatus = z.object({
  kind: z.enum(['command', 'manual', 'approval']),
  title: z.string(),
  state: StepState,
  attempt: z.number().int().nonnegative(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  rendered: z.string().optional(),
  lastError: z.string().optional(),
  /** approval steps: who approved so far (final once the gate is decided). */
  approvers: z.array(z.string()).optional(),
  /** approval steps: the display names (UPNs) of those approvers that have one, by identity (shared/identity/display.ts). */
  approverNames: z.record(z.string(), z.string()).optional(),
  /** the operator decisions taken on this step, in order (`byName`: the decider's UPN, for display). */
  decisions: z.array(z.object({ decision: z.string(), by: z.string(), byName: z.string().optional(), at: z.string() })).optional(),
});
export type StepStatus = z.infer<typeof StepStatus>;

export const Measure = z.object({
  minutes: z.number().nullable(),
  targetMinutes: z.number(),
  met: z.boolean().nullable(),
  from: z.string().optional(),
  to: z.string().optional(),
  basis: z.string(),
});
export type Measure = z.infer<typeof Measure>;

/** What a run's summary and its whole view (the API's) both say about it, besides its steps. */
const RunHeader = {
  runId: z.string(),
  runbook: z.string(),
  mode: RunMode,
  requestedBy: z.string(),
  /** Shown beside requestedBy, only when the run checked the API's signature over its input. */
  requestedByName: z.string().optional(),
  phase: RunPhase,
  planHash: z.string().optional(),
  title: z.string().optional(),
};
const RunOutcomeFields = {
  error: z.string().optional(),
  cancelRequested: z.object({ by: z.string(), byName: z.string().optional(), reason: z.string(), at: z.string() }).optional(),
  windowOpensAt: z.string().optional(),
  /** Executor version 8: paused by an operator (a signed pause the run took): no new step starts until a signed resume. */
  paused: z.object({ by: z.string(), byName: z.string().optional(), reason: z.string(), at: z.string() }).optional(),
  rto: Measure.optional(),
  rpo: Measure.optional(),
  updatedAt: z.string(),
};

export const RunStatus = z.object({
  v: z.literal(STATUS_CONTRACT_VERSION),
  ...RunHeader,
  steps: z.record(z.string(), StepStatus),
  /** Plan order of the steps (the record above is keyed by id). */
  order: z.array(z.string()),
  ...RunOutcomeFields,
});
export type RunStatus = z.infer<typeof RunStatus>;

// ---- customStatus v2: the run's summary ----
// Azure limits custom status to 16 KB of UTF-16 JSON (about 8,700 characters); a site failover's
// full step list is twice that. The summary stays small whatever the plan's size; each step's
// details are a row of the run-steps table (StepRow), written by the run's activities.

export const SUMMARY_CONTRACT_VERSION = 2;

export const ActiveStep = z.object({
  id: z.string(),
  kind: z.enum(['command', 'manual', 'approval']),
  state: StepState,
  attempt: z.number().int().nonnegative(),
});
export type ActiveStep = z.infer<typeof ActiveStep>;

export const RunSummary = z.object({
  v: z.literal(SUMMARY_CONTRACT_VERSION),
  ...RunHeader,
  /** Steps in the plan, and how many are in each state (states with none are left out). */
  total: z.number().int().nonnegative(),
  counts: z.partialRecord(StepState, z.number().int().positive()),
  /** The steps running or waiting on a person, those waiting first (at most MAX_ACTIVE; activeTotal counts them all). */
  active: z.array(ActiveStep),
  activeTotal: z.number().int().nonnegative(),
  /** Steps whose command may still be running on a worker (see mayBeInFlight), at most MAX_ACTIVE; inFlightTotal counts them all. */
  inFlight: z.array(z.string()),
  inFlightTotal: z.number().int().nonnegative(),
  ...RunOutcomeFields,
});
export type RunSummary = z.infer<typeof RunSummary>;

/** One step of a run as the run-steps table holds it (partition: the run id; row: the step id). */
export const StepRow = StepStatus.extend({
  stepId: z.string(),
  /** Position in the plan. */
  index: z.number().int().nonnegative(),
  /** The run's write counter: a row is never replaced by an older one (a retried activity). */
  seq: z.number().int().nonnegative(),
});
export type StepRow = z.infer<typeof StepRow>;

export type RunOutcome = 'succeeded' | 'failed' | 'aborted' | 'rejected' | 'cancelled';

export interface RunReport {
  v: 1;
  runId: string;
  runbook: string;
  mode: RunMode;
  outcome: RunOutcome;
  planHash?: string;
  error?: string;
  startedAt: string;
  finishedAt: string;
  steps: Record<string, StepStatus>;
  records: Record<string, unknown>;
  rto?: Measure;
  rpo?: Measure;
}

/** The approval gate's customStatus (instance gateInstanceId(runId, stepId)). */
export interface GateCustomStatus {
  v: 1;
  runId: string;
  stepId: string;
  planHash: string;
  status: 'pending' | 'approved' | 'rejected' | 'aborted' | 'cancelled';
  phase: 'primary' | 'escalated' | 'timed-out';
  required: number;
  approvers: string[];
  rejectors: string[];
  eligible: string[];
  deadline?: string;
  /** Every vote received, accepted or refused, by voteId. */
  /** `approverName`: the voter's signed UPN, for display (only on votes whose signature held). */
  votes: Array<{ voteId: string; approver: string; approverName?: string; decision: string; outcome: 'accepted' | 'refused'; code?: string; reason?: string; at: string }>;
  /** Executor version 5: every refused vote, counted; `votes` keeps the accepted ones and the last refused (REFUSED_SHOWN). */
  refusedTotal?: number;
  /** Executor version 5: voters refused often enough that the API no longer raises their votes (at most LIMITED_SHOWN). */
  limited?: string[];
}

export interface GateResult {
  status: 'approved' | 'rejected' | 'aborted' | 'cancelled';
  approvers: string[];
  rejectors: string[];
  /** The display names (UPNs) of approvers and rejectors that have one, by identity. */
  names?: Record<string, string>;
  reason?: string;
  decidedAt: string;
}

export const ORCHESTRATION = { runPlan: 'runPlan', approvalGate: 'approvalGate' } as const;

/** Input of the approval gate sub-orchestration. */
export interface GateInput {
  runId: string;
  stepId: string;
  title: string;
  reason: string;
  planHash: string;
  requester: string;
  policyName: string;
  policy: z.input<typeof ApprovalPolicySchema>;
  // Executor version 4 and later (all optional, so a gate started by older code replays unchanged):
  /** The gate tells people through the notify activity when it opens and after every change. */
  notify?: boolean;
  /** What the gate's notifications show that the fields above lack. */
  runbook?: string;
  runTitle?: string;
  /** The plan's steps that change the estate (at most 50) and how many there are in all. */
  changes?: Array<z.infer<typeof ChangeView>>;
  changesTotal?: number;
  rtoForecastMinutes?: number;
  rtoTargetMinutes?: number;
  /** Executor version 5: a vote counts only once the verifyDecision activity found it signed, and refusals are kept bounded. */
  signedVotes?: boolean;
  /** Executor version 8: votes and cancels are single-use (nonce) and fresh (checked by verifyDecision). */
  singleUse?: boolean;
  /** Executor version 11: a vote or cancel raised while the gate is busy is kept for its next wait (orchestrations/executor/tasks.ts). */
  oneWaiterPerEvent?: boolean;
}
