// The Plan: what a runbook builder produces and the executor orchestration runs. A DAG of steps
// (commands sent to a site's worker, manual work an operator confirms, approval gates). This is a
// contract between orchestrations/, the CLI, the audit trail and the dashboard: version it.
import { z } from 'zod';
import { CommandInvocation } from '../commands/invocation.js';

export const PLAN_SCHEMA_VERSION = 1;

export const StepId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'step id: lowercase letters, digits and hyphens, at most 63');
export const RunbookName = z.enum([
  'fe-pool-failover', 'fe-pool-failback', 'site-failover', 'site-failback',
  'pchat-pool-failover', 'pchat-pool-failback', 'pchat-backup', 'pchat-restore',
  'cms-failover', 'legacy-site-dr', 'legacy-nightly-export', 'readiness',
]);
export type RunbookName = z.infer<typeof RunbookName>;

export const RetryPolicy = z.object({
  /** Total attempts, first included. Steps that are not safe to retry have 1. */
  maxAttempts: z.number().int().min(1).max(10),
  firstIntervalMs: z.number().int().min(0),
  backoffCoefficient: z.number().min(1).max(10).default(2),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

/** A check on a command's structured output: `path` is a dotted path into the output. */
export const Expectation = z.object({
  path: z.string().min(1),
  // has: the value, or one of the values (PowerShell's member enumeration gives one or many), equals.
  // countAtMost: the list at `path` ('.': the output itself), whole or cut, has at most `value` items.
  op: z.enum(['equals', 'notEquals', 'lessThan', 'greaterThan', 'includes', 'excludes', 'endsWith', 'exists', 'has', 'countAtMost']),
  value: z.unknown().optional(),
  /**
   * The expected value is read from what the run recorded earlier (a manual step's check against
   * the read before it): `path` in record `record`; `pick: 'max'` takes the greatest of a list;
   * `pick: 'count'` the size of the list at `path` ('.': the record itself), whole or as the
   * worker cut it for the queue message ({ truncated, count, items }).
   */
  from: z.strictObject({ record: z.string().min(1), path: z.string().min(1), pick: z.enum(['max', 'count']).optional() }).optional(),
  description: z.string().min(1),
});
export type Expectation = z.infer<typeof Expectation>;

export const Verification = z.object({
  description: z.string().min(1),
  /** A read-only command whose output is checked; absent: the step's own output is checked. */
  command: CommandInvocation.optional(),
  expect: z.array(Expectation).min(1),
});
export type Verification = z.infer<typeof Verification>;

const StepBase = z.object({
  id: StepId,
  /** What an operator reads: "Fail eepool1's users over to eepool2". */
  title: z.string().min(1).max(200),
  /** The numbered step of the seed this comes from, for the reader ("seed 001, scenario 2A, step 3"). */
  source: z.string().optional(),
  dependsOn: z.array(StepId).default([]),
  preconditions: z.array(z.string().min(1)).default([]),
  timeoutMs: z.number().int().positive(),
  estimatedMs: z.number().int().nonnegative(),
  /** Key under which the executor records this step's output for later steps and for failback. */
  records: z.string().regex(/^[a-zA-Z][a-zA-Z0-9.]*$/).optional(),
});

export const CommandStep = StepBase.extend({
  kind: z.literal('command'),
  /** Site (lowercase, as the worker names it) whose worker runs the command. */
  site: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$/),
  command: CommandInvocation,
  /** The line as an administrator would type it (from the catalog's render). */
  rendered: z.string().min(1),
  effect: z.enum(['read-only', 'idempotent', 'non-idempotent']),
  retrySafe: z.boolean(),
  retry: RetryPolicy,
  verification: Verification.optional(),
  /**
   * A read-only check of the estate the executor runs on the step's site before it sends the
   * command (executor 15): the state the command needs, read, not described. While it fails the
   * command is not sent; the step waits for an operator's decision with the check's finding.
   */
  precheck: Verification.extend({ command: CommandInvocation }).optional(),
  compensation: z.object({ description: z.string(), command: CommandInvocation.optional(), rendered: z.string().optional() }).optional(),
});
export type CommandStep = z.infer<typeof CommandStep>;

export const ManualStep = StepBase.extend({
  kind: z.literal('manual'),
  site: z.string().optional(),
  /** What the operator must do, precisely; they confirm it when done. */
  instructions: z.string().min(1),
  /**
   * A read-only check run by the step's site when it is confirmed: a failed check sends the step
   * back to waiting with its finding, unless the confirmation overrides it (audited).
   */
  verification: Verification.extend({ command: CommandInvocation }).optional(),
});
export type ManualStep = z.infer<typeof ManualStep>;

export const GateStep = StepBase.extend({
  kind: z.literal('approval'),
  /** Which configured approval policy applies (e.g. "declare-disaster", "destructive-restore"). */
  policy: z.string().min(1),
  /** Why approval is asked: shown to approvers with the plan. */
  reason: z.string().min(1),
  /** The RTO clock starts when this gate is approved (the disaster declaration). */
  startsRtoClock: z.boolean().default(false),
});
export type GateStep = z.infer<typeof GateStep>;

export const PlanStep = z.discriminatedUnion('kind', [CommandStep, ManualStep, GateStep]);
export type PlanStep = z.infer<typeof PlanStep>;

export const Plan = z.object({
  v: z.literal(PLAN_SCHEMA_VERSION),
  runbook: RunbookName,
  title: z.string().min(1),
  /** The options the builder was called with (after defaults). */
  options: z.record(z.string(), z.unknown()),
  steps: z.array(PlanStep).min(1),
  /** A maintenance window the run waits for before its first non-gate step (pChat failover / failback). */
  maintenanceWindow: z.object({ startsAt: z.string().datetime(), reason: z.string() }).optional(),
  /** RTO / RPO targets this run is measured against (minutes). */
  targets: z.object({ rtoMinutes: z.number().positive(), rpoMinutes: z.number().positive(), source: z.string() }),
  /** Users whose Persistent Chat clients reconnect (at about 10 logons per second) after the run. */
  pchatUsersReconnecting: z.number().int().nonnegative().default(0),
  /** Pools / resources the run acts on: two runs never hold the same one at once. */
  locks: z.array(z.string().min(1)).min(1),
});
export type Plan = z.infer<typeof Plan>;
export type PlanInput = z.input<typeof Plan>;
