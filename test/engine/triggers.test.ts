// Timer triggers (NCRONTAB through croner), storage-queue and Service Bus triggers mapped onto
// Azurite queues, and durable timers longer than Azure's short-timer limit.
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalHost } from '../../local/host.js';
import { queueService, tableClient } from '../../shared/storage/connection.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { ROOT, api, startTestHost } from '../support/host.js';

const ENTRY = `${ROOT}/test/fixtures/triggers-app.ts`;
const table = uniqueName('Triggers');
const queue = uniqueName('q-').toLowerCase();
const busQueue = uniqueName('bus-').toLowerCase();
const hosts: LocalHost[] = [];
afterAll(async () => { for (const h of hosts) await h.stop().catch(() => undefined); });

async function rows(kind: string): Promise<Array<Record<string, any>>> {
  const out: Array<Record<string, any>> = [];
  try {
    for await (const r of tableClient(azurite(), table).listEntities({ queryOptions: { filter: `PartitionKey eq '${kind}'` } })) out.push({ ...r, data: JSON.parse(String(r.data)) });
  } catch (err) { if ((err as { statusCode?: number }).statusCode !== 404) throw err; }
  return out;
}
async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met in ${ms} ms: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('triggers on the local host', () => {
  it('runs timer, storage-queue and Service Bus triggers, with a poison queue', async () => {
    const host = await startTestHost({ entry: ENTRY, triggers: true, values: { TRIGGER_TABLE: table, TRIGGER_QUEUE: queue, TRIGGER_BUS_QUEUE: busQueue } });
    hosts.push(host);
    const qs = queueService(azurite());
    const q = qs.getQueueClient(queue);
    await q.createIfNotExists();
    await q.sendMessage(Buffer.from(JSON.stringify({ hello: 'world' })).toString('base64'));
    await q.sendMessage(Buffer.from(JSON.stringify({ fail: true })).toString('base64'));
    const bus = qs.getQueueClient(busQueue);
    await bus.createIfNotExists();
    await bus.sendMessage(Buffer.from(JSON.stringify({ result: 42 })).toString('base64'));

    const timer = await until(() => rows('timer'), (r) => r.length >= 2);
    expect(timer[0].data.isPastDue).toBe(false);
    const queued = await until(() => rows('queue'), (r) => r.length >= 1);
    expect(queued[0].data.message).toEqual({ hello: 'world' });
    const busRows = await until(() => rows('bus'), (r) => r.length >= 1);
    expect(busRows[0].data.message).toEqual({ result: 42 });
    // The failing message is retried maxDequeueCount (5) times, then lands in <queue>-poison.
    const poison = qs.getQueueClient(`${queue}-poison`);
    const peeked = await until(async () => (await poison.peekMessages()).peekedMessageItems, (p) => p.length === 1);
    expect(JSON.parse(Buffer.from(peeked[0].messageText, 'base64').toString())).toEqual({ fail: true });
    await host.stop();
    hosts.pop();
  }, 60_000);

  it('fires a durable timer longer than the short-timer limit once, at its final time', async () => {
    const hub = uniqueName('Long');
    const first = await startTestHost({ entry: ENTRY, hub });
    hosts.push(first);
    const a = api(first);
    const id = await a.start('longTimer');
    const s = await a.waitFor(id, (x) => x.runtimeStatus === 'Running');
    const h = await a.status(id, '?showHistory=true');
    const created = h.historyEvents.filter((e: any) => e.EventType === 'TimerCreated');
    expect(created).toHaveLength(1);
    const fireAt = Date.parse(created[0].FireAt);
    expect(fireAt - Date.parse(s.createdTime)).toBeGreaterThan(9.9 * 24 * 3600 * 1000);
    await first.stop();
    hosts.pop();
    // Ten days later (the clock moves; the queued copy is still hidden): a restarted host fires it.
    const later = await startTestHost({ entry: ENTRY, hub, clock: () => Date.now() + 10 * 24 * 3600 * 1000 + 60_000 });
    hosts.push(later);
    const done = await api(later).waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(Date.parse(done.output)).toBeGreaterThanOrEqual(fireAt);
    const after = await api(later).status(id, '?showHistory=true');
    expect(after.historyEvents.filter((e: any) => e.EventType === 'TimerFired')).toHaveLength(1);
  }, 60_000);
});
