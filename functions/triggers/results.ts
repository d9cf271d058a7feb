// Worker results: a Service Bus queue trigger in Azure (the local host maps it onto the Azurite
// queue of the same name). The message is untrusted: parse it, authenticate it (signed with the
// key of its site, matching the command sent: shared/results/authenticate.ts), then raise
// `result:<commandId>` on the run it belongs to. An unparseable message throws, so the platform
// retries it and then dead-letters it (kept for a human), unless it is genuine (correlated and
// signed), when it goes to its step as it came, to be recorded as malformed; a result for a run that has ended is
// logged and dropped (a paused run has not ended); a refused one is audited in the run's trail and
// dropped, so its step keeps waiting for the real answer.
import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { ResultMessage } from '../../shared/messages.js';
import { correlated } from '../../shared/results/correlated.js';
import { authenticateResult } from '../../shared/results/authenticate.js';
import { refusedEntry } from '../../shared/results/refused-entry.js';
import { resultKeysFor } from '../../shared/results/signature.js';
import { EVENTS } from '../../shared/runs/contract.js';
import { appendAudit, sentCommands } from '../activities/runs.js';

export async function onWorkerResult(message: unknown, context: InvocationContext): Promise<void> {
  let body = message;
  if (typeof body === 'string') { try { body = JSON.parse(body); } catch { /* parsed below */ } }
  const r = ResultMessage.safeParse(body);
  const notAResult = () => new Error(`not a worker result: ${r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`.slice(0, 2000));
  // A result that names its run, command and site can be authenticated even when the rest does
  // not parse: a genuine one goes to its step, which records it as malformed and waits for an
  // operator, instead of waiting out its timeout for an answer that already came.
  const result = r.success ? r.data : correlated(body);
  if (!result) throw notAResult();
  const client = df.getClient(context);
  let runtimeStatus: string | undefined;
  try {
    runtimeStatus = String((await client.getStatus(result.runId)).runtimeStatus);
  } catch (err) {
    if (!/404/.test((err as Error).message)) throw err;
  }
  // A paused (Suspended) run keeps the result and acts on it when it is resumed.
  if (!runtimeStatus || !['Running', 'Pending', 'Suspended'].includes(runtimeStatus)) {
    context.warn(`result ${result.commandId} for run ${result.runId} dropped: the run is ${runtimeStatus ?? 'unknown'}`);
    return;
  }
  const verdict = await authenticateResult(result, resultKeysFor(result.site), (runId, commandId) => sentCommands().find(runId, commandId));
  if (!verdict.ok) {
    if (!r.success) throw notAResult();
    context.warn(`result ${result.commandId} for run ${result.runId} (site ${result.site}, worker ${result.workerId}) refused, ${verdict.refusal}: ${verdict.reason}`);
    await appendAudit(refusedEntry({ runId: result.runId, commandId: result.commandId, body, result, refusal: verdict.refusal, reason: verdict.reason, at: new Date().toISOString() }));
    return;
  }
  // With its signature: from executor version 12 the run checks it again itself (anyone who can
  // raise events could otherwise put a result straight into it); older runs' parse ignores it.
  await client.raiseEvent(result.runId, EVENTS.result(result.commandId), result);
}

app.serviceBusQueue('runResults', {
  connection: 'ServiceBusConnection',
  queueName: '%LYNCDR_RESULTS_QUEUE%',
  extraInputs: [df.input.durableClient()],
  handler: onWorkerResult,
});
