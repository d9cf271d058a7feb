// The executor's activities: thin adapters over the audit trail, the lock table, the plan
// builders and the command transport. Each takes what the orchestrator recorded (including the
// time, which the orchestrator owns) and is safe to run twice: audit keys, lock rows and command
// ids are idempotency keys.
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { createAuditTrail, auditConfigFromEnv, type AuditTrail } from '../../shared/audit/index.js';
import { appSettings } from '../../shared/config/index.js';
import { CommandMessage, commandIdFor } from '../../shared/messages.js';
import {
  ACTIVITY, type AcquireLocksOutput, type AuditEnvelope, type AuditInput, type RecordStepsInput, type LockTakenOver, type BuildPlanInput, type BuildPlanOutput, type DispatchInput, type DispatchOutput, type LocksInput,
} from '../../shared/runs/activities.js';
import { RunLocks } from '../../shared/runs/locks.js';
import { RunStepsTable } from '../../shared/runs/step-rows.js';
import { SentCommands } from '../../shared/results/sent-commands.js';
import { initialStepStatus } from '../../shared/runs/summary.js';
import { decisionKey, signatureRefusal } from '../runs/signing.js';
import { holdReason, holderState, takeOverAllowed, type HolderState } from '../../shared/runs/lock-holder.js';
import { buildAndHash } from '../../shared/runs/plan-source.js';
import { RunbookName } from '../../shared/plan/schema.js';
import { storageConnectionString } from '../../shared/storage/connection.js';
import { loadTopologyFile } from '../../shared/topology/index.js';
import { AzuriteQueueTransport } from '../../shared/transport/azurite.js';
import { ServiceBusTransport } from '../../shared/transport/servicebus.js';
import type { CloudTransport } from '../../shared/transport/types.js';

let trail: AuditTrail | undefined;
const audit = () => (trail ??= createAuditTrail({ ...auditConfigFromEnv(), tableName: appSettings().auditTable }));
let locks: RunLocks | undefined;
export const runLocks = () => (locks ??= new RunLocks(storageConnectionString(), appSettings().lockTable));
const transports = new Map<string, CloudTransport>();
function transport(prefix: string): CloudTransport {
  let t = transports.get(prefix);
  if (!t) {
    const s = appSettings();
    t = s.transport === 'servicebus'
      ? new ServiceBusTransport({ connectionString: s.serviceBusConnection!, prefix })
      : new AzuriteQueueTransport({ connectionString: storageConnectionString(), prefix });
    transports.set(prefix, t);
  }
  return t;
}

/** A run's trail as stored, for the API's own reads (who paused a run, and why). */
export const readRunTrail = (runId: string) => audit().readRun(runId);

export async function appendAudit(input: AuditInput): Promise<void> {
  await audit().append(input.runId, input.key, { kind: input.kind, actor: input.actor, at: input.at, data: input.data });
}

let sent: SentCommands | undefined;
export const sentCommands = () => (sent ??= new SentCommands(storageConnectionString(), appSettings().commandsTable));

let steps: RunStepsTable | undefined;
export const runSteps = () => (steps ??= new RunStepsTable(storageConnectionString(), appSettings().runStepsTable));

/**
 * One entry, or several written in order (a step's result and its verdict: one activity, no race
 * between them), then the run's changed step rows when they ride along (an AuditEnvelope).
 */
export const auditActivity = df.app.activity(ACTIVITY.audit, {
  handler: async (input: AuditInput | AuditInput[] | AuditEnvelope) => {
    const envelope = !Array.isArray(input) && 'entries' in input ? input : undefined;
    const entries = envelope ? envelope.entries : Array.isArray(input) ? input : [input as AuditInput];
    for (const entry of entries) await appendAudit(entry);
    if (envelope?.steps.length) await runSteps().write(entries[0].runId, envelope.steps);
  },
});

/** The run's changed step rows, when no other activity of the run carried them. */
export const recordStepsActivity = df.app.activity(ACTIVITY.recordSteps, {
  handler: async (input: RecordStepsInput) => runSteps().write(input.runId, input.steps),
});

