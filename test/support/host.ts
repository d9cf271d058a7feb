// Starts the local host in this test process on a free port, over the shared Azurite, with a
// task hub of its own, and offers small HTTP helpers for the management API.
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startHost, type LocalHost } from '../../local/host.js';
import { LocalSettings } from '../../local/settings.js';
import { azurite, uniqueName } from './azurite.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CONFORMANCE_APP = path.join(ROOT, 'test/fixtures/conformance-app.ts');

export interface TestHostOptions {
  entry?: string; hub?: string; functionKeys?: Record<string, string>; triggers?: boolean; clock?: () => number; values?: Record<string, string>;
  masterKey?: string; systemKeys?: Record<string, string>; maxRequestBodyBytes?: number;
}

export async function startTestHost(opts: TestHostOptions = {}): Promise<LocalHost> {
  process.env.AzureWebJobsStorage = azurite();
  return startHost({
    entry: opts.entry ?? CONFORMANCE_APP,
    root: ROOT,
    port: 0,
    hubName: opts.hub ?? uniqueName('Hub'),
    settings: LocalSettings.parse({
      Values: { LYNCDR_TASK_HUB: 'unused', ...(opts.values ?? {}) }, FunctionKeys: opts.functionKeys ?? {},
      MasterKey: opts.masterKey, SystemKeys: opts.systemKeys ?? {}, Host: { MaxRequestBodyBytes: opts.maxRequestBodyBytes },
    }),
    triggers: opts.triggers ?? false,
    clock: opts.clock,
    log: (level, m) => { if (level === 'error') console.error(m); },
  });
}

export interface Api {
  base: string;
  call(method: string, p: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  start(name: string, input?: unknown, instanceId?: string): Promise<string>;
  status(id: string, query?: string): Promise<any>;
  raise(id: string, event: string, data?: unknown): Promise<number>;
  waitFor(id: string, predicate?: (s: any) => boolean, timeoutMs?: number): Promise<any>;
}

export function api(host: { url: string }): Api {
  const base = `${host.url}/runtime/webhooks/durabletask`;
  const call: Api['call'] = async (method, p, body) => {
    const res = await fetch(`${base}/${p}`, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { /* plain text */ }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  const self: Api = {
    base,
    call,
    async start(name, input, instanceId) {
      const r = await call('POST', `orchestrators/${name}${instanceId ? `/${encodeURIComponent(instanceId)}` : ''}`, input === undefined ? '' : input);
      if (r.status !== 202) throw new Error(`start ${name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.id;
    },
    async status(id, query = '') {
      return (await call('GET', `instances/${encodeURIComponent(id)}${query}`)).body;
    },
    async raise(id, event, data) {
      return (await call('POST', `instances/${encodeURIComponent(id)}/raiseEvent/${event}`, data === undefined ? '' : JSON.stringify(data))).status;
    },
    async waitFor(id, predicate = (s) => ['Completed', 'Failed', 'Terminated'].includes(s?.runtimeStatus), timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        last = await self.status(id);
        if (predicate(last)) return last;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`instance ${id} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    },
  };
  return self;
}

/** One test host (and its management API) for a whole test file: started before, stopped after. */
export function hostForFile(opts: Parameters<typeof startTestHost>[0] = {}): { readonly host: LocalHost; readonly api: Api } {
  let host: LocalHost | undefined;
  let a: Api | undefined;
  beforeAll(async () => { host = await startTestHost(opts); a = api(host); });
  afterAll(async () => { await host?.stop(); });
  return {
    get host() { if (!host) throw new Error('the test host has not started'); return host; },
    get api() { if (!a) throw new Error('the test host has not started'); return a; },
  };
}
