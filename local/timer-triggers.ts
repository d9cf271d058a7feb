// Timer triggers: the NCRONTAB schedule (six fields, seconds first) runs through croner.
import { Cron } from 'croner';
import type { RegisteredFunction } from './functions-core.js';
import { invocationContext, type InputResolver } from './invocation-context.js';

export function startTimerTrigger(fn: RegisteredFunction, resolve: InputResolver, expand: (s: string) => string, log: (l: 'warn' | 'error', m: string) => void): { stop(): void } {
  const t = fn.trigger as { schedule?: string; runOnStartup?: boolean; useMonitor?: boolean };
  if (!t.schedule) throw new Error(`function '${fn.name}': timer trigger without a schedule`);
  const schedule = expand(t.schedule);
  let last: Date | undefined;
  const fire = async (isPastDue: boolean) => {
    const now = new Date();
    const next = job.nextRun();
    const ctx = invocationContext(fn, resolve);
    try {
      await fn.handler({ isPastDue, schedule: { adjustForDST: false }, scheduleStatus: { last: last?.toISOString(), next: next?.toISOString(), lastUpdated: now.toISOString() } }, ctx);
    } catch (err) {
      log('error', `timer function '${fn.name}' failed: ${(err as Error).message}`);
    }
    last = now;
  };
  let job: Cron;
  try {
    job = new Cron(schedule, { protect: true, timezone: 'UTC' }, () => fire(false));
  } catch (err) {
    throw new Error(`function '${fn.name}': schedule '${schedule}' is not a valid NCRONTAB expression: ${(err as Error).message}`);
  }
  if (t.runOnStartup) void fire(false);
  return { stop: () => job.stop() };
}
