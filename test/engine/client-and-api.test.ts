import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHost } from '../../local/host.js';
import { api, startTestHost, type Api } from '../support/host.js';

let host: LocalHost;
let a: Api;
const KEY = 'test-function-key-123';

beforeAll(async () => {
  host = await startTestHost({ functionKeys: { default: KEY } });
  a = api(host);
});
afterAll(async () => { await host?.stop(); });

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${host.url}/api/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
};

describe("the SDK's own DurableClient, from an HTTP trigger", () => {
  it('starts, reads status, raises an event, terminates and purges', async () => {
    const started = await call('POST', 'client/start', { name: 'approvalRace', input: { timeoutMs: 60_000 } });
    expect(started.status).toBe(202);
    const id: string = started.body.id;
    // createCheckStatusResponse hands out URLs that work on this host.
    expect(started.body.statusQueryGetUri).toContain(`${host.url}/runtime/webhooks/durabletask/instances/${id}`);
    expect(started.headers.get('location')).toBe(started.body.statusQueryGetUri);
    const viaLink = await fetch(started.body.statusQueryGetUri);
    expect([200, 202]).toContain(viaLink.status);

    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    const status = await call('GET', `client/status/${id}`);
    expect(status.body.runtimeStatus).toBe('Running');
    expect(status.body.input).toEqual({ timeoutMs: 60_000 });
    // The extension answers with historyEvents, which durable-functions 3.x does not read: on Azure
    // getStatus(..., { showHistory: true }).history is undefined (durable-js #620), and so it is here.
    expect(status.body.history).toBeUndefined();
    expect(status.body.createdTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);

    expect((await call('POST', `client/raise/${id}`, { event: 'approval', data: { approver: 'bob' } })).status).toBe(202);
    const done = await a.waitFor(id);
    expect(done.output).toEqual({ outcome: 'approved', by: { approver: 'bob' } });

    const listed = await call('GET', 'client/list');
    expect(listed.body.map((s: any) => s.instanceId)).toContain(id);

    const purged = await call('DELETE', `client/purge/${id}`);
    expect(purged.body).toEqual({ instancesDeleted: 1 });
    expect((await a.call('GET', `instances/${id}`)).status).toBe(404);
  });

  it('terminates through the client', async () => {
    const started = await call('POST', 'client/start/fixed-id-1', { name: 'waitForever' });
    expect(started.body.id).toBe('fixed-id-1');
    await a.waitFor('fixed-id-1', (s) => s.runtimeStatus === 'Running');
    expect((await call('POST', 'client/terminate/fixed-id-1', { reason: 'drill over' })).status).toBe(202);
    const s = await a.waitFor('fixed-id-1');
    expect(s.runtimeStatus).toBe('Terminated');
    expect(s.output).toBe('drill over');
  });
});

describe('HTTP triggers as the Functions host routes them', () => {
  it('enforces function keys and route constraints', async () => {
    expect((await fetch(`${host.url}/api/hello/alice`)).status).toBe(401);
    expect((await fetch(`${host.url}/api/hello/alice?code=wrong-key-000`)).status).toBe(401);
    const ok = await fetch(`${host.url}/api/hello/alice`, { headers: { 'x-functions-key': KEY } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ hello: 'alice' });
    // {name:alpha} does not match digits; POST is not among the methods.
    expect((await fetch(`${host.url}/api/hello/123?code=${KEY}`)).status).toBe(404);
    expect((await fetch(`${host.url}/api/hello/alice?code=${KEY}`, { method: 'POST' })).status).toBe(405);
  });
});

