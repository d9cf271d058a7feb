// Step builders shared by the runbooks. Every command step goes through the catalog here, so a
// runbook cannot produce a step whose rendered line, effect or retry policy disagrees with the
// command it sends (validatePlan checks the same again on the way in to the executor).
import { validateInvocation } from '../../shared/commands/invocation.js';
import type { CommandName } from '../../shared/commands/catalog.js';
import type { CommandStep, Expectation, GateStep, ManualStep, PlanStep, RetryPolicy, Verification } from '../../shared/plan/schema.js';

const S = 1000;
const MIN = 60 * S;

/** A builder was asked for something the estate or the options do not allow; the message says what. */
export class PlanBuildError extends Error {
  override name = 'PlanBuildError';
}

// Retry profiles, named as in the STYLE guide. Only reads and idempotent commands retry; a
// non-idempotent command that timed out may have run, so it gets exactly one attempt.
export const RETRY = {
  read: { maxAttempts: 3, firstIntervalMs: 5 * S, backoffCoefficient: 2 },
  idempotent: { maxAttempts: 3, firstIntervalMs: 15 * S, backoffCoefficient: 2 },
  once: { maxAttempts: 1, firstIntervalMs: 0, backoffCoefficient: 2 },
} as const satisfies Record<string, RetryPolicy>;

/**
 * Typical durations per command on an estate of the sample's size, and a timeout with room for
 * a slow day. Figures come from the seeds where they give one (CMS failover ~4-5 min, Invoke-
 * CsPoolFailover several minutes, a log restore seconds per file) and lab timings otherwise.
 */
