import { describe, it, expect, afterEach } from 'vitest';
import { azurite, uniqueName } from '../support/azurite.js';
import { AzuriteQueueTransport, decodeBody, MAX_DELIVERIES_EXCEEDED } from '../../shared/transport/azurite.js';
import { queueService } from '../../shared/storage/connection.js';
import type { CommandMessage, ResultMessage } from '../../shared/messages.js';

function command(site: string, commandId = uniqueName('cmd')): CommandMessage {
  return {
    v: 1, commandId, runId: 'run1', stepId: 'step1', site,
    invocation: { name: 'Get-CsPoolFabricState', params: { PoolFqdn: 'eepool1.contoso.com' } },
    mode: 'drill', timeoutMs: 5000, sentAt: new Date().toISOString(),
  };
}

const open: AzuriteQueueTransport[] = [];
function transport(prefix: string, extra: Partial<{ lockMs: number; maxDeliveries: number }> = {}) {
  const t = new AzuriteQueueTransport({ connectionString: azurite(), prefix, pollMs: 50, ...extra });
  open.push(t);
  return t;
}
afterEach(async () => { await Promise.all(open.splice(0).map((t) => t.close())); });

describe('Azurite storage-queue transport', () => {
  it('uses the documented queue names and base64 UTF-8 JSON bodies', async () => {
    const prefix = uniqueName('q');
    const t = transport(prefix);
    const cmd = command('west');
    cmd.invocation.params.note = 'grüße – ünïcode';
    await t.sendCommand(cmd);
    const raw = await queueService(azurite()).getQueueClient(`${prefix}-commands-west`).peekMessages();
    const text = raw.peekedMessageItems[0].messageText;
    expect(text).toMatch(/^[A-Za-z0-9+/=]+$/);
    expect(JSON.parse(decodeBody(text))).toEqual(cmd);
  });

  it('complete removes the message; the lock hides it from other receivers meanwhile', async () => {
    const t = transport(uniqueName('q'));
    const cmd = command('west');
    await t.sendCommand(cmd);
    const [m] = await t.receiveCommands('west', { maxMessages: 1, maxWaitMs: 2000 });
    expect(m.body).toEqual(cmd);
    expect(m.deliveryCount).toBe(1);
    expect(await t.receiveCommands('west', { maxMessages: 1, maxWaitMs: 200 })).toHaveLength(0);
    await m.complete();
    await expect(m.complete()).rejects.toThrow(/already settled/);
  });

  it('abandon makes the message available again with a higher delivery count', async () => {
    const t = transport(uniqueName('q'));
    await t.sendCommand(command('west'));
    const [m] = await t.receiveCommands('west', { maxMessages: 1, maxWaitMs: 2000 });
    await m.abandon();
    const [again] = await t.receiveCommands('west', { maxMessages: 1, maxWaitMs: 2000 });
    expect(again.messageId).toBe(m.messageId);
    expect(again.deliveryCount).toBe(2);
    await again.complete();
  });

  it('renewLock keeps the message hidden past the original lock and complete still works', async () => {
    // A lock wide enough that a busy machine's delays do not decide the outcome: a renewal at a
    // third of it, as the worker renews, leaves two thirds of slack.
    const lockMs = 3000;
    const t = transport(uniqueName('q'), { lockMs });
    await t.sendCommand(command('west'));
    await t.sendCommand(command('west'));
    const locked = await t.receiveCommands('west', { maxMessages: 2, maxWaitMs: 2000 });
    const lockedBy = Date.now(); // both locks were taken before this moment
    expect(locked).toHaveLength(2);
    const [renewed, control] = locked;
    while (Date.now() < lockedBy + lockMs + 500) {
      await new Promise((r) => setTimeout(r, lockMs / 3));
      await renewed.renewLock();
    }
    // Both original locks are over: the control, never renewed, is back; the renewed one is not.
    const back = await t.receiveCommands('west', { maxMessages: 2, maxWaitMs: 0 });
    expect(back.map((m) => m.messageId)).toEqual([control.messageId]);
    await renewed.complete();
  });

  it('an expired lock redelivers (the worker died without settling)', async () => {
    const t = transport(uniqueName('q'), { lockMs: 1000 });
    await t.sendCommand(command('west'));
    const [m] = await t.receiveCommands('west', { maxMessages: 1, maxWaitMs: 2000 });
    const [again] = await t.receiveCommands('west', { maxMessages: 1, maxWaitMs: 3000 });
    expect(again.messageId).toBe(m.messageId);
    expect(again.deliveryCount).toBe(2);
  });

  it('deadLetter moves the message to <queue>-poison with the reason', async () => {
    const t = transport(uniqueName('q'));
    await t.sendRawCommand('west', 'not json at all');
    const [m] = await t.receiveCommands('west', { maxMessages: 1, maxWaitMs: 2000 });
    expect(m.body).toBe('not json at all');
    await m.deadLetter('InvalidMessage', 'body is not JSON');
    const dl = await t.peekDeadLettered('west', 10);
    expect(dl).toEqual([{ body: 'not json at all', reason: 'InvalidMessage', description: 'body is not JSON', deliveryCount: 1 }]);
    expect(await t.receiveCommands('west', { maxMessages: 1, maxWaitMs: 100 })).toHaveLength(0);
  });

  it('a message delivered more than maxDeliveries times is poisoned on the next receive', async () => {
    const t = transport(uniqueName('q'), { maxDeliveries: 2 });
    const cmd = command('west');
    await t.sendCommand(cmd);
    for (let i = 1; i <= 2; i++) {
      const [m] = await t.receiveCommands('west', { maxMessages: 1, maxWaitMs: 2000 });
      expect(m.deliveryCount).toBe(i);
      await m.abandon();
    }
    expect(await t.receiveCommands('west', { maxMessages: 1, maxWaitMs: 300 })).toHaveLength(0);
    const dl = await t.peekDeadLettered('west', 10);
    expect(dl).toHaveLength(1);
    expect(dl[0]).toMatchObject({ reason: MAX_DELIVERIES_EXCEEDED, body: cmd, deliveryCount: 3 });
  });

  it('results and health go to their queues; replyTo overrides the results queue', async () => {
    const prefix = uniqueName('q');
    const t = transport(prefix);
    const result: ResultMessage = {
      v: 1, commandId: 'c1', runId: 'r', stepId: 's', site: 'west', workerId: 'w1', status: 'succeeded',
      finishedAt: new Date().toISOString(), duplicate: false,
    };
    await t.sendResult(result);
    await t.sendHealth({ v: 1, kind: 'heartbeat', site: 'west', workerId: 'w1', at: new Date().toISOString() });
    expect((await t.receiveResults({ maxMessages: 5, maxWaitMs: 2000 })).map((r) => r.body)).toEqual([result]);
    expect((await t.receiveHealth({ maxMessages: 5, maxWaitMs: 2000 }))[0].body).toMatchObject({ kind: 'heartbeat' });
    await t.sendResult(result, `${prefix}-custom`);
    const custom = await queueService(azurite()).getQueueClient(`${prefix}-custom`).peekMessages();
    expect(JSON.parse(decodeBody(custom.peekedMessageItems[0].messageText))).toEqual(result);
  });
});
