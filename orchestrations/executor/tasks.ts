// Helpers over the durable-functions task API that the executor's scheduler needs.
import type { OrchestrationContext, Task } from 'durable-functions';

interface TaskInternals {
  alreadyScheduled?: boolean;
  children?: TaskInternals[];
  actionObj?: { compoundActions?: unknown[] };
}

/**
 * Task.any over tasks some of which were already yielded in an earlier Task.any. The SDK puts the
 * whole compound action into the episode's action list again, which would schedule an activity or
 * timer that is already in history a second time; keep only the actions not yet scheduled. This
 * lets one orchestrator run many steps at once, each waiting on its own task.
 */
export function anyOf(context: OrchestrationContext, tasks: Task[]): Task {
  const any = context.df.Task.any(tasks);
  prune(any as unknown as TaskInternals);
  return any;
}

function prune(task: TaskInternals): void {
  const action = task.actionObj;
  if (!action?.compoundActions || !task.children) return;
  action.compoundActions = task.children
    .filter((c) => !c.alreadyScheduled)
    .map((c) => { prune(c); return c.actionObj; });
}

/** True when the task already completed or failed (no need to yield it). */
export const hasResult = (t: Task): boolean => (t as unknown as { hasResult: boolean }).hasResult;

export const addMs = (d: Date, ms: number): Date => new Date(d.getTime() + ms);

/**
 * Cancels a durable timer the orchestration no longer waits for. The Durable extension keeps an
 * orchestration Running until every timer it created has fired or been cancelled, so a forgotten
 * deadline would hold a finished gate, and the run waiting for it, until the deadline passed.
 */
export function cancelTimer(timer: Task | undefined): void {
  const t = timer as unknown as { hasResult: boolean; cancel(): void } | undefined;
  if (t && !t.hasResult) t.cancel();
}