describe('management API: bad input is refused and writes nothing', () => {
  const countInstances = async () => (await host.engine.store.queryIndex({})).rows.length;

  it('400 for malformed requests and unknown orchestrators, 404 for unknown routes and instances', async () => {
    const before = await countInstances();
    const cases: Array<[string, string, unknown, number, RegExp]> = [
      ['POST', 'orchestrators/chain', '{not json', 400, /not valid JSON/],
      ['POST', 'orchestrators/nope', '', 400, /no orchestrator function named 'nope'/],
      ['POST', 'orchestrators/', '', 404, /no management API route/],
      ['POST', 'orchestrators/chain/a/b', '', 404, /no management API route/],
      ['POST', `orchestrators/chain/${'x'.repeat(101)}`, '', 400, /instance id .* is invalid/],
      ['POST', 'orchestrators/chain/bad%0Aid', '', 400, /instance id .* is invalid/],
      ['GET', 'instances/does-not-exist', undefined, 404, /no instance/],
      ['POST', 'instances/does-not-exist/raiseEvent/x', '1', 404, /no instance/],
      ['POST', 'instances/does-not-exist/terminate', '', 404, /no instance/],
      ['DELETE', 'instances/does-not-exist', undefined, 404, /no instance/],
      ['DELETE', 'instances/', undefined, 400, /createdTimeFrom/],
      ['DELETE', 'instances/?runtimeStatus=Completed', undefined, 400, /createdTimeFrom/],
      ['GET', 'orchestrators/chain', undefined, 404, /no management API route/],
      ['POST', 'instances/x/rewind', '', 501, /not supported/],
      ['POST', 'orchestrators/chain?taskHub=OtherHub', '', 404, /task hub 'OtherHub'/],
    ];
    for (const [method, path, body, status, message] of cases) {
      const r = await a.call(method, path, body);
      expect({ path, status: r.status }).toEqual({ path, status });
      expect(JSON.stringify(r.body)).toMatch(message);
    }
    expect(await countInstances()).toBe(before);
  });

  it('refuses an event with a malformed body without touching the instance', async () => {
    const id = await a.start('waitForever');
    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    const before = await a.status(id, '?showHistory=true');
    const r = await a.call('POST', `instances/${id}/raiseEvent/never`, '{broken');
    expect(r.status).toBe(400);
    // An event that is taken, sent after the refused one: once it is in the history, the refused
    // one would be there before it.
    expect(await a.raise(id, 'marker', 1)).toBe(202);
    const raised = (s: any): string[] => s.historyEvents.filter((e: any) => e.EventType === 'EventRaised').map((e: any) => e.FunctionName);
    let after = await a.status(id, '?showHistory=true');
    for (const deadline = Date.now() + 30_000; !raised(after).includes('marker') && Date.now() < deadline;) after = await a.status(id, '?showHistory=true');
    expect(raised(before)).toEqual([]);
    expect(raised(after)).toEqual(['marker']);
    expect(after.historyEvents.slice(0, before.historyEvents.length)).toEqual(before.historyEvents);
    expect(after.runtimeStatus).toBe('Running');
    expect((await a.call('DELETE', `instances/${id}`)).status).toBe(412);
    expect((await a.call('POST', `orchestrators/waitForever/${id}`, '')).status).toBe(409);
  });

  it('lists with filters and pages with a continuation token', async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await a.start('chain', undefined, `page-${i}`));
    for (const id of ids) await a.waitFor(id);
    const first = await a.call('GET', 'instances/?runtimeStatus=Completed&instanceIdPrefix=page-&top=2');
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(2);
    const token = first.headers.get('x-ms-continuation-token');
    expect(token).toBeTruthy();
    const seen = new Set(first.body.map((s: any) => s.instanceId));
    let next: string | null = token;
    while (next) {
      const res = await fetch(`${a.base}/instances/?runtimeStatus=Completed&instanceIdPrefix=page-&top=2`, { headers: { 'x-ms-continuation-token': next } });
      for (const s of (await res.json()) as Array<{ instanceId: string }>) seen.add(s.instanceId);
      next = res.headers.get('x-ms-continuation-token');
    }
    expect([...seen].sort()).toEqual(ids.sort());
    // The extension's purge filter is createdTimeFrom/To and runtimeStatus (no id prefix).
    const purged = await a.call('DELETE', `instances/?runtimeStatus=Completed&createdTimeFrom=${from}`);
    expect(purged.body).toEqual({ instancesDeleted: 5 });
  });
});

describe('poison messages', () => {
  const poisonBodies = async () => {
    const r = await host.engine.store.queues.poison.peekMessages({ numberOfMessages: 32 });
    return r.peekedMessageItems.map((m) => JSON.parse(m.messageText));
  };

  it('moves a malformed control message to the poison queue with the reason', async () => {
    await host.engine.store.queues.control.sendMessage('{"t":"c","nonsense":true}');
    let found: any;
    for (let i = 0; i < 100 && !found; i++) {
      found = (await poisonBodies()).find((p) => p.message.includes('nonsense'));
      if (!found) await new Promise((r) => setTimeout(r, 50));
    }
    expect(found.queue).toBe('control');
    expect(found.reason).toMatch(/malformed message/);
  });
});
