// Storage-queue and Service Bus queue triggers, mapped onto Azurite queues of the same name (the
// local transport). Messages are base64 JSON, as the Functions storage-queue trigger expects; a
// message dequeued more than maxDequeueCount times goes to <queue>-poison, as in Azure.
import type { QueueClient } from '@azure/storage-queue';
import { queueService } from '../shared/storage/connection.js';
import type { RegisteredFunction } from './functions-core.js';
import { invocationContext, type InputResolver } from './invocation-context.js';

export interface QueueTriggerOptions {
  connectionString: string;
  maxDequeueCount: number;
  /** Lease while the function runs. */
  visibilitySeconds: number;
  /** Hidden for this long after a failure before the next delivery. */
  retryVisibilitySeconds: number;
  resolve: InputResolver;
  expand: (s: string) => string;
  log: (level: 'info' | 'warn' | 'error', m: string) => void;
}

export function decodeQueueMessage(text: string): unknown {
  let decoded = text;
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0) decoded = Buffer.from(text, 'base64').toString('utf8');
  try {
    return JSON.parse(decoded);
  } catch {
    return decoded;
  }
}

export function startQueueTrigger(fn: RegisteredFunction, o: QueueTriggerOptions): { stop(): Promise<void> } {
  const t = fn.trigger as { queueName?: string };
  if (!t.queueName) throw new Error(`function '${fn.name}': its ${fn.trigger.type} has no queueName`);
  const name = o.expand(t.queueName).toLowerCase();
  const qs = queueService(o.connectionString);
  const queue: QueueClient = qs.getQueueClient(name);
  const poison: QueueClient = qs.getQueueClient(`${name}-poison`);
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    await queue.createIfNotExists();
    await poison.createIfNotExists();
    let idle = 5;
    let lastMessageAt = 0;
    while (!stopped) {
      let got = 0;
      try {
        const r = await queue.receiveMessages({ numberOfMessages: 16, visibilityTimeout: o.visibilitySeconds });
        got = r.receivedMessageItems.length;
        await Promise.all(r.receivedMessageItems.map(async (m) => {
          if (m.dequeueCount > o.maxDequeueCount) {
            await poison.sendMessage(m.messageText);
            await queue.deleteMessage(m.messageId, m.popReceipt);
            o.log('warn', `${fn.name}: message ${m.messageId} moved to ${name}-poison after ${m.dequeueCount - 1} failed deliveries`);
            return;
          }
          const ctx = invocationContext(fn, o.resolve, { Id: m.messageId, DequeueCount: m.dequeueCount, InsertionTime: m.insertedOn, MessageId: m.messageId, DeliveryCount: m.dequeueCount });
          // A short lease, renewed while the function runs: if this host dies the message is
          // back within one lease, not after a long fixed one.
          let receipt = m.popReceipt;
          const renew = setInterval(() => {
            queue.updateMessage(m.messageId, receipt, undefined, o.visibilitySeconds).then((r) => { receipt = r.popReceipt ?? receipt; }, () => undefined);
          }, (o.visibilitySeconds * 1000) / 3);
          try {
            await fn.handler(decodeQueueMessage(m.messageText), ctx);
            clearInterval(renew);
            await queue.deleteMessage(m.messageId, receipt);
          } catch (err) {
            // Back in the queue after the retry visibility timeout, up to the poison limit.
            o.log('warn', `${fn.name}: message ${m.messageId} failed (delivery ${m.dequeueCount}): ${(err as Error).message}`);
            clearInterval(renew);
            await queue.updateMessage(m.messageId, receipt, undefined, o.retryVisibilitySeconds).catch(() => undefined);
          }
        }));
      } catch (err) {
        if (!stopped) o.log('warn', `${fn.name}: polling ${name}: ${(err as Error).message}`);
      }
      // After a message, poll again briskly: results of one run come in bursts.
      if (got) { idle = 5; lastMessageAt = Date.now(); continue; }
      await new Promise<void>((r) => { const h = setTimeout(r, idle); wake = () => { clearTimeout(h); r(); }; });
      // Service Bus pushes messages in Azure: poll its local stand-in briskly while messages flow
      // (the last 30 s), gently when quiet.
      const busy = Date.now() - lastMessageAt < 30_000;
      idle = Math.min(fn.trigger.type === 'serviceBusTrigger' && busy ? 20 : 1000, idle * 2);
    }
  })();
  return { async stop() { stopped = true; wake?.(); await loop.catch(() => undefined); } };
}
