// A small AMQP 1.0 broker on rhea that speaks enough of Service Bus for @azure/service-bus to
// send, receive in peek-lock, complete, abandon and dead-letter. There is no Service Bus
// emulator without Docker; this tests OUR adapter's use of the SDK, not Service Bus itself.
// Supported: $cbs put-token (always 200), queues by address, `<queue>/$deadletterqueue`,
// peek-lock deliveries with 16-byte lock tokens, drain, and `<queue>/$management`
// com.microsoft:renew-lock. Not supported: sessions, scheduling, duplicate detection, TTL.
import { randomUUID } from 'node:crypto';
import type { AddressInfo, Server } from 'node:net';
import rhea, { type Connection, type Delivery, type EventContext, type Message, type Sender } from 'rhea';

interface Stored {
  message: Message;
  /** Deliveries so far (Service Bus reports 1 on the first receive). */
  deliveries: number;
  sequence: number;
}

interface Locked { queue: string; entry: Stored; token: string }

export interface FakeServiceBus {
  port: number;
  connectionString: string;
  /** Messages waiting in a queue (not locked), for assertions. */
  depth(queue: string): number;
  close(): Promise<void>;
}

/** The peer's attach frame; rhea keeps it at runtime but its typings do not declare it. */
function remoteAttach(link: object): { source?: { address?: string }; target?: { address?: string } } | undefined {
  return (link as { remote?: { attach?: { source?: { address?: string }; target?: { address?: string } } } }).remote?.attach;
}