export const DURATIONS: Record<CommandName, { estimatedMs: number; timeoutMs: number }> = {
  'pool.failover': { estimatedMs: 10 * MIN, timeoutMs: 45 * MIN },
  'pool.failback': { estimatedMs: 10 * MIN, timeoutMs: 45 * MIN },
  'pool.get': { estimatedMs: 5 * S, timeoutMs: 2 * MIN },
  'pool.backupRelationship': { estimatedMs: 5 * S, timeoutMs: 2 * MIN },
  'pool.fabricState': { estimatedMs: 30 * S, timeoutMs: 5 * MIN },
  'pool.testRegistration': { estimatedMs: 30 * S, timeoutMs: 5 * MIN },
  'backup.status': { estimatedMs: 20 * S, timeoutMs: 3 * MIN },
  'backup.sync': { estimatedMs: 1 * MIN, timeoutMs: 15 * MIN },
  'cms.failover': { estimatedMs: 4 * MIN, timeoutMs: 20 * MIN },
  // The Normal set waits for replication first.
  'cms.move': { estimatedMs: 5 * MIN, timeoutMs: 30 * MIN },
  'cms.replicationStatus': { estimatedMs: 15 * S, timeoutMs: 3 * MIN },
  'cms.locate': { estimatedMs: 10 * S, timeoutMs: 2 * MIN },
  'edge.getServices': { estimatedMs: 10 * S, timeoutMs: 2 * MIN },
  // Includes CMS replication of the new next hop to the Edge servers.
  'edge.setNextHop': { estimatedMs: 2 * MIN, timeoutMs: 10 * MIN },
  'dns.getRecord': { estimatedMs: 5 * S, timeoutMs: 2 * MIN },
  'dns.addA': { estimatedMs: 10 * S, timeoutMs: 2 * MIN },
  'dns.addCname': { estimatedMs: 10 * S, timeoutMs: 2 * MIN },
  'dns.addSrv': { estimatedMs: 10 * S, timeoutMs: 2 * MIN },
  'dns.removeRecord': { estimatedMs: 10 * S, timeoutMs: 2 * MIN },
  'pchat.getState': { estimatedMs: 10 * S, timeoutMs: 2 * MIN },
  'pchat.setState': { estimatedMs: 1 * MIN, timeoutMs: 10 * MIN },
  'pchat.getServices': { estimatedMs: 10 * S, timeoutMs: 2 * MIN },
  'pchat.addActiveServers': { estimatedMs: 1 * MIN, timeoutMs: 10 * MIN },
  'pchat.clearActiveServers': { estimatedMs: 30 * S, timeoutMs: 10 * MIN },
  'pchat.installMirror': { estimatedMs: 15 * MIN, timeoutMs: 60 * MIN },
  'pchat.uninstallMirror': { estimatedMs: 2 * MIN, timeoutMs: 15 * MIN },
  'pchat.exportData': { estimatedMs: 10 * MIN, timeoutMs: 2 * 60 * MIN },
  'pchat.importData': { estimatedMs: 20 * MIN, timeoutMs: 3 * 60 * MIN },
  'sql.logShippingMonitor': { estimatedMs: 5 * S, timeoutMs: 2 * MIN },
  'sql.logShippingSecondary': { estimatedMs: 5 * S, timeoutMs: 2 * MIN },
  'sql.deleteLogShippingSecondary': { estimatedMs: 15 * S, timeoutMs: 5 * MIN },
  'sql.lastRestoredBackup': { estimatedMs: 5 * S, timeoutMs: 2 * MIN },
  'sql.readBackupHeader': { estimatedMs: 5 * S, timeoutMs: 2 * MIN },
  'sql.restoreLog': { estimatedMs: 30 * S, timeoutMs: 15 * MIN },
  'sql.listSessions': { estimatedMs: 5 * S, timeoutMs: 2 * MIN },
  'sql.killSession': { estimatedMs: 5 * S, timeoutMs: 2 * MIN },
  'sql.setSingleUser': { estimatedMs: 15 * S, timeoutMs: 5 * MIN },
  'sql.setMultiUser': { estimatedMs: 10 * S, timeoutMs: 5 * MIN },
  'sql.recoverDatabase': { estimatedMs: 1 * MIN, timeoutMs: 30 * MIN },
  'sql.backupDatabase': { estimatedMs: 5 * MIN, timeoutMs: 60 * MIN },
  'sql.restoreDatabaseReplace': { estimatedMs: 5 * MIN, timeoutMs: 60 * MIN },
  'sql.removeMirroring': { estimatedMs: 20 * S, timeoutMs: 5 * MIN },
  // The log tail: a restore-history read and a folder listing or two; then a restore per file.
  'sql.listUnappliedLogs': { estimatedMs: 10 * S, timeoutMs: 5 * MIN },
  'sql.restoreRecordedLogs': { estimatedMs: 5 * MIN, timeoutMs: 2 * 60 * MIN },
  'file.listLogBackups': { estimatedMs: 5 * S, timeoutMs: 2 * MIN },
  'file.copyLogBackups': { estimatedMs: 30 * S, timeoutMs: 20 * MIN },
  'file.pruneExports': { estimatedMs: 5 * S, timeoutMs: 10 * MIN },
  'users.listByPool': { estimatedMs: 1 * MIN, timeoutMs: 10 * MIN },
  'users.get': { estimatedMs: 5 * S, timeoutMs: 2 * MIN },
  'users.poolInfo': { estimatedMs: 5 * S, timeoutMs: 2 * MIN },
  // A batch of up to 500 forced moves (only the home server attribute changes).
  'users.move': { estimatedMs: 4 * MIN, timeoutMs: 30 * MIN },
  'users.moveRecorded': { estimatedMs: 4 * MIN, timeoutMs: 30 * MIN },
  'userdata.export': { estimatedMs: 10 * MIN, timeoutMs: 60 * MIN },
  'userdata.import': { estimatedMs: 15 * MIN, timeoutMs: 2 * 60 * MIN },
  'userdata.update': { estimatedMs: 10 * MIN, timeoutMs: 60 * MIN },
  'rgs.export': { estimatedMs: 1 * MIN, timeoutMs: 15 * MIN },
  'rgs.import': { estimatedMs: 3 * MIN, timeoutMs: 30 * MIN },
  'legacy.exportContacts': { estimatedMs: 5 * MIN, timeoutMs: 60 * MIN },
  'legacy.importContacts': { estimatedMs: 10 * MIN, timeoutMs: 2 * 60 * MIN },
};

export interface StepCommon {
  dependsOn?: string[];
  preconditions?: string[];
  source?: string;
  records?: string;
  timeoutMs?: number;
  estimatedMs?: number;
}

export interface CommandStepInput extends StepCommon {
  title: string;
  site: string;
  verification?: Verification;
  /** Read before the command is sent (verifyWith): the command runs only while it holds. */
  precheck?: Verification;
  compensation?: CommandStep['compensation'];
}

/** The worker site id for a topology site name ("East" -> "east"). */
export function siteId(site: string): string {
  return site.toLowerCase();
}

function common(c: StepCommon): Pick<CommandStep, 'dependsOn' | 'preconditions'> & Partial<Pick<CommandStep, 'source' | 'records'>> {
  return {
    dependsOn: [...(c.dependsOn ?? [])],
    preconditions: [...(c.preconditions ?? [])],
    ...(c.source ? { source: c.source } : {}),
    ...(c.records ? { records: c.records } : {}),
  };
}

