// Worker results: a Service Bus queue trigger in Azure (the local host maps it onto the Azurite
// queue of the same name). The message is untrusted: parse it, then raise `result:<commandId>` on
// the run it belongs to. An unparseable message throws, so the platform retries it and then
// dead-letters it (kept for a human); a result for a run that has ended is logged and dropped (a
// paused run has not ended).
import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { ResultMessage } from '../../shared/messages.js';
import { EVENTS } from '../../shared/runs/contract.js';

export async function onWorkerResult(message: unknown, context: InvocationContext): Promise<void> {
  let body = message;
  if (typeof body === 'string') { try { body = JSON.parse(body); } catch { /* parsed below */ } }
  const r = ResultMessage.safeParse(body);
  if (!r.success) throw new Error(`not a worker result: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const result = r.data;
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
  await client.raiseEvent(result.runId, EVENTS.result(result.commandId), result);
}

app.serviceBusQueue('runResults', {
  connection: 'ServiceBusConnection',
  queueName: '%LYNCDR_RESULTS_QUEUE%',
  extraInputs: [df.input.durableClient()],
  handler: onWorkerResult,
});
