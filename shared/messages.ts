// Wire contract between the cloud (orchestrations) and the on-prem hybrid workers.
// Both sides parse every message with these schemas: a queue is a trust boundary, and a
// worker of an older or newer version must fail loudly rather than half-understand a message.
// `v` is the contract version; bump it (and accept both during a rollout) on breaking changes.
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** A site name is part of queue names (`lyncdr-commands-<site>`), so it must be queue-safe. */
export const SiteName = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$/, 'site: 1-24 lowercase letters, digits, hyphens inside')
  // Storage queue names forbid consecutive hyphens.
  .refine((s) => !s.includes('--'), 'site: no consecutive hyphens');
export type SiteName = z.infer<typeof SiteName>;

// Service Bus limits messageId to 128 characters; the journal uses it as a key too.
export const CommandId = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:@-]+$/, 'commandId: letters, digits, . _ : @ -');
export type CommandId = z.infer<typeof CommandId>;

const IsoTime = z.iso.datetime({ offset: true });
const Id = z.string().min(1).max(200);

export const ExecutionMode = z.enum(['drill', 'whatif', 'live']);
export type ExecutionMode = z.infer<typeof ExecutionMode>;

/** A catalog command by name with its parameters; the catalog validates params per command. */
export const Invocation = z.object({
  name: z.string().min(1).max(100),
  params: z.record(z.string(), z.unknown()),
});
export type Invocation = z.infer<typeof Invocation>;

/** Six hours: longer than any single cmdlet / restore we run; a bigger value is a bug upstream. */
export const MAX_COMMAND_TIMEOUT_MS = 6 * 60 * 60 * 1000;

export const CommandMessage = z.object({
  v: z.literal(1),
  commandId: CommandId,
  runId: Id,
  stepId: Id,
  site: SiteName,
  invocation: Invocation,
  mode: ExecutionMode,
  timeoutMs: z.number().int().positive().max(MAX_COMMAND_TIMEOUT_MS),
  sentAt: IsoTime,
  /** Which attempt of the step this is (1 on the first); the worker returns it in the result. */
  attempt: z.number().int().positive().optional(),
  /** Queue for the result when the sender does not read the shared results queue. */
  replyTo: z.string().min(1).max(260).optional(),
  /**
   * The step's records key: when the command returns a list, the worker keeps all of it under
   * this key for the run (the message carries only what fits), and users.moveRecorded takes slices of it.
   */
  keep: z.string().regex(/^[a-zA-Z][a-zA-Z0-9.]{0,63}$/).optional(),
  /**
   * A read-only check the worker runs right after the command succeeds, in the same delivery, and
   * returns with the result: one round trip through the queues instead of two. Not run in what-if
   * or after a failure. A worker that does not return it (older, or stopped between the two) makes
   * the orchestrator send the check as a command of its own.
   */
  verify: z.object({
    /** Names the check in logs and in the estate's records; the same id the check has when sent on its own. */
    commandId: CommandId,
    invocation: Invocation,
    timeoutMs: z.number().int().positive().max(MAX_COMMAND_TIMEOUT_MS),
  }).optional(),
});
export type CommandMessage = z.infer<typeof CommandMessage>;

export const ResultStatus = z.enum(['succeeded', 'failed', 'timeout', 'outcome-unknown', 'rejected']);
export type ResultStatus = z.infer<typeof ResultStatus>;

/**
 * Why a command did not succeed. Kept apart from the status so the orchestrator can classify
 * retryable (timeout, transient) versus user errors (invalid, precondition) without parsing text.
 */
export const ErrorKind = z.enum([
  'invalid-message', // not a CommandMessage at all
  'invalid-params', // a known command with parameters the catalog refuses
  'unknown-command',
  'wrong-site', // delivered to the worker of another site
  'precondition', // the estate is not in a state where the command may run
  'execution', // the command ran and failed
  'timeout',
  'crash', // the command's process died
  'outcome-unknown', // the worker died mid-command: it may or may not have taken effect
  'internal',
]);
export type ErrorKind = z.infer<typeof ErrorKind>;

export const ResultError = z.object({ kind: ErrorKind, message: z.string().max(8000) });
export type ResultError = z.infer<typeof ResultError>;

/** What the bundled verification of a command returned (CommandMessage.verify). */
export const VerificationResult = z.object({
  status: z.enum(['succeeded', 'failed', 'timeout']),
  exitCode: z.number().int().optional(),
  output: z.unknown().optional(),
  stderr: z.string().optional(),
  rendered: z.string().optional(),
  startedAt: IsoTime,
  finishedAt: IsoTime,
  error: ResultError.optional(),
});
export type VerificationResult = z.infer<typeof VerificationResult>;

export const ResultMessage = z.object({
  v: z.literal(1),
  commandId: CommandId,
  runId: Id,
  stepId: Id,
  site: SiteName,
  workerId: Id,
  status: ResultStatus,
  exitCode: z.number().int().optional(),
  output: z.unknown().optional(),
  stderr: z.string().optional(),
  /** The exact script / statement the worker ran, for the audit trail. */
  rendered: z.string().optional(),
  startedAt: IsoTime.optional(),
  finishedAt: IsoTime,
  durationMs: z.number().int().nonnegative().optional(),
  /** True when the answer comes from the journal of an earlier delivery, not a new execution. */
  duplicate: z.boolean(),
  error: ResultError.optional(),
  /** Present when the command asked for a verification, succeeded, and the check ran. */
  verification: VerificationResult.optional(),
  /** The command's attempt, as the command said (CommandMessage.attempt). */
  attempt: z.number().int().positive().optional(),
  /** `hmac-sha256:<base64url>` with the site's result key (shared/results/signature.ts); the app refuses results without it. */
  signature: z.string().max(200).optional(),
});
export type ResultMessage = z.infer<typeof ResultMessage>;

export const ProbeResult = z.object({
  name: z.string().min(1).max(100),
  ok: z.boolean(),
  detail: z.string().max(2000),
  value: z.union([z.number(), z.string(), z.boolean()]).optional(),
});
export type ProbeResult = z.infer<typeof ProbeResult>;

export const HealthMessage = z.object({
  v: z.literal(1),
  kind: z.enum(['heartbeat', 'probe']),
  site: SiteName,
  workerId: Id,
  at: IsoTime,
  probes: z.array(ProbeResult).optional(),
});
export type HealthMessage = z.infer<typeof HealthMessage>;

/**
 * The idempotency key of one attempt of one step of one run. Deterministic, so an orchestrator
 * replay re-derives the same key and the worker recognises a redelivery. Long ids are hashed to
 * stay inside Service Bus's 128-character messageId.
 */
export function commandIdFor(runId: string, stepId: string, attempt: number): CommandId {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be a positive integer, got ${attempt}`);
  const plain = `${runId}:${stepId}:${attempt}`;
  if (plain.length <= 128 && /^[A-Za-z0-9._:@-]+$/.test(plain)) return plain;
  return `h:${createHash('sha256').update(plain).digest('hex')}:${attempt}`;
}

/** Queue names shared by both transports; `prefix` lets tests isolate themselves. */
export interface QueueNames {
  commands(site: SiteName): string;
  results: string;
  health: string;
}
export function queueNames(prefix = 'lyncdr'): QueueNames {
  return {
    commands: (site) => `${prefix}-commands-${SiteName.parse(site)}`,
    results: `${prefix}-results`,
    health: `${prefix}-health`,
  };
}
