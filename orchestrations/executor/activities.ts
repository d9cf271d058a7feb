// Typed calls of the executor's activities. The registrations live in functions/activities/runs.ts
// (they carry I/O, which orchestrator files may not import); the names and shapes are shared.
// The run's changed step rows ride with the next audit or dispatch it calls (`rows`), so keeping
// the run-steps table current costs no activity of its own while the run is busy.
import type { OrchestrationContext, RetryOptions, Task } from 'durable-functions';
import type { Notification } from '../../shared/runs/notifications.js';
import {
  ACTIVITY, type AuditInput, type BuildPlanInput, type CheckStartInput, type VerifyDecisionInput, type VerifyResultInput, type DispatchInput, type LocksInput, type RecordStepsInput,
} from '../../shared/runs/activities.js';
import type { StepRow } from '../../shared/runs/contract.js';

export const activities = (context: OrchestrationContext, rows: () => StepRow[] = () => []) => ({
  buildPlan: (input: BuildPlanInput): Task => context.df.callActivity(ACTIVITY.buildPlan, input),
  /** Several entries are appended in the order given, in one activity. */
  audit: (input: AuditInput | AuditInput[]): Task => {
    const steps = rows();
    return context.df.callActivity(ACTIVITY.audit, steps.length ? { entries: Array.isArray(input) ? input : [input], steps } : input);
  },
  acquireLocks: (input: LocksInput): Task => context.df.callActivity(ACTIVITY.acquireLocks, input),
  releaseLocks: (input: LocksInput): Task => context.df.callActivity(ACTIVITY.releaseLocks, input),
  dispatchCommand: (input: DispatchInput): Task => {
    const steps = rows();
    return context.df.callActivity(ACTIVITY.dispatchCommand, steps.length ? { ...input, steps } : input);
  },
  recordSteps: (input: RecordStepsInput): Task => context.df.callActivity(ACTIVITY.recordSteps, input),
  verifyDecision: (input: VerifyDecisionInput): Task => context.df.callActivity(ACTIVITY.verifyDecision, input),
  verifyResult: (input: VerifyResultInput): Task => context.df.callActivity(ACTIVITY.verifyResult, input),
  checkStart: (input: CheckStartInput): Task => context.df.callActivity(ACTIVITY.checkStart, input),
  /** A channel that fails (the mail server is down) is retried: 3 attempts, 2 s then 4 s apart. */
  notify: (n: Notification): Task => context.df.callActivityWithRetry(ACTIVITY.notify, NOTIFY_RETRY, n),
});

// A plain object of RetryOptions' shape: the class's constructor is all it adds, and orchestrations
// import only the SDK's types.
const NOTIFY_RETRY = { firstRetryIntervalInMilliseconds: 2000, maxNumberOfAttempts: 3, backoffCoefficient: 2 } as RetryOptions;
