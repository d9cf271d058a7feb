// The app's settings (Function App application settings in Azure, local.settings.json locally),
// parsed once with zod. Orchestrators never read them: the HTTP trigger turns them into the run's
// input (runConfigFrom) so a run keeps the configuration it started with, even across deployments.
import { z } from 'zod';
import { ApprovalPolicySchema, IdentitySchema, type ApprovalPolicyInput } from '../approvals/schema.js';
import { DEFAULT_AUDIT_TABLE } from '../audit/config.js';
import type { RunConfig } from '../runs/contract.js';
import { resolveConfigured } from '../identity/index.js';

/** Local development identities (x-lyncdr-user / lyncdr --as): alice, bob, carol approve; dave escalates. */
const devPolicy = (over: Partial<ApprovalPolicyInput> = {}): ApprovalPolicyInput => ({
  required: 2,
  approverGroups: { primary: ['alice', 'bob', 'carol'], escalation: ['dave'] },
  timeoutMinutes: 30,
  escalationTimeoutMinutes: 30,
  ...over,
});
export const DEFAULT_APPROVAL_POLICIES: Record<string, ApprovalPolicyInput> = {
  default: devPolicy(),
  'declare-disaster': devPolicy(),
  'destructive-restore': devPolicy(),
};

const QueuePrefix = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?$/, 'queue prefix: lowercase letters, digits, hyphens inside, at most 22');
const minutes = (d: number) => z.coerce.number().positive().default(d);
/** A setting holding JSON text, parsed and then checked by `schema` (every settings module uses it). */
export const jsonText = <T extends z.ZodType>(schema: T) => z.string().transform((s, ctx) => {
  try {
    return JSON.parse(s) as unknown;
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not JSON: ${(err as Error).message}` });
    return z.NEVER;
  }
}).pipe(schema);

export const AppSettingsSchema = z.object({
  LYNCDR_TOPOLOGY: z.string().min(1).default('examples/estate.sample.yaml'),
  LYNCDR_TRANSPORT: z.enum(['azurite', 'servicebus']).default('azurite'),
  LYNCDR_QUEUE_PREFIX: QueuePrefix.default('lyncdr'),
  LYNCDR_RESULTS_QUEUE: z.string().min(1).optional(),
  LYNCDR_APPROVAL_POLICIES: jsonText(z.record(z.string(), ApprovalPolicySchema)).optional(),
  /** Who may start, confirm, decide, cancel and release locks (JSON list of identities); unset: anyone signed in. */
  LYNCDR_OPERATORS: jsonText(z.array(IdentitySchema).min(1, 'list at least one operator, or leave the setting out')).optional(),
  LYNCDR_AUDIT_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/).default(DEFAULT_AUDIT_TABLE),
  LYNCDR_LOCK_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/).default('LyncdrLocks'),
  LYNCDR_RUN_STEPS_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/).default('LyncdrRunSteps'),
  LYNCDR_COMMANDS_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/).default('LyncdrCommands'),
  LYNCDR_DECISION_TIMEOUT_MINUTES: minutes(7 * 24 * 60),
  LYNCDR_CONFIRM_TIMEOUT_MINUTES: minutes(7 * 24 * 60),
  LYNCDR_RESULT_GRACE_MS: z.coerce.number().int().nonnegative().default(30_000),
  /** Executor version 8: a signed decision counts only this long after the API signed it (README, Security). */
  LYNCDR_DECISION_MAX_AGE_MINUTES: minutes(15),
  /** How long a start's lock reservation waits for its run to exist before the next start may release it. */
  LYNCDR_LOCK_RESERVATION_SECONDS: z.coerce.number().positive().default(300),
  ServiceBusConnection: z.string().optional(),
});

export interface AppSettings {
  topologyFile: string;
  transport: 'azurite' | 'servicebus';
  queuePrefix: string;
  resultsQueue: string;
  approvalPolicies: RunConfig['approvalPolicies'];
  /** Undefined: every signed-in identity may operate runs. */
  operators?: string[];
  auditTable: string;
  lockTable: string;
  /** One row per step of every run: the details the run's small customStatus leaves out. */
  runStepsTable: string;
  /** The commands sent to workers (site, step, attempt), which their results must match. */
  commandsTable: string;
  decisionTimeoutMinutes: number;
  confirmationTimeoutMinutes: number;
  resultGraceMs: number;
  /** How old a signed decision event may be when its run checks it (executor version 8). */
  decisionMaxAgeMinutes: number;
  lockReservationSeconds: number;
  serviceBusConnection?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function appSettings(env: NodeJS.ProcessEnv = process.env): AppSettings {
  const blank = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const r = AppSettingsSchema.safeParse(blank);
  if (!r.success) throw new ConfigError(`invalid app settings: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const s = r.data;
  if (s.LYNCDR_TRANSPORT === 'servicebus' && !s.ServiceBusConnection) throw new ConfigError('LYNCDR_TRANSPORT=servicebus needs ServiceBusConnection');
  // People are compared as the identity mode knows them: object ids in easy-auth (names resolved
  // through LYNCDR_DIRECTORY), names as written locally (shared/identity).
  const who = (list: string[]) => list.map((e) => resolveConfigured(e, env));
  const policies = s.LYNCDR_APPROVAL_POLICIES ?? z.record(z.string(), ApprovalPolicySchema).parse(DEFAULT_APPROVAL_POLICIES);
  return {
    topologyFile: s.LYNCDR_TOPOLOGY,
    transport: s.LYNCDR_TRANSPORT,
    queuePrefix: s.LYNCDR_QUEUE_PREFIX,
    resultsQueue: s.LYNCDR_RESULTS_QUEUE ?? `${s.LYNCDR_QUEUE_PREFIX}-results`,
    approvalPolicies: Object.fromEntries(Object.entries(policies).map(([name, p]) => [name, {
      ...p, approverGroups: { primary: who(p.approverGroups.primary), escalation: who(p.approverGroups.escalation) },
    }])),
    ...(s.LYNCDR_OPERATORS ? { operators: who(s.LYNCDR_OPERATORS) } : {}),
    auditTable: s.LYNCDR_AUDIT_TABLE,
    lockTable: s.LYNCDR_LOCK_TABLE,
    runStepsTable: s.LYNCDR_RUN_STEPS_TABLE,
    commandsTable: s.LYNCDR_COMMANDS_TABLE,
    decisionTimeoutMinutes: s.LYNCDR_DECISION_TIMEOUT_MINUTES,
    confirmationTimeoutMinutes: s.LYNCDR_CONFIRM_TIMEOUT_MINUTES,
    resultGraceMs: s.LYNCDR_RESULT_GRACE_MS,
    decisionMaxAgeMinutes: s.LYNCDR_DECISION_MAX_AGE_MINUTES,
    lockReservationSeconds: s.LYNCDR_LOCK_RESERVATION_SECONDS,
    serviceBusConnection: s.ServiceBusConnection,
  };
}

/** What a run takes with it from the settings. */
export function runConfigFrom(s: AppSettings): RunConfig {
  return {
    queuePrefix: s.queuePrefix,
    approvalPolicies: s.approvalPolicies,
    decisionTimeoutMinutes: s.decisionTimeoutMinutes,
    confirmationTimeoutMinutes: s.confirmationTimeoutMinutes,
    resultGraceMs: s.resultGraceMs,
    executorVersion: EXECUTOR_VERSION,
  };
}

/**
 * What new runs get (RunConfig.executorVersion). 3: the run's customStatus is its summary
 * (contract v2), the plan builder writes the step rows, and the run records changed rows with a
 * recordSteps activity when no other activity carries them.
 * 4: the orchestrators notify people (the notify activity: gates, manual steps, decisions, the end).
 * 5: only what the API signed counts (decision events and the run's input, verified by activities),
 * and the run's configuration is read from the app's settings when it starts (checkStart).
 * 6: a manual step with a check runs it when confirmed; a failed check sends the step back to
 * waiting unless the confirmation overrides it (audited).
 * 7: a step that records a list asks its worker to keep it (`keep`), for steps that take ranges of it.
 * 8: every signed event is single-use (its nonce is taken once; a replay is refused and audited),
 * fresh (signedAt within LYNCDR_DECISION_MAX_AGE_MINUTES) and a step decision answers the
 * attempt it names; a pause is an app-level signed event the run checks at step boundaries.
 * 10: a refused precondition (the estate's, or the worker's not-supported) is not retried
 * automatically, and a result whose shape is impossible for its command counts as malformed
 * (orchestrations/executor/result-shape.ts): both wait for an operator's decision.
 * 11: an event raised while the run or a gate is busy with another (a second confirmation, vote or
 * cancel while the first is verified) is kept for the next wait of its name; before, the Durable
 * SDK could hand it to a wait already answered, and it was lost (orchestrations/executor/tasks.ts); a decision or confirmation deadline that passed meanwhile is taken at once.
 * 12: the run checks every result raised into it (the verifyResult activity, the results trigger's
 * rule): signed with the key of the step's site for the very command, attempt and site it waits
 * for; anything else (raised straight through the Durable API) is audited as result-refused and
 * the step waits on. Before, whatever came as `result:<commandId>` counted.
 * 13: a command step's verification may compare with the run's records (`from`), as a manual
 * step's check could already: legacy-site-dr checks the contact-list import's count against the
 * users its pre-flight listed. Before, a command's check saw no records.
 * 14: an operator's decision on a failed step is audited with the failure it answered
 * (`finding`): a skip past pchat-check-log-tail names the log backups given up and their times.
 * 15: a command step's precheck (a read of the state the command needs) runs on its site before
 * the command is sent; while it fails the command is not sent and the step waits for a decision
 * with the finding (`precondition-checked` in the trail). Before, preconditions were prose.
 */
export const EXECUTOR_VERSION = 15;
