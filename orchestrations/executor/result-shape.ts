// A result can parse and still be one no worker of ours sends for the command it answers: a
// success that carries an error, a failure that names none, a check's answer the command did not
// ask for (or after it failed). Such a result says nothing reliable about what happened on the
// estate, so from executor version 10 it counts as malformed: no automatic retry, an operator
// decides. Pure: it runs inside the orchestrator.
import type { ResultMessage } from '../../shared/messages.js';

/** What makes `r` impossible as the answer to a command that asked (or not) for a check; undefined when nothing does. */
export function impossibleShape(r: ResultMessage, askedForCheck: boolean): string | undefined {
  if (r.status === 'succeeded' && r.error) return `status succeeded with an error (${r.error.kind})`;
  if (r.status !== 'succeeded' && !r.error) return `status ${r.status} without an error saying why`;
  if (r.status === 'outcome-unknown' && r.error?.kind !== 'outcome-unknown') return `status outcome-unknown with error kind ${r.error?.kind}`;
  if (r.verification && !askedForCheck) return 'a verification the command did not ask for';
  if (r.verification && r.status !== 'succeeded') return `a verification after status ${r.status} (a check runs only after success)`;
  return undefined;
}