const uuidBytes = (u: string) => Buffer.from(u.replace(/-/g, ''), 'hex');
/** The SDK reorders the first 8 bytes of a lock token (.NET GUID layout); undo that. */
function tokenFromBytes(b: Buffer): string {
  const r = Buffer.from([b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], ...b.subarray(8)]);
  const h = r.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export async function startFakeServiceBus(): Promise<FakeServiceBus> {
  const container = rhea.create_container({ id: 'fake-servicebus' });
  const queues = new Map<string, Stored[]>();
  const consumers = new Map<string, Set<Sender>>();
  const locked = new Map<Delivery, Locked>();
  const byToken = new Map<string, Locked>();
  /** Client receiver links by their target address: where replies to requests go. */
  const replyLinks = new Map<string, Sender>();
  let sequence = 0;

  // The SDK spells the sub-queue `$DeadLetterQueue`; Service Bus addresses are case-insensitive.
  const queue = (address: string) => {
    const name = address.toLowerCase();
    let q = queues.get(name);
    if (!q) queues.set(name, (q = []));
    return q;
  };

  function pump(address: string): void {
    const q = queue(address);
    for (const sender of consumers.get(address.toLowerCase()) ?? []) {
      while (q.length && sender.sendable()) {
        const entry = q.shift()!;
        entry.deliveries += 1;
        const token = randomUUID();
        const lockedUntil = new Date(Date.now() + 60_000);
        const tag = uuidBytes(token);
        const m: Message = {
          ...entry.message,
          delivery_count: entry.deliveries,
          message_annotations: {
            ...(entry.message.message_annotations ?? {}),
            'x-opt-enqueued-time': new Date(), 'x-opt-sequence-number': entry.sequence, 'x-opt-locked-until': lockedUntil,
          },
        };
        const delivery = sender.send(m, tag);
        const l = { queue: address, entry, token };
        locked.set(delivery, l);
        byToken.set(token, l);
      }
    }
  }

  function unlock(delivery: Delivery): Locked | undefined {
    const l = locked.get(delivery);
    if (l) {
      locked.delete(delivery);
      byToken.delete(l.token);
    }
    return l;
  }

  /** Request/response nodes ($cbs, <queue>/$management) answer on the client's receiver link with the same address. */
  const nodeLinks = new Map<Connection, Map<string, Sender>>();
  function reply(ctx: EventContext, request: Message, status: number, body: unknown = undefined): void {
    const node = String(ctx.receiver!.target.address);
    const to = (request.reply_to ? replyLinks.get(String(request.reply_to)) : undefined) ?? nodeLinks.get(ctx.connection)?.get(node);
    to?.send({
      correlation_id: request.message_id, body,
      application_properties: { 'status-code': status, statusCode: status, 'status-description': status === 200 ? 'OK' : 'error' },
    });
  }

  container.on('connection_open', () => undefined);
  container.on('sender_open', (ctx: EventContext) => {
    // The client's receiver: we send from its source address.
    const sender = ctx.sender!;
    const attach = remoteAttach(sender);
    const address = String(attach?.source?.address ?? '');
    const target = attach?.target?.address;
    sender.set_source({ address });
    if (target) replyLinks.set(String(target), sender);
    if (address === '$cbs' || address.endsWith('/$management')) {
      let links = nodeLinks.get(ctx.connection);
      if (!links) nodeLinks.set(ctx.connection, (links = new Map()));
      links.set(address, sender);
      return;
    }
    let set = consumers.get(address.toLowerCase());
    if (!set) consumers.set(address.toLowerCase(), (set = new Set()));
    set.add(sender);
  });
  container.on('sendable', (ctx: EventContext) => pump(String(ctx.sender!.source.address)));
  container.on('sender_draining', (ctx: EventContext) => {
    pump(String(ctx.sender!.source.address));
    ctx.sender!.set_drained(true);
  });
  container.on('receiver_open', (ctx: EventContext) => {
    const address = String(remoteAttach(ctx.receiver!)?.target?.address ?? '');
    ctx.receiver!.set_target({ address });
  });
  container.on('message', (ctx: EventContext) => {
    const address = String(ctx.receiver!.target.address);
    const m = ctx.message!;
    if (address === '$cbs') return reply(ctx, m, 200);
    if (address.endsWith('/$management')) {
      const op = String((m.application_properties as Record<string, unknown> | undefined)?.operation ?? '');
      if (op === 'com.microsoft:renew-lock') {
        const tokens = ((m.body as Record<string, unknown>)['lock-tokens'] as Buffer[]) ?? [];
        const known = tokens.every((t) => byToken.has(tokenFromBytes(Buffer.from(t))));
        return reply(ctx, m, known ? 200 : 410, known ? { expirations: tokens.map(() => new Date(Date.now() + 60_000)) } : undefined);
      }
      return reply(ctx, m, 501);
    }
    // Like Service Bus, the broker gives every message an id when the sender did not.
    queue(address).push({ message: { ...m, message_id: m.message_id ?? randomUUID() }, deliveries: 0, sequence: ++sequence });
    pump(address);
  });

  // Settlement of peek-locked deliveries: complete / abandon / dead-letter.
  container.on('accepted', (ctx: EventContext) => {
    unlock(ctx.delivery!);
    ctx.delivery!.update(true);
  });
  const abandon = (ctx: EventContext) => {
    const l = unlock(ctx.delivery!);
    ctx.delivery!.update(true);
    if (l) {
      queue(l.queue).unshift(l.entry);
      setImmediate(() => pump(l.queue));
    }
  };
  container.on('released', abandon);
  container.on('modified', (ctx: EventContext) => {
    const state = ctx.delivery!.remote_state as { undeliverable_here?: boolean } | undefined;
    if (state?.undeliverable_here) {
      // Defer is not modelled: refuse it clearly rather than lose the message.
      throw new Error('fake Service Bus does not support defer');
    }
    abandon(ctx);
  });
  container.on('rejected', (ctx: EventContext) => {
    const l = unlock(ctx.delivery!);
    ctx.delivery!.update(true);
    if (!l) return;
    const info = ((ctx.delivery!.remote_state as { error?: { info?: Record<string, unknown> } } | undefined)?.error?.info) ?? {};
    const dlq = `${l.queue}/$deadletterqueue`;
    queue(dlq).push({
      ...l.entry,
      message: {
        ...l.entry.message,
        application_properties: {
          ...(l.entry.message.application_properties ?? {}),
          DeadLetterReason: info.DeadLetterReason, DeadLetterErrorDescription: info.DeadLetterErrorDescription,
        },
      },
    });
    pump(dlq);
  });
  // A receiver that goes away without settling: its locks lapse and the messages come back.
  const release = (ctx: EventContext) => {
    const sender = ctx.sender;
    if (!sender) return;
    for (const set of consumers.values()) set.delete(sender);
    for (const [d, l] of [...locked]) {
      if (d.link === sender) {
        unlock(d);
        queue(l.queue).unshift(l.entry);
      }
    }
  };
  container.on('sender_close', release);
  container.on('connection_close', (ctx: EventContext) => {
    const conn: Connection = ctx.connection;
    for (const [d, l] of [...locked]) {
      if ((d.link as Sender).connection === conn) {
        unlock(d);
        queue(l.queue).unshift(l.entry);
      }
    }
    for (const set of consumers.values()) for (const s of [...set]) if (s.connection === conn) set.delete(s);
  });
  container.on('disconnected', () => undefined);
  container.on('error', () => undefined);

  const server: Server = container.listen({ port: 0, host: '127.0.0.1' }) as unknown as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    connectionString: `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`,
    depth: (q) => queue(q).length,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
