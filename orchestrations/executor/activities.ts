// Typed calls of the executor's activities. The registrations live in functions/activities/runs.ts
// (they carry I/O, which orchestrator files may not import); the names and shapes are shared.
import type { OrchestrationContext, Task } from 'durable-functions';
import {
  ACTIVITY, type AuditInput, type BuildPlanInput, type DispatchInput, type LocksInput,
} from '../../shared/runs/activities.js';

export const activities = (context: OrchestrationContext) => ({
  buildPlan: (input: BuildPlanInput): Task => context.df.callActivity(ACTIVITY.buildPlan, input),
  /** Several entries are appended in the order given, in one activity. */
  audit: (input: AuditInput | AuditInput[]): Task => context.df.callActivity(ACTIVITY.audit, input),
  acquireLocks: (input: LocksInput): Task => context.df.callActivity(ACTIVITY.acquireLocks, input),
  releaseLocks: (input: LocksInput): Task => context.df.callActivity(ACTIVITY.releaseLocks, input),
  dispatchCommand: (input: DispatchInput): Task => context.df.callActivity(ACTIVITY.dispatchCommand, input),
});