/** A command step from a catalog command; invalid params are a PlanBuildError naming the step. */
export function cmd(id: string, name: CommandName, params: Record<string, unknown>, input: CommandStepInput): CommandStep {
  const v = validateInvocation({ name, params });
  if (!v.ok) throw new PlanBuildError(`step ${id}: ${name}: ${v.error}`);
  const d = DURATIONS[name];
  const effect = v.command.effect;
  return {
    id,
    kind: 'command',
    title: input.title,
    site: siteId(input.site),
    // The parsed params (defaults filled, FQDNs lower-cased): exactly what the worker receives.
    command: { name, params: v.params as Record<string, unknown> },
    rendered: v.rendered,
    effect,
    retrySafe: effect !== 'non-idempotent',
    retry: { ...(effect === 'read-only' ? RETRY.read : effect === 'idempotent' ? RETRY.idempotent : RETRY.once) },
    timeoutMs: input.timeoutMs ?? d.timeoutMs,
    estimatedMs: input.estimatedMs ?? d.estimatedMs,
    ...common(input),
    ...(input.verification ? { verification: input.verification } : {}),
    ...(input.precheck ? { precheck: precheckOf(id, input.precheck) } : {}),
    ...(input.compensation ? { compensation: input.compensation } : {}),
  };
}

function precheckOf(id: string, v: Verification): NonNullable<CommandStep['precheck']> {
  if (!v.command) throw new PlanBuildError(`step ${id}: a precheck reads the estate (verifyWith); the step has no output yet`);
  return { ...v, command: v.command };
}

/**
 * A manual step. `verification` (a read-only command, see verifyWith) runs on the step's site when
 * the step is confirmed: every runbook's manual step has one, so a confirmation proves something.
 */
export function manual(id: string, input: StepCommon & { title: string; instructions: string; site?: string; estimatedMs: number; timeoutMs: number; verification?: Verification }): ManualStep {
  if (input.verification && !input.site) throw new PlanBuildError(`step ${id}: a manual step's check needs the site whose worker runs it`);
  if (input.verification && !input.verification.command) throw new PlanBuildError(`step ${id}: a manual step's check must read the estate (a command), it has no output of its own`);
  const verification = input.verification?.command ? { ...input.verification, command: input.verification.command } : undefined;
  return {
    id,
    kind: 'manual',
    title: input.title,
    instructions: input.instructions,
    ...(input.site ? { site: siteId(input.site) } : {}),
    timeoutMs: input.timeoutMs,
    estimatedMs: input.estimatedMs,
    ...common(input),
    ...(verification ? { verification } : {}),
  };
}

export function gate(id: string, input: StepCommon & { title: string; policy: string; reason: string; startsRtoClock: boolean }): GateStep {
  return {
    id,
    kind: 'approval',
    title: input.title,
    policy: input.policy,
    reason: input.reason,
    startsRtoClock: input.startsRtoClock,
    // Approvers are people: allow an hour; the estimate is not part of the RTO (the clock starts on approval).
    timeoutMs: input.timeoutMs ?? 60 * MIN,
    estimatedMs: input.estimatedMs ?? 10 * MIN,
    ...common(input),
  };
}

/** A verification by a read-only catalog command; validated here so a typo fails the build, not the run. */
export function verifyWith(description: string, name: CommandName, params: Record<string, unknown>, expect: Expectation[]): Verification {
  const v = validateInvocation({ name, params });
  if (!v.ok) throw new PlanBuildError(`verification ${name}: ${v.error}`);
  if (v.command.effect !== 'read-only') throw new PlanBuildError(`verification ${name} must be read-only`);
  return { description, command: { name, params: v.params as Record<string, unknown> }, expect };
}

/** A check on the step's own output. */
export function verifyOutput(description: string, expect: Expectation[]): Verification {
  return { description, expect };
}

export function expectEq(path: string, value: unknown, description: string): Expectation {
  return { path, op: 'equals', value, description };
}

export const DURATION = { S, MIN };

/**
 * Reads of the topology that only the active Central Management Store answers (Get-CsService,
 * Get-CsPersistentChatState without -LocalStore). With the CMS on a failed pool they cannot run in
 * pre-flight: they run right after the CMS failover, before anything they record is changed.
 */
const CMS_MASTER_READS: ReadonlySet<string> = new Set(['edge.getServices', 'pchat.getServices', 'pchat.getState']);

export function deferCmsReads(preflight: PlanStep[], cmsFailsOver: boolean, cmsStepId = 'cms-failover'): { preflight: PlanStep[]; afterCms: PlanStep[] } {
  if (!cmsFailsOver) return { preflight, afterCms: [] };
  const moves = (s: PlanStep) => s.kind === 'command' && CMS_MASTER_READS.has(s.command.name) && !s.command.params.localStore;
  return {
    preflight: preflight.filter((s) => !moves(s)),
    afterCms: preflight.filter(moves).map((s) => ({ ...s, dependsOn: [cmsStepId], preconditions: [...(s.preconditions ?? []), 'the CMS has failed over: this read needs the active Central Management Store'] })),
  };
}
