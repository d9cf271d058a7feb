// What a paused run answers to a signal (a vote, a decision, a confirmation, a cancel): 409 with
// who paused it, when and why, from its audit trail, and how to resume it. A paused run is a
// suspended Durable instance: a signal sent to it would only wait, unseen, until it is resumed.
import { readRunTrail } from '../activities/runs.js';
import type { DecisionAnswer } from './decisions.js';

export interface PausedBy { by: string; at: string; reason: string }

/** The latest pause in the run's trail (undefined when the trail cannot say). */
export async function pausedBy(runId: string): Promise<PausedBy | undefined> {
  try {
    const last = (await readRunTrail(runId)).filter((e) => e.kind === 'run-paused').pop();
    const reason = (last?.data as { reason?: unknown } | undefined)?.reason;
    return last ? { by: last.actor, at: last.at, reason: typeof reason === 'string' ? reason : '' } : undefined;
  } catch {
    return undefined; // the refusal stands without the details
  }
}

export async function pausedRefusal(runId: string, what: string): Promise<DecisionAnswer> {
  const p = await pausedBy(runId);
  const who = p ? ` by ${p.by} at ${p.at}: ${p.reason}` : '';
  return { status: 409, body: { error: `run ${runId} is paused${who}; ${what} is refused until an operator resumes it (lyncdr resume ${runId} --reason ...)`, code: 'paused', ...(p ? { paused: p } : {}) } };
}