/**
 * A new run whose input names an executor version before 5 (or none) would run without the
 * checks of version 5 (checkStart, signed decisions): anyone who can start orchestrations could
 * pick the old behaviour. The API never starts one, so such an input runs only when the app's key
 * sealed it (the tests of old versions do; nobody else holds the key).
 */
function olderVersionRefusal(runId: string, older: NonNullable<BuildPlanInput['olderVersion']>): string | undefined {
  let key: string;
  try { key = decisionKey(); } catch (err) { return `this run names executor version ${older.version}, which new runs may not use, and its seal cannot be checked: ${(err as Error).message}`; }
  if (!signatureRefusal(key, { kind: 'run', runId, target: 'run' }, older.input)) return undefined;
  return `this run names executor version ${older.version}, which new runs may not use (only runs started before version 5 keep it, to replay as they ran; the lyncdr API starts every run at version 5 or later): it does nothing`;
}

/**
 * Builds the plan from the configured topology and audits the declaration and the plan. A plan
 * that cannot be built is a business outcome (ok: false, audited), not an activity failure, so
 * the run ends with the builder's reason instead of retrying it.
 */
export const buildPlanActivity = df.app.activity(ACTIVITY.buildPlan, {
  handler: async (input: BuildPlanInput): Promise<BuildPlanOutput> => {
    if (input.olderVersion) {
      const refused = olderVersionRefusal(input.runId, input.olderVersion);
      // Nothing declared, planned or written: the run records this as its end (run:end).
      if (refused) return { ok: false, error: refused };
    }
    const s = appSettings();
    await appendAudit({ runId: input.runId, key: 'run:declared', kind: 'run-declared', actor: input.requestedBy, at: input.at,
      data: { ...(input.requestedByName ? { actorName: input.requestedByName } : {}), runbook: input.runbook, options: input.options, mode: input.mode, topology: s.topologyFile } });
    let out: BuildPlanOutput;
    try {
      const topo = await loadTopologyFile(s.topologyFile);
      if (!topo.ok) throw new Error(`topology ${s.topologyFile} is invalid: ${topo.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
      const { plan, planHash } = buildAndHash(RunbookName.parse(input.runbook), topo.topology, input.options);
      const unknown = plan.steps.filter((st) => st.kind === 'approval' && !input.policies.includes(st.policy) && !input.policies.includes('default'));
      if (unknown.length) throw new Error(`no approval policy ${unknown.map((u) => (u.kind === 'approval' ? u.policy : '')).join(', ')} is configured (LYNCDR_APPROVAL_POLICIES)`);
      out = { ok: true, plan, planHash };
    } catch (err) {
      out = { ok: false, error: `cannot build the ${input.runbook} plan: ${(err as Error).message}` };
    }
    await appendAudit({ runId: input.runId, key: 'plan', kind: 'plan', actor: 'lyncdr', at: input.at,
      data: out.ok ? { planHash: out.planHash, plan: out.plan } : { error: out.error } });
    if (out.ok && input.writeSteps) {
      await runSteps().write(input.runId, out.plan.steps.map((st, index) => ({ ...initialStepStatus(st), stepId: st.id, index, seq: 0 })));
    }
    return out;
  },
});

/**
 * Takes the plan's locks, all or none. A lock whose run has ended with nothing in flight is stale
 * (terminated through the Durable API, or its release failed): it is released, recorded in that
 * run's trail, and taken. Any other holder refuses the run, with what an operator can do about it.
 */
export const acquireLocksActivity = df.app.activity(ACTIVITY.acquireLocks, {
  extraInputs: [df.input.durableClient()],
  handler: async (input: LocksInput, context: InvocationContext): Promise<AcquireLocksOutput> => {
    const tookOver: LockTakenOver[] = [];
    // Each pass either succeeds, refuses, or removes one stale holder: bounded by the locks asked for.
    for (let pass = 0; pass <= input.locks.length; pass++) {
      const r = await runLocks().acquire(input.runId, input.locks, input.at);
      if (r.ok) return tookOver.length ? { ok: true, tookOver } : { ok: true };
      const holder = await lockHolder(df.getClient(context), r.heldBy);
      if (!takeOverAllowed(holder)) return { ...r, reason: holdReason(r.lock, holder, r.since) };
      if (await releaseStale(r.lock, holder, r.since, { actor: 'lyncdr', at: input.at, reason: `released for run ${input.runId}`, key: `lock:${r.lock}:released-for:${input.runId}` })) {
        tookOver.push({ lock: r.lock, from: holder.runId, fromStatus: holder.runtimeStatus ?? 'unknown' });
      }
    }
    throw new Error(`could not take the locks ${input.locks.join(', ')}: they keep changing hands`);
  },
});

/** The state of the run holding a lock, through the Durable client (404: the run is gone). */
export async function lockHolder(client: ReturnType<typeof df.getClient>, runId: string): Promise<HolderState> {
  try {
    return holderState(runId, await client.getStatus(runId, { showInput: false }));
  } catch (err) {
    if (/404|not found/i.test((err as Error).message)) return holderState(runId, undefined);
    throw err;
  }
}

/**
 * Releases a lock its run no longer needs and says so in that run's trail, under a key of this
 * release (`key`: deterministic for the activity, so a redelivery writes it once). The row goes
 * first: when two runs race for a stale lock only the one that removed it records the release,
 * and the record is retried, because a release nobody can find afterwards is what must not happen.
 */
export async function releaseStale(lock: string, holder: HolderState, since: string | undefined,
  by: { actor: string; at: string; reason: string; key: string }): Promise<boolean> {
  if ((await runLocks().release(holder.runId, [lock])) === 0) return false;
  const entry: AuditInput = { runId: holder.runId, key: by.key, kind: 'lock-released', actor: by.actor, at: by.at,
    data: { lock, heldSince: since, runtimeStatus: holder.runtimeStatus ?? null, inFlight: holder.inFlight ?? null, reason: by.reason } };
  for (let attempt = 1; ; attempt++) {
    try {
      await appendAudit(entry);
      return true;
    } catch (err) {
      if (attempt >= 5) throw new Error(`lock ${lock} of run ${holder.runId} was released but the release could not be recorded: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

export const releaseLocksActivity = df.app.activity(ACTIVITY.releaseLocks, {
  handler: async (input: LocksInput): Promise<number> => runLocks().release(input.runId, input.locks),
});

/** Sends one attempt of one command step to its site's worker, then audits the dispatch. */
export const dispatchCommandActivity = df.app.activity(ACTIVITY.dispatchCommand, {
  handler: async (input: DispatchInput): Promise<DispatchOutput> => {
    const commandId = commandIdFor(input.runId, input.stepId, input.attempt);
    const verify = input.verify && { commandId: commandIdFor(input.runId, input.verify.stepId, input.attempt), invocation: input.verify.invocation, timeoutMs: input.verify.timeoutMs };
    const message = CommandMessage.parse({
      v: 1, commandId, runId: input.runId, stepId: input.stepId, site: input.site, invocation: input.invocation,
      mode: input.mode, timeoutMs: input.timeoutMs, sentAt: input.at, attempt: input.attempt, ...(input.keep ? { keep: input.keep } : {}), ...(verify ? { verify } : {}),
    });
    // Recorded before it is sent, so its result (however fast) finds what it must match.
    await sentCommands().record({ runId: input.runId, commandId, stepId: input.stepId, site: input.site, attempt: input.attempt });
    // Service Bus drops a resend with the same messageId; the worker's journal absorbs it on Azurite.
    await transport(input.queuePrefix).sendCommand(message);
    await appendAudit({ runId: input.runId, key: `step:${input.stepId}:attempt:${input.attempt}:dispatched`, kind: 'step-dispatched', actor: 'lyncdr', at: input.at,
      data: { commandId, site: input.site, invocation: input.invocation, mode: input.mode, timeoutMs: input.timeoutMs, ...(verify ? { verify } : {}) } });
    if (input.steps?.length) await runSteps().write(input.runId, input.steps);
    return { commandId };
  },
});
