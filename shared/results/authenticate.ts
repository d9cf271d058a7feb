// Whether a worker's result may count: signed with the key of the site it names, and matching the
// command the app sent (id, step, site, attempt). Pure apart from the lookup it is given, so the
// trigger stays an adapter and each refusal has one place that words it.
import type { ResultMessage } from '../messages.js';
import type { SentCommand } from './sent-commands.js';
import { resultKeySetting, signatureMatches } from './signature.js';

export type Refusal = 'unsigned' | 'no-key' | 'bad-signature' | 'unknown-command' | 'wrong-step' | 'wrong-site' | 'wrong-attempt'
  // Executor version 12, an event raised straight into a run: no result at all, or one for another command than the wait's.
  | 'not-a-result' | 'wrong-command';

export type Verdict = { ok: true; command: SentCommand } | { ok: false; refusal: Refusal; reason: string };

export async function authenticateResult(result: ResultMessage, keys: readonly string[],
  findCommand: (runId: string, commandId: string) => Promise<SentCommand | undefined>): Promise<Verdict> {
  const setting = resultKeySetting(result.site);
  if (!keys.length) return { ok: false, refusal: 'no-key', reason: `no key for site ${result.site}: set ${setting} (at least 32 characters) to accept its worker's results` };
  if (!result.signature) return { ok: false, refusal: 'unsigned', reason: `unsigned result (a worker without its result key, or an older one): configure the ${result.site} worker with the key in ${setting}` };
  if (!signatureMatches(result, keys)) return { ok: false, refusal: 'bad-signature', reason: `the signature does not verify with ${setting}: another site's key, or the result was altered` };
  const command = await findCommand(result.runId, result.commandId);
  if (!command) return { ok: false, refusal: 'unknown-command', reason: 'no command with this id was sent for this run' };
  if (command.stepId !== result.stepId) return { ok: false, refusal: 'wrong-step', reason: `the command was sent for step ${command.stepId}` };
  if (command.site !== result.site) return { ok: false, refusal: 'wrong-site', reason: `the command was sent to site ${command.site}, the result is from site ${result.site}` };
  if (command.attempt !== result.attempt) return { ok: false, refusal: 'wrong-attempt', reason: `the command is attempt ${command.attempt}, the result says ${result.attempt ?? 'none'}` };
  return { ok: true, command };
}
