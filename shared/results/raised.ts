// Executor version 12: a result event raised into a run counts only when it passes the trigger's
// own rule (authenticateResult: signed with its site's key, answering the command sent) for the
// one command the run's wait is for. The trigger checks what comes off the queue, but anyone who
// can raise Durable events (the management API's system key) reaches the run without it, so the
// run asks again. Pure apart from the keys it is given.
import type { SiteName } from '../messages.js';
import { authenticateResult, type Verdict } from './authenticate.js';
import { resultIn } from './correlated.js';
import type { SentCommand } from './sent-commands.js';


/** Whether `event`, raised as `result:<awaited.commandId>`, is the genuine answer to `awaited`. */
export async function authenticateRaised(event: unknown, awaited: SentCommand, keysFor: (site: SiteName) => readonly string[]): Promise<Verdict> {
  const found = resultIn(event);
  if (!found) return { ok: false, refusal: 'not-a-result', reason: 'not a worker result: no run, command, site, worker and signature of the right types' };
  const { result } = found;
  // The run's own record of what it sent is the lookup: nothing else may answer this wait.
  const verdict = await authenticateResult(result, keysFor(result.site), async (runId, commandId) =>
    (runId === awaited.runId && commandId === awaited.commandId ? awaited : undefined));
  if (!verdict.ok && verdict.refusal === 'unknown-command') {
    // Signed, but for another command (another attempt's, captured and raised again, or another run's).
    const of = result.runId === awaited.runId ? '' : ` of run ${String(result.runId).slice(0, 200)}`;
    return { ok: false, refusal: 'wrong-command', reason: `the result answers command ${String(result.commandId).slice(0, 128)}${of}; the step waits for ${awaited.commandId} (attempt ${awaited.attempt})` };
  }
  return verdict;
}
