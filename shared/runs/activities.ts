// Names and shapes of the executor's activities: the one place both sides agree on. The
// orchestrators call them through the typed helpers in orchestrations/executor/activities.ts
// (they may not import the registrations, which carry I/O); functions/activities/ registers them.
import type { AuditKind } from '../audit/schema.js';
import type { Invocation, ExecutionMode } from '../messages.js';
import type { Refusal } from '../results/authenticate.js';
import type { Plan } from '../plan/schema.js';
import type { RunConfig, RunMode, RunOptions, StepRow } from './contract.js';

export const ACTIVITY = {
  buildPlan: 'runs-buildPlan',
  audit: 'runs-audit',
  acquireLocks: 'runs-acquireLocks',
  releaseLocks: 'runs-releaseLocks',
  dispatchCommand: 'runs-dispatchCommand',
  recordSteps: 'runs-recordSteps',
  /** Executor version 5: is a decision event signed by the API (functions/activities/trust.ts)? */
  verifyDecision: 'runs-verifyDecision',
  /** Executor version 12: is a result raised into the run the genuine answer to the command it waits for (functions/activities/verify-result.ts)? */
  verifyResult: 'runs-verifyResult',
  /** Executor version 5: is the run's input the API's, and the configuration it runs under. */
  checkStart: 'runs-checkStart',
  /** Tells people on every configured channel (functions/activities/notify.ts). */
  notify: 'notify',
} as const;

export interface BuildPlanInput {
  runId: string;
  runbook: string;
  options: RunOptions;
  mode: RunMode;
  requestedBy: string;
  /** The starter's UPN, for run:declared's actorName: set only when the run checked its input's signature. */
  requestedByName?: string;
  at: string;
  /** Policy names the run's configuration defines (a gate naming another one is refused here). */
  policies: string[];
  /** Write every step's first row (executor version 3 and later). */
  writeSteps?: boolean;
  /**
   * Set only by code that knows the version-downgrade rule, for a run whose input names an
   * executor version before 5 (or none): the version and the whole input. Only a new run ever
   * executes an activity with this field (see run-plan.ts); the activity refuses it unless the
   * app's key sealed the input.
   */
  olderVersion?: { version: number; input: unknown };
}
export type BuildPlanOutput =
  | { ok: true; plan: Plan; planHash: string }
  | { ok: false; error: string };

export interface AuditInput {
  runId: string;
  key: string;
  kind: AuditKind;
  actor: string;
  at: string;
  data: unknown;
}

/** Audit entries written in order, then the run's changed step rows (executor version 3). */
export interface AuditEnvelope { entries: AuditInput[]; steps: StepRow[] }
export interface RecordStepsInput { runId: string; steps: StepRow[] }

export interface LocksInput { runId: string; locks: string[]; at: string }
export interface LockTakenOver { lock: string; from: string; fromStatus: string }
export type AcquireLocksOutput =
  | { ok: true; tookOver?: LockTakenOver[] }
  | { ok: false; lock: string; heldBy: string; since?: string; reason?: string };

export interface DispatchInput {
  runId: string;
  stepId: string;
  attempt: number;
  site: string;
  invocation: Invocation;
  mode: ExecutionMode;
  timeoutMs: number;
  at: string;
  /** Queue prefix the run was started with (its workers listen there). */
  queuePrefix: string;
  /** The step's records key: the worker keeps a listed output whole under it (executor 7). */
  keep?: string;
  /** The step's read-only verification, run by the worker right after the command succeeds. */
  verify?: { stepId: string; invocation: Invocation; timeoutMs: number };
  /** The run's changed step rows, recorded after the dispatch is audited. */
  steps?: StepRow[];
}
export interface DispatchOutput { commandId: string }

/** The worker's mode for a run mode: what-if runs every command with -WhatIf. */
export function executionModeFor(mode: RunMode): ExecutionMode {
  return mode === 'what-if' ? 'whatif' : mode;
}

/**
 * A decision event as it reached the orchestrator, and what it must be signed for. `fresh`
 * (executor version 8): it must also carry a nonce and have been signed within the window.
 */
export interface VerifyDecisionInput { runId: string; kind: 'vote' | 'confirm' | 'decision' | 'cancel' | 'pause' | 'resume'; target: string; event: unknown; fresh?: boolean }
export type VerifyDecisionOutput = { ok: true } | { ok: false; reason: string; code?: 'stale' };

/**
 * Executor version 12: a result event as it reached the run, and the command the run waits for
 * (what it dispatched: run, command id, step, site, attempt). A refusal is audited by the activity
 * (`result-refused`, keyed by the command and the event's bytes) under the run's time `at`.
 */
export interface VerifyResultInput { runId: string; commandId: string; stepId: string; site: string; attempt: number; event: unknown; at: string }
export type VerifyResultOutput = { ok: true } | { ok: false; refusal: Refusal; reason: string };

export interface CheckStartInput { input: unknown; at: string }
/** The configuration is read from the app's settings when the run starts: never from the input. */
export type CheckStartOutput =
  | { ok: true; config: Omit<RunConfig, 'executorVersion'>; operators?: string[] }
  | { ok: false; reason: string };
