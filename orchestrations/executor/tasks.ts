// Helpers over the durable-functions task API that the executor's scheduler needs.
import type { OrchestrationContext, Task } from 'durable-functions';

interface TaskInternals {
  alreadyScheduled?: boolean;
  hasResult?: boolean;
  children?: TaskInternals[];
  actionObj?: { compoundActions?: unknown[] };
}

/** The SDK executor's table of external-event waits, by event name (the SDK hands an event to the last one). */
interface ExecutorInternals { openEvents?: Record<string, TaskInternals[]> }

export interface AnyOfOptions {
  /**
   * Executor version 11: each event wait is listed once with the SDK, so an event that arrives
   * while the orchestrator is busy waits for its next wait instead of being lost (oneWaiterPerEvent).
   */
  oneWaiterPerEvent?: boolean;
}

/**
 * Task.any over tasks some of which were already yielded in an earlier Task.any. The SDK puts the
 * whole compound action into the episode's action list again, which would schedule an activity or
 * timer that is already in history a second time; keep only the actions not yet scheduled. This
 * lets one orchestrator run many steps at once, each waiting on its own task.
 */
export function anyOf(context: OrchestrationContext, tasks: Task[], options: AnyOfOptions = {}): Task {
  const any = context.df.Task.any(tasks);
  prune(any as unknown as TaskInternals);
  if (options.oneWaiterPerEvent) oneWaiterPerEvent(context, any as unknown as TaskInternals);
  return any;
}

/**
 * When a Task.any is yielded, the SDK lists every event wait in it with its executor again, even a
 * wait it listed at an earlier Task.any that is still open. The first event of that name takes one
 * entry and completes the wait; the stale copies stay, and the next event of the same name (a
 * second confirmation raised moments later, while the orchestrator verifies the first) goes to an
 * answered wait and is lost. Before the SDK lists this Task.any's waits, drop them from its table
 * (it lists each of them once more) and drop every wait already answered: with no open wait for a
 * name, the SDK keeps the event and hands it to the next wait for that name.
 */
function oneWaiterPerEvent(context: OrchestrationContext, any: TaskInternals): void {
  const open = (context.df as unknown as { taskOrchestratorExecutor?: ExecutorInternals }).taskOrchestratorExecutor?.openEvents;
  if (!open) return;
  const relisted = new Set<TaskInternals>();
  const walk = (t: TaskInternals): void => { if (t.children) t.children.forEach(walk); else relisted.add(t); };
  walk(any);
  for (const name of Object.keys(open)) {
    const keep = [...new Set(open[name])].filter((t) => !t.hasResult && !relisted.has(t));
    if (keep.length) open[name] = keep;
    else delete open[name];
  }
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
