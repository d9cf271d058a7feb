// The app's own HTTP routes (functions/http/api.ts body()) refuse JSON nested too deeply with a
// 400 that says so, on the real app behind the local host's front.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHost } from '../../local/host.js';
import { uniqueName } from '../support/azurite.js';
import { startTestHost } from '../support/host.js';
import { APP, runsSettings } from './support.js';

let host: LocalHost;
beforeAll(async () => { host = await startTestHost({ entry: APP, values: runsSettings(uniqueName('t').toLowerCase().slice(0, 12)) }); }, 60_000);
afterAll(async () => { await host?.stop(); });

const post = async (p: string, body: string) => {
  const res = await fetch(`${host.url}/api/${p}`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-lyncdr-user': 'operator' } });
  return { status: res.status, body: (await res.json()) as { error: string } };
};
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

describe('request bodies of the app routes', () => {
  it('answer JSON nested 5,000 levels deep with 400 and the reason', async () => {
    for (const p of ['runs', 'locks/release', 'runs/no-such-run/votes']) {
      const r = await post(p, nested(5000));
      expect({ p, status: r.status }).toEqual({ p, status: 400 });
      expect(r.body.error).toBe('the body is too deeply nested: the JSON is nested 5000 levels deep; at most 64 are accepted');
    }
  });

  it('still read a body within the depth limit (then validate it)', async () => {
    const r = await post('runs', nested(64));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/^invalid request: /);
  });
});
