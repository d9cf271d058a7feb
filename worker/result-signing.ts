// Every result leaves the worker signed with its site's key (shared/results/signature.ts): the
// app refuses results without it. Wrapping the transport signs all of them in one place.
import { MIN_RESULT_KEY_LENGTH, signResult } from '../shared/results/signature.js';
import type { WorkerTransport } from '../shared/transport/types.js';

export function signingTransport(transport: WorkerTransport, key: string): WorkerTransport {
  if (key.length < MIN_RESULT_KEY_LENGTH) throw new Error(`the result key must be at least ${MIN_RESULT_KEY_LENGTH} characters`);
  return {
    receiveCommands: (site, options) => transport.receiveCommands(site, options),
    sendResult: (result, replyTo) => transport.sendResult(signResult(result, key), replyTo),
    sendHealth: (health) => transport.sendHealth(health),
    close: () => transport.close(),
  };
}
