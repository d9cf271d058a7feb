// What the Functions front end does before a request reaches the management API or a function:
// keys on /runtime/webhooks/durabletask, the request body limit, and 400 (never 500) for URLs,
// continuation tokens and bodies that cannot be read.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHost } from '../../local/host.js';
import { durableClientBinding } from '../../local/management-api.js';
import { DEFAULT_MAX_REQUEST_BODY_BYTES } from '../../local/request-limits.js';
import { api, startTestHost } from '../support/host.js';

const MASTER = 'test-master-key-123';
const FUNCTION_KEY = 'test-function-key-456';
const SYSTEM = 'test-system-key-789';

const webhook = (host: LocalHost, p: string) => `${host.url}/runtime/webhooks/durabletask/${p}`;
const appCall = async (host: LocalHost, method: string, p: string, body?: unknown) => {
  const res = await fetch(`${host.url}/api/${p}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};

/** A request sent as raw bytes of a path, so that nothing normalises its escapes first. */
function rawGet(host: LocalHost, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: host.port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Streams a body that never ends, until the server answers. A server that read the body whole
 * would never answer (the test times out); the answer must come from counting.
 */
function sendUntilAnswered(url: string, headers: Record<string, string>, maxBytes: number): Promise<{ status: number; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const req = http.request(url, { method: 'POST', headers });
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body, sent }); req.destroy(); });
    });
    req.on('error', (e) => { if (!answered) reject(e); });
    const pump = () => {
      while (!answered && sent < maxBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) { req.once('drain', pump); return; }
      }
    };
    pump();
  });
}

/** Polls the status through the app's own DurableClient (df.getClient), as application code would. */
async function clientWaitFor(host: LocalHost, id: string, runtimeStatus: string): Promise<{ instanceId: string; runtimeStatus: string; output: unknown }> {
  let last: unknown;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 25))) {
    const r = await appCall(host, 'GET', `client/status/${id}`);
    last = r.body;
    if (r.status === 200 && r.body.runtimeStatus === runtimeStatus) return r.body;
  }
  throw new Error(`${id} did not become ${runtimeStatus}; last: ${JSON.stringify(last)}`);
}

const deepJson = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

describe('management API keys with a master key configured', () => {
  let host: LocalHost;
  beforeAll(async () => { host = await startTestHost({ masterKey: MASTER, functionKeys: { default: FUNCTION_KEY } }); });
  afterAll(async () => { await host?.stop(); });

  it('needs the master key (code= or x-functions-key); 401 without, with a wrong one, or with a function key', async () => {
    expect((await fetch(webhook(host, 'instances/'))).status).toBe(401);
    expect((await fetch(webhook(host, 'instances/?code=wrong-key-000'))).status).toBe(401);
    expect((await fetch(webhook(host, `instances/?code=${FUNCTION_KEY}`))).status).toBe(401);
    expect((await fetch(`${host.url}/runtime/webhooks/durableTask/orchestrators/chain`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(webhook(host, `instances/?code=${MASTER}`))).status).toBe(200);
    expect((await fetch(webhook(host, 'instances/'), { headers: { 'x-functions-key': MASTER } })).status).toBe(200);
    // Refused before anything is done: no instance was started by the key-less POST.
    expect((await host.engine.store.queryIndex({})).rows).toHaveLength(0);
  });

  it("keeps df.getClient working: the binding's URLs carry the system key, and the SDK's calls go through", async () => {
    const started = await fetch(`${host.url}/api/client/start`, { method: 'POST', body: JSON.stringify({ name: 'collect', input: 1 }) });
    expect(started.status).toBe(202);
    const links = (await started.json()) as { id: string; statusQueryGetUri: string; sendEventPostUri: string };
    const code = new URL(links.statusQueryGetUri).searchParams.get('code');
    expect(code).toBeTruthy();
    expect(new URL(links.sendEventPostUri.replace('{eventName}', 'vote')).searchParams.get('code')).toBe(code);
    // The handed-out URL works as it is; the same URL without its code does not.
    expect([200, 202]).toContain((await fetch(links.statusQueryGetUri)).status);
    const bare = new URL(links.statusQueryGetUri);
    bare.searchParams.delete('code');
    expect((await fetch(bare)).status).toBe(401);

    const running = await clientWaitFor(host, links.id, 'Running');
    expect(running.instanceId).toBe(links.id);
    expect((await appCall(host, 'POST', `client/raise/${links.id}`, { event: 'vote', data: 'aye' })).status).toBe(202);
    expect(await clientWaitFor(host, links.id, 'Completed')).toMatchObject({ runtimeStatus: 'Completed', output: ['aye'] });
    expect((await appCall(host, 'GET', 'client/list')).body.map((s: { instanceId: string }) => s.instanceId)).toContain(links.id);
    expect((await appCall(host, 'DELETE', `client/purge/${links.id}`)).body).toEqual({ instancesDeleted: 1 });
  });
});

describe('the durableClient binding', () => {
  it('appends code=<system key> to requiredQueryStringParameters and every URL, as the extension does', () => {
    const b = durableClientBinding({ origin: 'http://127.0.0.1:1', taskHub: 'Hub', connection: 'Storage', systemKey: SYSTEM, rpcOrigin: 'http://127.0.0.1:2' });
    expect(b.requiredQueryStringParameters).toBe(`taskHub=Hub&connection=Storage&code=${SYSTEM}`);
    for (const u of [...Object.values(b.creationUrls), b.managementUrls.statusQueryGetUri, b.managementUrls.sendEventPostUri, b.managementUrls.terminatePostUri]) expect(u).toContain(`code=${SYSTEM}`);
    expect(b.rpcBaseUrl).toBe('http://127.0.0.1:2/durabletask/');
    expect(durableClientBinding({ origin: 'http://127.0.0.1:1', taskHub: 'Hub', connection: 'Storage' }).requiredQueryStringParameters).toBe('taskHub=Hub&connection=Storage');
  });
});

describe('management API keys with a durabletask_extension system key configured', () => {
  let host: LocalHost;
  beforeAll(async () => { host = await startTestHost({ systemKeys: { durabletask_extension: SYSTEM } }); });
  afterAll(async () => { await host?.stop(); });

  it("serves the SDK's rpcBaseUrl on a separate loopback listener without keys, and nothing else there", async () => {
    expect(host.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(host.rpcUrl).not.toBe(host.url);
    expect((await fetch(`${host.rpcUrl}/durabletask/instances/`)).status).toBe(200);
    expect((await fetch(`${host.rpcUrl}/api/hello/alice`)).status).toBe(404);
    expect((await fetch(`${host.rpcUrl}/runtime/webhooks/durabletask/instances/`)).status).toBe(404);
  });

  it('needs the system key, and the binding hands out exactly that key', async () => {
    expect((await fetch(webhook(host, 'instances/'))).status).toBe(401);
    expect((await fetch(webhook(host, `instances/?code=${SYSTEM}`))).status).toBe(200);
    const started = await fetch(`${host.url}/api/client/start`, { method: 'POST', body: JSON.stringify({ name: 'chain' }) });
    expect(started.status).toBe(202);
    const links = (await started.json()) as { statusQueryGetUri: string };
    expect(new URL(links.statusQueryGetUri).searchParams.get('code')).toBe(SYSTEM);
  });
});

describe('request body limit', () => {
  const LIMIT = 64 * 1024;
  let host: LocalHost;
  beforeAll(async () => { host = await startTestHost({ maxRequestBodyBytes: LIMIT }); });
  afterAll(async () => { await host?.stop(); });

  it('answers 413 to a declared Content-Length over the limit without reading the body', async () => {
    const declared = 300 * 1024 * 1024;
    for (const url of [webhook(host, 'orchestrators/chain'), `${host.url}/api/client/start`]) {
      const r = await sendUntilAnswered(url, { 'content-type': 'application/json', 'content-length': String(declared) }, declared);
      expect({ url, status: r.status }).toEqual({ url, status: 413 });
      expect(r.body).toContain(`the limit is ${LIMIT} bytes`);
      expect(r.sent).toBeLessThan(declared);
    }
  });

  it('answers 413 to a chunked body as soon as it passes the limit', async () => {
    const r = await sendUntilAnswered(webhook(host, 'orchestrators/chain'), { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, 300 * 1024 * 1024);
    expect(r.status).toBe(413);
    expect(r.body).toContain(`more than ${LIMIT} bytes sent`);
  });

  it('takes a body under the limit', async () => {
    const r = await api(host).call('POST', 'orchestrators/chain', JSON.stringify({ pad: 'x'.repeat(LIMIT / 2) }));
    expect(r.status).toBe(202);
  });
});

describe('default body limit', () => {
  let host: LocalHost;
  beforeAll(async () => { host = await startTestHost(); });
  afterAll(async () => { await host?.stop(); });

  it(`is ${DEFAULT_MAX_REQUEST_BODY_BYTES} bytes: a 1 MiB body is read, a declared 5 MiB one is refused`, async () => {
    expect(DEFAULT_MAX_REQUEST_BODY_BYTES).toBe(4 * 1024 * 1024);
    const oneMiB = JSON.stringify('x'.repeat(1024 * 1024));
    expect((await api(host).call('POST', 'instances/no-such-instance/raiseEvent/x', oneMiB)).status).toBe(404);
    const r = await sendUntilAnswered(webhook(host, 'instances/no-such-instance/raiseEvent/x'), { 'content-type': 'application/json', 'content-length': String(5 * 1024 * 1024) }, 5 * 1024 * 1024);
    expect(r.status).toBe(413);
  });
});

describe('400, never 500', () => {
  let host: LocalHost;
  beforeAll(async () => { host = await startTestHost(); });
  afterAll(async () => { await host?.stop(); });

  it('for malformed percent-escapes in the path or the query', async () => {
    const paths = [
      '/runtime/webhooks/durabletask/instances/%E0%A4%A', '/runtime/webhooks/durabletask/instances/abc%zz',
      '/runtime/webhooks/durabletask/instances/?instanceIdPrefix=%', '/runtime/webhooks/durabletask/instances/x?showHistory=%FF',
      '/api/client/status/%FF', '/api/hello/%zz', '/api/client/list?x=%E0%A4%A',
    ];
    for (const p of paths) {
      const r = await rawGet(host, p);
      expect({ p, status: r.status }).toEqual({ p, status: 400 });
      expect(r.body).toMatch(/malformed percent-escape/);
    }
    // Well-formed escapes still decode.
    expect((await rawGet(host, '/runtime/webhooks/durabletask/instances/no%2Dsuch')).body).toContain("'no-such'");
  });

  it('for continuation tokens this API did not hand out', async () => {
    const tokens = ['not base64!', Buffer.from('not json').toString('base64'), Buffer.from('{"other":1}').toString('base64'), Buffer.from('[1,2]').toString('base64')];
    for (const token of tokens) {
      const res = await fetch(webhook(host, 'instances/?top=1'), { headers: { 'x-ms-continuation-token': token } });
      expect({ token, status: res.status }).toEqual({ token, status: 400 });
      expect(await res.text()).toMatch(/continuation token/);
    }
  });

  it('for JSON nested 5,000 levels deep, to a start or an event', async () => {
    const before = (await host.engine.store.queryIndex({})).rows.length;
    const start = await api(host).call('POST', 'orchestrators/chain', deepJson(5000));
    expect(start.status).toBe(400);
    expect(start.body.error).toMatch(/nested 5000 levels deep; at most 64/);
    expect((await host.engine.store.queryIndex({})).rows.length).toBe(before);

    const id = await api(host).start('collect', 1);
    await api(host).waitFor(id, (s) => s.runtimeStatus === 'Running');
    const raised = await api(host).call('POST', `instances/${id}/raiseEvent/vote`, deepJson(5000));
    expect(raised.status).toBe(400);
    expect(raised.body.error).toMatch(/nested 5000 levels deep/);
    // 64 levels is still fine.
    expect((await api(host).call('POST', `instances/${id}/raiseEvent/vote`, deepJson(64))).status).toBe(202);
    expect((await api(host).waitFor(id)).runtimeStatus).toBe('Completed');
  });
});
