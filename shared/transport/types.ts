// The seam between the worker and whatever carries its messages: Service Bus in Azure,
// Azurite storage queues locally. Both adapters give the same peek-lock semantics, so the
// worker's code (journal, redelivery, dead-lettering) is the same in both.
import type { CommandMessage, HealthMessage, ResultMessage, SiteName } from '../messages.js';

/** One locked delivery of a command. The body is untrusted until the worker parses it. */
export interface ReceivedCommand {
  /** The parsed JSON body, or the raw text when it is not JSON (to be dead-lettered). */
  readonly body: unknown;
  /** Transport message id (Service Bus messageId / storage queue message id). */
  readonly messageId: string;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  /** Done: remove it from the queue. */
  complete(): Promise<void>;
  /** Give it back for redelivery now (counts as a delivery). */
  abandon(): Promise<void>;
  /** Move it aside for a human, with why; it will not be delivered again. */
  deadLetter(reason: string, description?: string): Promise<void>;
  /** Extend the lock while the command is still executing. */
  renewLock(): Promise<void>;
}

export interface ReceiveOptions {
  maxMessages: number;
  /** How long to wait for at least one message before returning an empty batch. */
  maxWaitMs: number;
}

/** What the on-prem worker needs. */
export interface WorkerTransport {
  receiveCommands(site: SiteName, options: ReceiveOptions): Promise<ReceivedCommand[]>;
  sendResult(result: ResultMessage, replyTo?: string): Promise<void>;
  sendHealth(health: HealthMessage): Promise<void>;
  close(): Promise<void>;
}

/** A settled-on-read message from the results or health queue, still untrusted. */
export interface ReceivedReply {
  readonly body: unknown;
  readonly messageId: string;
}

/** A dead-lettered message with the reason the transport recorded. */
export interface DeadLetteredMessage {
  readonly body: unknown;
  readonly reason: string;
  readonly description?: string;
  readonly deliveryCount?: number;
}

/**
 * What the cloud side (and tests, and the lab CLI) needs: dispatch commands, read replies,
 * inspect the dead-letter queue. Implemented by the same adapters so one wire format exists.
 */
export interface CloudTransport {
  sendCommand(command: CommandMessage): Promise<void>;
  /** Sends a body that is not a valid command (tests of the worker's validation). */
  sendRawCommand(site: SiteName, body: string, messageId?: string): Promise<void>;
  receiveResults(options: ReceiveOptions): Promise<ReceivedReply[]>;
  receiveHealth(options: ReceiveOptions): Promise<ReceivedReply[]>;
  peekDeadLettered(site: SiteName, max: number): Promise<DeadLetteredMessage[]>;
  close(): Promise<void>;
}
