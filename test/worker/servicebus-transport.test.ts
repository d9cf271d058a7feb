// Our Service Bus adapter against a rhea fake broker: it proves the adapter drives the real SDK
// correctly (addresses, ids, settlement, dead-letter reason); not Service Bus semantics.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startFakeServiceBus, type FakeServiceBus } from '../support/fake-servicebus.js';
import { ServiceBusTransport } from '../../shared/transport/servicebus.js';
import type { CommandMessage, ResultMessage } from '../../shared/messages.js';

let broker: FakeServiceBus;
let t: ServiceBusTransport;
beforeAll(async () => {
  broker = await startFakeServiceBus();
  t = new ServiceBusTransport({ connectionString: broker.connectionString });
});
afterAll(async () => {
  await t?.close();
  await broker?.close();
});

let n = 0;
const command = (site: string): CommandMessage => ({
  v: 1, commandId: `run1:step${++n}:1`, runId: 'run1', stepId: `step${n}`, site,
  invocation: { name: 'pool.get', params: { poolFqdn: 'eepool1.contoso.com' } }, mode: 'drill', timeoutMs: 5000, sentAt: new Date().toISOString(),
});

describe('Service Bus transport vs a fake broker', () => {
  it('sends a command to lyncdr-commands-<site> and receives it peek-locked; complete removes it', async () => {
    const cmd = command('west');
    await t.sendCommand(cmd);
    const [m] = await t.receiveCommands('west', { maxMessages: 1, maxWaitMs: 5000 });
    expect(m.body).toEqual(cmd);
    expect(m.messageId).toBe(cmd.commandId);
    expect(m.deliveryCount).toBe(1);
    await m.renewLock();
    await m.complete();
    expect(await t.receiveCommands('west', { maxMessages: 1, maxWaitMs: 300 })).toHaveLength(0);
    expect(broker.depth('lyncdr-commands-west')).toBe(0);
  });

  it('abandon redelivers with a higher delivery count', async () => {
    const cmd = command('east');
    await t.sendCommand(cmd);
    const [m] = await t.receiveCommands('east', { maxMessages: 1, maxWaitMs: 5000 });
    await m.abandon();
    const [again] = await t.receiveCommands('east', { maxMessages: 1, maxWaitMs: 5000 });
    expect(again.body).toEqual(cmd);
    expect(again.deliveryCount).toBe(2);
    await again.complete();
  });

  it('deadLetter moves the message to the dead-letter queue with reason and description', async () => {
    await t.sendRawCommand('north', 'garbage', 'raw-1');
    const [m] = await t.receiveCommands('north', { maxMessages: 1, maxWaitMs: 5000 });
    expect(m.body).toBe('garbage');
    await m.deadLetter('InvalidCommand', 'invalid-message: body is not JSON');
    expect(await t.receiveCommands('north', { maxMessages: 1, maxWaitMs: 300 })).toHaveLength(0);
    const dead = await t.peekDeadLettered('north', 10);
    expect(dead).toEqual([expect.objectContaining({ body: 'garbage', reason: 'InvalidCommand', description: 'invalid-message: body is not JSON' })]);
  });

  it('results and health go to lyncdr-results / lyncdr-health', async () => {
    const result: ResultMessage = {
      v: 1, commandId: 'c-1', runId: 'r', stepId: 's', site: 'west', workerId: 'w', status: 'succeeded', finishedAt: new Date().toISOString(), duplicate: false,
    };
    await t.sendResult(result);
    await t.sendHealth({ v: 1, kind: 'heartbeat', site: 'west', workerId: 'w', at: new Date().toISOString() });
    expect((await t.receiveResults({ maxMessages: 5, maxWaitMs: 5000 })).map((r) => r.body)).toEqual([result]);
    expect((await t.receiveHealth({ maxMessages: 5, maxWaitMs: 5000 }))[0].body).toMatchObject({ kind: 'heartbeat' });
    expect(broker.depth('lyncdr-results')).toBe(0);
  });
});
