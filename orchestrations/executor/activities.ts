// Typed calls of the executor's activities. The registrations live in functions/activities/runs.ts
// (they carry I/O, which orchestrator files may not import); the names and shapes are shared.
// The run's changed step rows ride with the next audit or dispatch it calls (`rows`), so keeping
// the run-steps table current costs no activity of its own while the run is busy.
import type { OrchestrationContext, Task } from 'durable-functions';
import {
  ACTIVITY, type AuditInput, type BuildPlanInput, type DispatchInput, type LocksInput, type RecordStepsInput,
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
});
