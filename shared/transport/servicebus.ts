// Azure Service Bus transport (production). Peek-lock receive, native dead-lettering, and
// messageId = commandId so the queue's duplicate detection drops a command the orchestrator
// sent twice (for example after an activity retry) before it ever reaches the worker.
import {
  ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver, type ServiceBusSender,
} from '@azure/service-bus';
import { queueNames, type CommandMessage, type HealthMessage, type QueueNames, type ResultMessage, type SiteName } from '../messages.js';
import type {
  CloudTransport, DeadLetteredMessage, ReceiveOptions, ReceivedCommand, ReceivedReply, WorkerTransport,
} from './types.js';

export interface ServiceBusTransportOptions {
  connectionString: string;
  prefix?: string;
}

/** Bodies are JSON objects; a string body that is JSON text (another sender) is parsed too. */
function bodyOf(m: ServiceBusReceivedMessage): unknown {
  const b: unknown = m.body;
  if (typeof b === 'string') {
    try {
      return JSON.parse(b) as unknown;
    } catch {
      return b;
    }
  }
  if (b instanceof Uint8Array) return bodyOf({ ...m, body: Buffer.from(b).toString('utf8') });
  return b;
}

export class ServiceBusTransport implements WorkerTransport, CloudTransport {
  readonly names: QueueNames;
  private readonly client: ServiceBusClient;
  private readonly senders = new Map<string, ServiceBusSender>();
  private readonly receivers = new Map<string, ServiceBusReceiver>();

  constructor(options: ServiceBusTransportOptions) {
    this.client = new ServiceBusClient(options.connectionString);
    this.names = queueNames(options.prefix);
  }

  private sender(queue: string): ServiceBusSender {
    let s = this.senders.get(queue);
    if (!s) {
      s = this.client.createSender(queue);
      this.senders.set(queue, s);
    }
    return s;
  }

  private receiver(queue: string, subQueue?: 'deadLetter'): ServiceBusReceiver {
    const key = `${queue}/${subQueue ?? ''}`;
    let r = this.receivers.get(key);
    if (!r) {
      r = this.client.createReceiver(queue, { receiveMode: 'peekLock', ...(subQueue ? { subQueueType: subQueue } : {}) });
      this.receivers.set(key, r);
    }
    return r;
  }

  async receiveCommands(site: SiteName, options: ReceiveOptions): Promise<ReceivedCommand[]> {
    const r = this.receiver(this.names.commands(site));
    const messages = await r.receiveMessages(Math.max(1, options.maxMessages), { maxWaitTimeInMs: Math.max(1, options.maxWaitMs) });
    return messages.map((m) => new LockedServiceBusMessage(r, m));
  }

  async sendResult(result: ResultMessage, replyTo?: string): Promise<void> {
    await this.sender(replyTo ?? this.names.results).sendMessages({
      body: result, contentType: 'application/json', correlationId: result.commandId,
      // A redelivered command's reply carries the same id: duplicate detection absorbs it.
      messageId: `${result.commandId}:${result.duplicate ? 'dup' : 'res'}`.slice(0, 128),
      subject: result.status,
    });
  }

  async sendHealth(health: HealthMessage): Promise<void> {
    await this.sender(this.names.health).sendMessages({ body: health, contentType: 'application/json', subject: health.kind });
  }

  async sendCommand(command: CommandMessage): Promise<void> {
    await this.sender(this.names.commands(command.site)).sendMessages({
      body: command, contentType: 'application/json', messageId: command.commandId, correlationId: command.commandId,
      subject: command.invocation.name, ...(command.replyTo ? { replyTo: command.replyTo } : {}),
    });
  }

  async sendRawCommand(site: SiteName, body: string, messageId?: string): Promise<void> {
    await this.sender(this.names.commands(site)).sendMessages({ body, ...(messageId ? { messageId } : {}) });
  }

  private async drain(queue: string, options: ReceiveOptions): Promise<ReceivedReply[]> {
    const r = this.receiver(queue);
    const messages = await r.receiveMessages(Math.max(1, options.maxMessages), { maxWaitTimeInMs: Math.max(1, options.maxWaitMs) });
    const out: ReceivedReply[] = [];
    for (const m of messages) {
      out.push({ body: bodyOf(m), messageId: String(m.messageId ?? '') });
      await r.completeMessage(m);
    }
    return out;
  }

  receiveResults(options: ReceiveOptions): Promise<ReceivedReply[]> {
    return this.drain(this.names.results, options);
  }

  receiveHealth(options: ReceiveOptions): Promise<ReceivedReply[]> {
    return this.drain(this.names.health, options);
  }

  async peekDeadLettered(site: SiteName, max: number): Promise<DeadLetteredMessage[]> {
    const r = this.receiver(this.names.commands(site), 'deadLetter');
    const messages = await r.receiveMessages(Math.max(1, max), { maxWaitTimeInMs: 1000 });
    const out = messages.map((m) => ({
      body: bodyOf(m), reason: m.deadLetterReason ?? '', description: m.deadLetterErrorDescription, deliveryCount: m.deliveryCount,
    }));
    // Inspection must not consume the dead letters: give them back.
    await Promise.all(messages.map((m) => r.abandonMessage(m)));
    return out;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.receivers.values()].map((r) => r.close()));
    await Promise.allSettled([...this.senders.values()].map((s) => s.close()));
    await this.client.close();
  }
}

class LockedServiceBusMessage implements ReceivedCommand {
  readonly body: unknown;
  readonly messageId: string;
  readonly deliveryCount: number;

  constructor(private readonly receiver: ServiceBusReceiver, private readonly message: ServiceBusReceivedMessage) {
    this.body = bodyOf(message);
    this.messageId = String(message.messageId ?? message.lockToken ?? '');
    // Service Bus counts deliveries from 1 on the first receive.
    this.deliveryCount = message.deliveryCount ?? 1;
  }

  complete(): Promise<void> {
    return this.receiver.completeMessage(this.message);
  }

  abandon(): Promise<void> {
    return this.receiver.abandonMessage(this.message);
  }

  deadLetter(reason: string, description?: string): Promise<void> {
    return this.receiver.deadLetterMessage(this.message, { deadLetterReason: reason, deadLetterErrorDescription: description ?? reason });
  }

  async renewLock(): Promise<void> {
    await this.receiver.renewMessageLock(this.message);
  }
}
