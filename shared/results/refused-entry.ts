// A refused result in the run's trail, the same entry whoever refused it: the results trigger (a
// message off the queue) or, from executor version 12, the run itself (an event raised straight
// into it). Keyed by the bytes that came, so a redelivery is recorded once and each distinct
// forgery once.
import { createHash } from 'node:crypto';
import type { ResultMessage } from '../messages.js';
import type { AuditInput } from '../runs/activities.js';
import type { Refusal } from './authenticate.js';

export interface RefusedResult {
  runId: string;
  /** The command whose result this claims to be (the trigger) or whose wait it was raised into (the run). */
  commandId: string;
  body: unknown;
  /** What the body claims, when it has the fields of a result. */
  result: ResultMessage | undefined;
  refusal: Refusal;
  reason: string;
  at: string;
  /** Executor version 12: the command the run was waiting for when the event was raised. */
  awaited?: { commandId: string; stepId: string; site: string; attempt: number };
}

export function refusedEntry(r: RefusedResult): AuditInput {
  const digest = createHash('sha256').update(JSON.stringify(r.body) ?? 'undefined').digest('hex').slice(0, 16);
  const claimed = r.result;
  return {
    runId: r.runId, key: `result-refused:${r.commandId}:${digest}`, kind: 'result-refused', actor: 'lyncdr', at: r.at,
    data: {
      commandId: claimed ? String(claimed.commandId).slice(0, 128) : null, stepId: claimed ? String(claimed.stepId).slice(0, 200) : null,
      site: claimed?.site ?? null, workerId: claimed ? String(claimed.workerId).slice(0, 100) : null, attempt: claimed?.attempt ?? null,
      refusal: r.refusal, reason: r.reason, ...(r.awaited ? { awaited: r.awaited } : {}),
    },
  };
}
