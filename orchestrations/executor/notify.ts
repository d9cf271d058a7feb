// How the executor tells people (executor version 4 and later): the notify activity with what the
// run knows now. Runs started by older code never call it, so they replay their old history. A
// notification that still fails after its retries is dropped: a mail server that is down must
// not stop a failover (the people it was for still see the run through the API and the CLI).
import type { Task } from 'durable-functions';
import type { z } from 'zod';
import { forecastRto } from '../../shared/plan/rto.js';
import type { Plan } from '../../shared/plan/schema.js';
import type { GateInput } from '../../shared/runs/contract.js';
import type { ChangeView as ChangeViewSchema, Notification } from '../../shared/runs/notifications.js';

type ChangeView = z.infer<typeof ChangeViewSchema>;
import { clip } from '../approval/gate-view.js';
import type { RunState } from './steps.js';

/** Executor version 4 added notifications. */
export const notifies = (run: Pick<RunState, 'input'>): boolean => (run.input.config.executorVersion ?? 1) >= 4;

/** A notification without what every one of a run carries (filled in here). */
type RunNotification = Notification extends infer N ? N extends unknown ? Omit<N, 'runId' | 'runbook' | 'runTitle' | 'at'> : never : never;

export function* notify(run: RunState, n: RunNotification): Generator<Task, void, unknown> {
  if (!notifies(run)) return;
  const full = { ...n, runId: run.input.runId, runbook: run.input.runbook, runTitle: clip(run.status.title ?? run.input.runbook, 500), at: run.now() } as Notification;
  try {
    yield run.act.notify(full);
  } catch {
    // Dropped after its retries (see above).
  }
}

const MAX_CHANGES = 50;

/** What a gate of this run needs to show its notifications (GateInput's optional fields). */
export function gateNotifyFields(run: RunState, plan: Plan | undefined): Partial<GateInput> {
  if (!notifies(run)) return {};
  const changing = (plan?.steps ?? []).filter((s) => s.kind === 'manual' || (s.kind === 'command' && s.effect !== 'read-only'));
  const changes: ChangeView[] = changing.slice(0, MAX_CHANGES).map((s) => ({
    id: s.id, title: clip(s.title, 500), ...('site' in s && s.site ? { site: clip(s.site, 100) } : {}),
  }));
  const forecast = plan ? forecastRto(plan) : undefined;
  return {
    notify: true, runbook: run.input.runbook, runTitle: clip(plan?.title ?? run.input.runbook, 500), changes, changesTotal: changing.length,
    ...(forecast ? { rtoForecastMinutes: Math.round(forecast.totalMs / 600) / 100, rtoTargetMinutes: plan!.targets.rtoMinutes } : {}),
  };
}
