// Storage-queue transport for local runs (Azurite) and for estates without Service Bus.
// Storage queues have no locks or dead-letter queues, so both are emulated the way the Azure
// Functions queue trigger does it: the visibility timeout is the lock (renewed with
// updateMessage while a command runs), a message dequeued more than maxDeliveries times goes to
// `<queue>-poison`. Bodies are UTF-8 JSON, base64-encoded, which is what the Functions
// storage-queue trigger expects by default, so a queue-triggered function can read our results.
import type { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { z } from 'zod';
import { queueService } from '../storage/connection.js';
import { queueNames, type CommandMessage, type HealthMessage, type QueueNames, type ResultMessage, type SiteName } from '../messages.js';
import type {
  CloudTransport, DeadLetteredMessage, ReceiveOptions, ReceivedCommand, ReceivedReply, WorkerTransport,
} from './types.js';

export interface AzuriteTransportOptions {
  /** Storage connection string (AzureWebJobsStorage). */
  connectionString: string;
  /** Queue name prefix; `lyncdr` in production, unique per test. */
  prefix?: string;
  /** The emulated lock duration. */
  lockMs?: number;
  /** Deliveries after which a message is poison (Functions' maxDequeueCount default is 5). */
  maxDeliveries?: number;
  /** Poll interval while waiting for messages (storage queues have no long polling). */
  pollMs?: number;
}

/** What `<queue>-poison` holds: the original message plus why it was moved. */
export const PoisonEnvelope = z.object({
  reason: z.string(),
  description: z.string().optional(),
  deadLetteredAt: z.string(),
  deliveryCount: z.number().int(),
  originalMessageId: z.string(),
  queue: z.string(),
  body: z.string(),
});
export type PoisonEnvelope = z.infer<typeof PoisonEnvelope>;

export const MAX_DELIVERIES_EXCEEDED = 'MaxDeliveryCountExceeded';

export function encodeBody(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
export function decodeBody(messageText: string): string {
  return Buffer.from(messageText, 'base64').toString('utf8');
}
function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class AzuriteQueueTransport implements WorkerTransport, CloudTransport {
  readonly names: QueueNames;
  private readonly service: QueueServiceClient;
  private readonly lockMs: number;
  private readonly maxDeliveries: number;
  private readonly pollMs: number;
  private readonly ensured = new Map<string, Promise<QueueClient>>();
  private closed = false;

  constructor(options: AzuriteTransportOptions) {
    this.service = queueService(options.connectionString);
    this.names = queueNames(options.prefix);
    this.lockMs = options.lockMs ?? 30_000;
    this.maxDeliveries = options.maxDeliveries ?? 5;
    // Service Bus delivers at once; its local stand-in polls briskly (an idle poll costs ~2 ms of Azurite).
    this.pollMs = options.pollMs ?? 250;
    if (this.lockMs < 1000) throw new RangeError('lockMs: storage visibility timeouts have a one-second granularity');
  }

  /** Creates a queue once per process; "already exists" is success. */
  queue(name: string): Promise<QueueClient> {
    let q = this.ensured.get(name);
    if (!q) {
      const client = this.service.getQueueClient(name);
      q = client.createIfNotExists().then(() => client);
      q.catch(() => this.ensured.delete(name));
      this.ensured.set(name, q);
    }
    return q;
  }

  private async send(queueName: string, text: string): Promise<void> {
    const q = await this.queue(queueName);
    await q.sendMessage(encodeBody(text));
  }

  private async moveToPoison(q: QueueClient, item: { messageId: string; popReceipt: string; messageText: string; dequeueCount: number },
    reason: string, description?: string): Promise<void> {
    const envelope: PoisonEnvelope = {
      reason, description, deadLetteredAt: new Date().toISOString(), deliveryCount: item.dequeueCount,
      originalMessageId: item.messageId, queue: q.name, body: decodeBody(item.messageText),
    };
    // Write the poison copy first: a crash between the two leaves a duplicate, never a loss.
    await this.send(`${q.name}-poison`, JSON.stringify(envelope));
    await q.deleteMessage(item.messageId, item.popReceipt);
  }

  async receiveCommands(site: SiteName, options: ReceiveOptions): Promise<ReceivedCommand[]> {
    const q = await this.queue(this.names.commands(site));
    const deadline = Date.now() + options.maxWaitMs;
    for (;;) {
      const res = await q.receiveMessages({
        numberOfMessages: Math.min(32, Math.max(1, options.maxMessages)),
        visibilityTimeout: Math.ceil(this.lockMs / 1000),
      });
      const out: ReceivedCommand[] = [];
      for (const item of res.receivedMessageItems) {
        if (item.dequeueCount > this.maxDeliveries) {
          await this.moveToPoison(q, item, MAX_DELIVERIES_EXCEEDED,
            `delivered ${item.dequeueCount} times (max ${this.maxDeliveries}) without being completed`);
          continue;
        }
        out.push(new LockedQueueMessage(this, q, item, this.lockMs));
      }
      if (out.length > 0) { this.idlePolls = 0; this.lastMessageAt = Date.now(); }
      if (out.length > 0 || this.closed || Date.now() >= deadline) return out;
      await sleep(Math.min(this.nextPollDelay(), Math.max(0, deadline - Date.now())));
    }
  }

  /** Commands come in runs (a run's next steps follow its last results): poll briskly while a
   * run is going (a message in the last 30 s), backing off to pollMs when the site is quiet. */
  private idlePolls = 0;
  private lastMessageAt = 0;
  private nextPollDelay(): number {
    const busy = Date.now() - this.lastMessageAt < 30_000;
    return Math.min(busy ? 20 : this.pollMs, 5 * 2 ** Math.min(10, this.idlePolls++));
  }

  /** @internal used by LockedQueueMessage */
  async deadLetterItem(q: QueueClient, item: { messageId: string; popReceipt: string; messageText: string; dequeueCount: number },
    reason: string, description?: string): Promise<void> {
    await this.moveToPoison(q, item, reason, description);
  }

  async sendResult(result: ResultMessage, replyTo?: string): Promise<void> {
    await this.send(replyTo ?? this.names.results, JSON.stringify(result));
  }

  async sendHealth(health: HealthMessage): Promise<void> {
    await this.send(this.names.health, JSON.stringify(health));
  }

  async sendCommand(command: CommandMessage): Promise<void> {
    await this.send(this.names.commands(command.site), JSON.stringify(command));
  }

  async sendRawCommand(site: SiteName, body: string): Promise<void> {
    await this.send(this.names.commands(site), body);
  }

  private async drain(queueName: string, options: ReceiveOptions): Promise<ReceivedReply[]> {
    const q = await this.queue(queueName);
    const deadline = Date.now() + options.maxWaitMs;
    for (;;) {
      const res = await q.receiveMessages({ numberOfMessages: Math.min(32, Math.max(1, options.maxMessages)), visibilityTimeout: 30 });
      const out: ReceivedReply[] = [];
      for (const item of res.receivedMessageItems) {
        out.push({ body: parseJsonOrText(decodeBody(item.messageText)), messageId: item.messageId });
        await q.deleteMessage(item.messageId, item.popReceipt);
      }
      if (out.length > 0 || Date.now() >= deadline) return out;
      await sleep(Math.min(this.pollMs, Math.max(0, deadline - Date.now())));
    }
  }

  receiveResults(options: ReceiveOptions): Promise<ReceivedReply[]> {
    return this.drain(this.names.results, options);
  }

  receiveHealth(options: ReceiveOptions): Promise<ReceivedReply[]> {
    return this.drain(this.names.health, options);
  }

  async peekDeadLettered(site: SiteName, max: number): Promise<DeadLetteredMessage[]> {
    const q = await this.queue(`${this.names.commands(site)}-poison`);
    const res = await q.peekMessages({ numberOfMessages: Math.min(32, max) });
    return res.peekedMessageItems.map((m) => {
      const env = PoisonEnvelope.parse(JSON.parse(decodeBody(m.messageText)));
      return { body: parseJsonOrText(env.body), reason: env.reason, description: env.description, deliveryCount: env.deliveryCount };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * A message made invisible by receive. Every operation needs the latest pop receipt, and a
 * renewal changes it, so operations are serialised on one chain.
 */
class LockedQueueMessage implements ReceivedCommand {
  readonly body: unknown;
  readonly messageId: string;
  readonly deliveryCount: number;
  private popReceipt: string;
  private chain: Promise<unknown> = Promise.resolve();
  private settled = false;

  constructor(
    private readonly transport: AzuriteQueueTransport,
    private readonly q: QueueClient,
    private readonly item: { messageId: string; popReceipt: string; messageText: string; dequeueCount: number },
    private readonly lockMs: number,
  ) {
    this.messageId = item.messageId;
    this.deliveryCount = item.dequeueCount;
    this.popReceipt = item.popReceipt;
    this.body = parseJsonOrText(decodeBody(item.messageText));
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.chain.then(op, op);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private settle(op: () => Promise<void>): Promise<void> {
    return this.serial(async () => {
      if (this.settled) throw new Error(`message ${this.messageId} is already settled`);
      await op();
      this.settled = true;
    });
  }

  complete(): Promise<void> {
    return this.settle(() => this.q.deleteMessage(this.messageId, this.popReceipt).then(() => undefined));
  }

  abandon(): Promise<void> {
    // Visibility 0: the message is available again at once, like a Service Bus abandon.
    return this.settle(() => this.q.updateMessage(this.messageId, this.popReceipt, undefined, 0).then(() => undefined));
  }

  deadLetter(reason: string, description?: string): Promise<void> {
    return this.settle(() => this.transport.deadLetterItem(this.q, { ...this.item, popReceipt: this.popReceipt }, reason, description));
  }

  renewLock(): Promise<void> {
    return this.serial(async () => {
      if (this.settled) return;
      const res = await this.q.updateMessage(this.messageId, this.popReceipt, undefined, Math.ceil(this.lockMs / 1000));
      if (res.popReceipt) this.popReceipt = res.popReceipt;
    });
  }
}
