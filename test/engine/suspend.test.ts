// Suspend, resume and restart as the Durable extension does them, rewind and entities / callHttp
// refused in words, over the management API and the SDK's own DurableClient, on real Azurite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHost } from '../../local/host.js';
import { EventType } from '../../local/engine/history.js';
import { TaskHubStore } from '../../local/engine/store.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { CONFORMANCE_APP, api, startTestHost, type Api } from '../support/host.js';
import { kill9, spawnHost, type HostProcess } from '../support/host-process.js';

let host: LocalHost;
let a: Api;
const spawned: HostProcess[] = [];

beforeAll(async () => {
  host = await startTestHost();
  a = api(host);
});
afterAll(async () => {
  await host?.stop();
  await Promise.all(spawned.map((h) => h.stop()));
});

const client = async (op: string, id: string, body?: unknown) => {
  const res = await fetch(`${host.url}/api/client/${op}/${encodeURIComponent(id)}`, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};
/** What an instance keeps while suspended (its sentinel), read from storage. */
const heldOf = async (id: string) => (await host.engine.store.readState(id))?.state.held ?? [];
const waitUntil = async <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('suspend and resume', () => {
  it("through the SDK's DurableClient: Suspended while suspended, events held in order, delivered in order on resume; history records both turns", async () => {
    const id = await a.start('collect', 3);
    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    expect(await client('suspend', id, { reason: 'change freeze' })).toEqual({ status: 202 });
    await a.waitFor(id, (s) => s.runtimeStatus === 'Suspended');
    for (const v of ['first', 'second', 'third']) expect(await a.raise(id, 'vote', v)).toBe(202);
    await waitUntil('three held events', async () => (await heldOf(id)).length === 3);
    // Three votes would complete it: held, they did nothing.
    const suspended = await a.status(id, '?showHistory=true');
    expect(suspended.runtimeStatus).toBe('Suspended');
    expect(suspended.historyEvents.filter((e: any) => e.EventType === 'EventRaised')).toHaveLength(0);
    const sdkView = await fetch(`${host.url}/api/client/status/${id}`).then((r) => r.json() as Promise<any>);
    expect(sdkView.runtimeStatus).toBe('Suspended');
    const listed = await a.call('GET', 'instances/?runtimeStatus=Suspended');
    expect(listed.body.map((s: any) => s.instanceId)).toContain(id);

    expect(await client('resume', id, { reason: 'freeze over' })).toEqual({ status: 202 });
    const done = await a.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toEqual(['first', 'second', 'third']);
    expect(await heldOf(id)).toEqual([]);
    const h = (await a.status(id, '?showHistory=true')).historyEvents;
    const names = h.map((e: any) => e.EventType);
    expect(names.indexOf('ExecutionSuspended')).toBeLessThan(names.indexOf('ExecutionResumed'));
    expect(names.indexOf('ExecutionResumed')).toBeLessThan(names.indexOf('EventRaised'));
    expect(h.find((e: any) => e.EventType === 'ExecutionSuspended').Reason).toBe('change freeze');
    expect(h.find((e: any) => e.EventType === 'ExecutionResumed').Reason).toBe('freeze over');
    // Stored with DTFx's numbers.
    const stored = (await host.engine.store.load(id))!.history.map((e) => e.EventType);
    expect(stored).toEqual(expect.arrayContaining([EventType.ExecutionSuspended, EventType.ExecutionResumed]));
    expect([EventType.ExecutionSuspended, EventType.ExecutionResumed]).toEqual([19, 20]);
  });

  it('a timer that fires and an activity that completes while suspended are held, then delivered in the order they came', async () => {
    const raceId = await a.start('approvalRace', { timeoutMs: 400 });
    await a.waitFor(raceId, (s) => s.runtimeStatus === 'Running');
    expect((await a.call('POST', `instances/${raceId}/suspend?reason=hold`)).status).toBe(202);
    await a.waitFor(raceId, (s) => s.runtimeStatus === 'Suspended');
    await waitUntil('the timer to fire', async () => (await heldOf(raceId)).some((e) => e.EventType === EventType.TimerFired));
    expect(await a.raise(raceId, 'approval', 'late')).toBe(202);
    await waitUntil('the event held after the timer', async () => (await heldOf(raceId)).map((e) => e.EventType).join() === `${EventType.TimerFired},${EventType.EventRaised}`);
    expect((await a.status(raceId)).runtimeStatus).toBe('Suspended');
    expect((await a.call('POST', `instances/${raceId}/resume?reason=go`)).status).toBe(202);
    // The timer came first, so it wins, as it would have without the suspension.
    expect((await a.waitFor(raceId)).output).toEqual({ outcome: 'timeout' });

    const slowId = await a.start('eventBeforeWait');
    await a.waitFor(slowId, (s) => s.runtimeStatus === 'Running');
    expect((await a.call('POST', `instances/${slowId}/suspend`)).status).toBe(202);
    await waitUntil('the activity completion held', async () => (await heldOf(slowId)).some((e) => e.EventType === EventType.TaskCompleted));
    const during = await a.status(slowId, '?showHistory=true');
    expect(during.runtimeStatus).toBe('Suspended');
    expect(during.historyEvents.filter((e: any) => e.EventType === 'TaskCompleted')).toHaveLength(0);
    await a.raise(slowId, 'go', 'went');
    await a.call('POST', `instances/${slowId}/resume`);
    expect((await a.waitFor(slowId)).output).toBe('went');
  });

  it('what an instance holds survives a kill -9 of its host', async () => {
    const hub = uniqueName('Suspend');
    const start = async () => { const h = await spawnHost({ hub, entry: CONFORMANCE_APP, connectionString: azurite() }); spawned.push(h); return h; };
    let h = await start();
    const id = await api(h).start('collect', 2);
    await api(h).waitFor(id, (s) => s.runtimeStatus === 'Running');
    await api(h).call('POST', `instances/${id}/suspend`);
    await api(h).waitFor(id, (s) => s.runtimeStatus === 'Suspended');
    await api(h).raise(id, 'vote', 1);
    await api(h).raise(id, 'vote', 2);
    const stateOf = async () => (await api(h).status(id, '?showHistory=true&showHistoryOutput=true'));
    // Held: accepted (the messages are gone from the queue once held) and not in history.
    await waitUntil('both votes held', async () => (await readHeld(hub, id)) === 2);
    expect((await stateOf()).historyEvents.filter((e: any) => e.EventType === 'EventRaised')).toHaveLength(0);
    await kill9(h);
    h = await start();
    expect((await api(h).status(id)).runtimeStatus).toBe('Suspended');
    expect((await api(h).call('POST', `instances/${id}/resume`)).status).toBe(202);
    const done = await api(h).waitFor(id);
    expect(done.output).toEqual([1, 2]);
  }, 60_000);

  it('a host that stopped after a resume, before what was held ran, runs it when it starts again', async () => {
    const hub = uniqueName('Held');
    let h = await startTestHost({ hub });
    const id = await api(h).start('collect', 1);
    await api(h).waitFor(id, (s) => s.runtimeStatus === 'Running');
    await h.stop();
    // What a resume commits just before the host dies: Running, with the held event still in the sentinel.
    const store = new TaskHubStore(azurite(), hub);
    const s = (await store.readState(id))!;
    const held = { EventType: EventType.EventRaised, EventId: -1, IsPlayed: false, Timestamp: new Date().toISOString(), Name: 'vote', Input: '"kept"', LyncdrMessageId: 'm-kept' };
    await store.commit({ ...s.state, held: [held] }, s.etag, undefined);
    h = await startTestHost({ hub });
    try {
      expect((await api(h).waitFor(id)).output).toEqual(['kept']);
      expect((await h.engine.store.readState(id))!.state.held).toBeUndefined();
    } finally {
      await h.stop();
    }
  });

  it('terminate works on a suspended instance; 404 unknown, 410 ended, through the API and the SDK', async () => {
    const id = await a.start('waitForever');
    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    await a.call('POST', `instances/${id}/suspend`);
    await a.waitFor(id, (s) => s.runtimeStatus === 'Suspended');
    await a.raise(id, 'never', 1);
    expect((await a.call('POST', `instances/${id}/terminate?reason=stop`)).status).toBe(202);
    const s = await a.waitFor(id);
    expect(s.runtimeStatus).toBe('Terminated');
    expect(await heldOf(id)).toEqual([]);

    for (const op of ['suspend', 'resume']) {
      expect((await a.call('POST', `instances/nope-${op}/${op}`)).status).toBe(404);
      expect((await a.call('POST', `instances/${id}/${op}`)).status).toBe(410);
      // The SDK reads 404 as an error and 410 as done, as against the extension.
      expect(await client(op, `nope-${op}`)).toEqual({ status: 409, body: { error: `No instance with ID 'nope-${op}' found.` } });
      expect(await client(op, id)).toEqual({ status: 202 });
    }
  });

  it('a resume of a running instance and a second suspend change nothing', async () => {
    const id = await a.start('collect', 1);
    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    await a.call('POST', `instances/${id}/resume`);
    await a.call('POST', `instances/${id}/suspend`);
    await a.call('POST', `instances/${id}/suspend`);
    await a.waitFor(id, (s) => s.runtimeStatus === 'Suspended');
    await a.call('POST', `instances/${id}/resume`);
    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    await a.raise(id, 'vote', 'only');
    expect((await a.waitFor(id)).output).toEqual(['only']);
    const turns = (await a.status(id, '?showHistory=true')).historyEvents.filter((e: any) => /^Execution(Suspended|Resumed)$/.test(e.EventType));
    expect(turns.map((e: any) => e.EventType)).toEqual(['ExecutionSuspended', 'ExecutionResumed']);
  });
});

describe('restart and rewind', () => {
  it('restart runs the orchestration again with the same input, under a new id or the same one', async () => {
    const id = await a.start('sequence', 3, uniqueName('restart'));
    await a.waitFor(id);
    const fresh = await a.call('POST', `instances/${id}/restart`);
    expect(fresh.status).toBe(202);
    expect(fresh.body.id).not.toBe(id);
    expect(fresh.headers.get('location')).toBe(fresh.body.statusQueryGetUri);
    const again = await a.waitFor(fresh.body.id);
    expect([again.runtimeStatus, again.input, again.output]).toEqual(['Completed', 3, 3]);

    // createdTime has whole seconds (as the extension writes it): the execution id tells the runs apart.
    const firstExecution = (await host.engine.store.readState(id))!.state.executionId;
    const same = await a.call('POST', `instances/${id}/restart?restartWithNewInstanceId=false`);
    expect([same.status, same.body.id]).toEqual([202, id]);
    const deadline = Date.now() + 20_000;
    while ((await host.engine.store.readState(id))!.state.executionId === firstExecution && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect((await host.engine.store.readState(id))!.state.executionId).not.toBe(firstExecution);
    const rerun = await a.waitFor(id);
    expect([rerun.runtimeStatus, rerun.output]).toEqual(['Completed', 3]);

    const running = await a.start('waitForever');
    await a.waitFor(running, (s) => s.runtimeStatus === 'Running');
    expect((await a.call('POST', `instances/${running}/restart?restartWithNewInstanceId=false`)).status).toBe(409);
    expect((await a.call('POST', 'instances/no-such-instance/restart')).status).toBe(400);
    // A value that does not parse is ignored, as the extension ignores it: the default (a new id) applies.
    const ignored = await a.call('POST', `instances/${running}/restart?restartWithNewInstanceId=perhaps`);
    expect(ignored.status).toBe(202);
    expect(ignored.body.id).not.toBe(running);
    await a.call('POST', `instances/${ignored.body.id}/terminate`);
    await a.call('POST', `instances/${running}/terminate`);
  });

  it("the SDK's rewind() throws an Error that says the local host does not support it", async () => {
    const id = await a.start('failing');
    expect((await a.waitFor(id)).runtimeStatus).toBe('Failed');
    const r = await client('rewind', id, { reason: 'try again' });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatch(/^rewind is not supported by the lyncdr local host/);
    expect((await a.status(id)).runtimeStatus).toBe('Failed');
  });
});

describe('durable features the local host does not have', () => {
  it.each([
    ['usesCallHttp', /callHttp is not supported by the lyncdr local host/],
    ['usesEntity', /callEntity \(durable entities\) is not supported by the lyncdr local host/],
  ])('%s fails its instance saying so', async (name, message) => {
    const id = await a.start(name);
    const s = await a.waitFor(id);
    expect(s.runtimeStatus).toBe('Failed');
    expect(s.output).toMatch(message);
    expect(s.output).not.toMatch(/action type/);
  });
});

/** The held count from the sentinel of a hub this process does not host. */
async function readHeld(hub: string, id: string): Promise<number> {
  const s = await new TaskHubStore(azurite(), hub).readState(id);
  return s?.state.held?.length ?? 0;
}
