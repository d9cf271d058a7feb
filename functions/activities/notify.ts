// The notify activity: what the orchestrators tell people (shared/runs/notifications.ts), sent on
// every configured channel (functions/channels/registry.ts). Nothing configured: it returns at
// once. A run's end is told with the verdict on its audit trail, checked here (the orchestrator
// cannot read the trail). A channel that throws fails the activity, and the orchestrator's retry
// options send it again; each channel sends a key to a recipient once, so a retry or a replay
// tells nobody twice.
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { auditConfigFromEnv, createAuditTrail } from '../../shared/audit/index.js';
import { appSettings } from '../../shared/config/index.js';
import { ACTIVITY } from '../../shared/runs/activities.js';
import { Notification } from '../../shared/runs/notifications.js';
import { configuredSenders } from '../channels/registry.js';

/**
 * A notification that does not parse is a bug in the orchestrator, and sending it again cannot
 * fix it. Durable Functions for JavaScript cannot tell its retry options which errors to retry,
 * so the orchestrator's few retries still happen; the name says what it is in the logs.
 */
export class InvalidNotificationError extends Error {
  override name = 'InvalidNotificationError (not retryable)';
}

export async function notifyHandler(input: unknown, context?: Pick<InvocationContext, 'warn'>): Promise<{ channels: string[] }> {
  const parsed = Notification.safeParse(input);
  if (!parsed.success) throw new InvalidNotificationError(`invalid notification: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { senders, missing } = configuredSenders();
  if (missing.length) context?.warn(`LYNCDR_CHANNELS names ${missing.join(', ')}, whose settings are missing: skipped`);
  if (senders.length === 0) return { channels: [] };
  let n: Notification & { auditVerified?: boolean } = parsed.data;
  if (n.kind === 'run-ended') {
    const trail = createAuditTrail({ ...auditConfigFromEnv(), tableName: appSettings().auditTable });
    n = { ...n, auditVerified: (await trail.verify(n.runId)).ok };
  }
  for (const s of senders) await s.send(n);
  return { channels: senders.map((s) => s.name) };
}

export const notifyActivity = df.app.activity(ACTIVITY.notify, { handler: (input: unknown, context: InvocationContext) => notifyHandler(input, context) });
