import { describe, expect, it } from 'vitest';
import { azurite, uniqueName } from '../support/azurite.js';
import { ConflictError, TaskHubStore, type InstanceState } from '../../local/engine/store.js';
import { EventType } from '../../local/engine/history.js';
import { EntityLimitError, checkEntity, splitText, joinText } from '../../shared/storage/entity-limits.js';

const state = (id: string): InstanceState => ({
  instanceId: id, name: 'x', status: 'Running', executionId: 'e1', createdTime: new Date().toISOString(),
  lastUpdatedTime: new Date().toISOString(), episode: 0,
});
const ev = (n: number) => ({ EventType: EventType.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: new Date(n).toISOString() });

describe('task hub store', () => {
  it('lets exactly one of two dispatchers commit an episode loaded at the same ETag', async () => {
    const hub = uniqueName('Store');
    const a = new TaskHubStore(azurite(), hub);
    const b = new TaskHubStore(azurite(), hub);
    await a.init();
    const etag0 = await a.commit(state('i1'), undefined, undefined);
    const s1 = { ...state('i1'), episode: 0 };
    const results = await Promise.allSettled([a.commit(s1, etag0, [ev(1)]), b.commit(s1, etag0, [ev(2)])]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0].reason).toBeInstanceOf(ConflictError);
    // The loser left nothing behind: one history row, from the winner.
    const loaded = await a.load('i1');
    expect(loaded!.history).toHaveLength(1);
  });

  it('commits an episode whose events add up to more than one 1 MiB entity holds (each under the 45 KB offload) by moving them to a blob', async () => {
    const hub = uniqueName('Store');
    const a = new TaskHubStore(azurite(), hub);
    await a.init();
    const etag = await a.commit(state('big'), undefined, undefined);
    // 16 events of 36,000 characters: about 576 K characters, 1.15 MB as a Table stores strings.
    const events = Array.from({ length: 16 }, (_, i) => ({ ...ev(i), EventType: EventType.EventRaised, Name: `e${i}`, Input: JSON.stringify('y'.repeat(36_000)) }));
    await a.commit({ ...state('big'), episode: 0 }, etag, events);
    const loaded = await a.load('big');
    expect(loaded!.history.map((e) => e.Name)).toEqual(events.map((e) => e.Name));
    expect(loaded!.history[15].Input).toBe(events[15].Input);
  });

  it('refuses a second create of the same instance and a stale ETag', async () => {
    const hub = uniqueName('Store');
    const a = new TaskHubStore(azurite(), hub);
    await a.init();
    const etag = await a.commit(state('i2'), undefined, undefined);
    await expect(a.commit(state('i2'), undefined, undefined)).rejects.toBeInstanceOf(ConflictError);
    await a.commit({ ...state('i2'), episode: 0 }, etag, [ev(3)]);
    await expect(a.commit({ ...state('i2'), episode: 1 }, etag, [ev(4)])).rejects.toBeInstanceOf(ConflictError);
  });

  it("enforces Azure's entity limits in code, which Azurite would not", () => {
    expect(() => checkEntity({ partitionKey: 'p', rowKey: 'r', big: 'x'.repeat(40_000) })).toThrow(EntityLimitError);
    const many: Record<string, unknown> = { partitionKey: 'p', rowKey: 'r' };
    for (let i = 0; i < 253; i++) many[`p${i}`] = i;
    expect(() => checkEntity(many as never)).toThrow(/253 properties/);
    const huge: Record<string, unknown> = { partitionKey: 'p', rowKey: 'r' };
    for (let i = 0; i < 40; i++) huge[`p${i}`] = 'y'.repeat(30_000);
    expect(() => checkEntity(huge as never)).toThrow(/1048576/);
    expect(() => checkEntity({ partitionKey: 'a/b', rowKey: 'r' })).toThrow(/forbids/);
    const text = 'z'.repeat(100_000);
    expect(joinText('d', splitText('d', text))).toBe(text);
  });

  it('purges an instance of 150 history rows in transactions of at most 100 operations, the most Azure takes', async () => {
    const a = new TaskHubStore(azurite(), uniqueName('Store'));
    await a.init();
    let etag = await a.commit(state('i4'), undefined, undefined);
    for (let n = 0; n < 150; n++) etag = await a.commit({ ...state('i4'), episode: n }, etag, [ev(n)]);
    expect((await a.load('i4'))!.history).toHaveLength(150);
    const sizes: number[] = [];
    const submit = a.history.submitTransaction.bind(a.history);
    a.history.submitTransaction = (actions) => { sizes.push(actions.length); return submit(actions); };
    await a.deleteInstance('i4');
    expect(await a.load('i4')).toBeUndefined();
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(151);
  });

  it('offloads large event payloads to blobs and restores them', async () => {
    const a = new TaskHubStore(azurite(), uniqueName('Store'));
    await a.init();
    const big = JSON.stringify('q'.repeat(60_000));
    const packed = await a.packEvent('i3', { EventType: EventType.TaskCompleted, EventId: -1, IsPlayed: false, Timestamp: '', TaskScheduledId: 0, Result: big });
    expect(packed.Result).toBeUndefined();
    expect((await a.unpackEvent(packed)).Result).toBe(big);
  });
});
