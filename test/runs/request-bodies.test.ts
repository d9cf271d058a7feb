// The app's own HTTP routes (functions/http/api.ts body()) refuse JSON nested too deeply with a
// 400 that says so, bound what a start's options may hold, and quote only the start of what was
// sent in their errors, on the real app behind the local host's front.
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
    for (const p of ['runs', 'locks/release', 'runs/no-such-run/votes', 'runs/no-such-run/steps/s/decision', 'runs/no-such-run/steps/s/confirm',
      'runs/no-such-run/cancel', 'runs/no-such-run/pause', 'runs/no-such-run/resume']) {
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

  it('refuse a 1 MB failedSite with 400 naming the option, without echoing it, and start nothing', async () => {
    const huge = 'X'.repeat(1024 * 1024);
    const r = await post('runs', JSON.stringify({ runbook: 'site-failover', options: { failedSite: huge } }));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid request: options.failedSite: at most 512 characters (this one has 1048576)');
    const runs = await fetch(`${host.url}/api/runs`, { headers: { 'x-lyncdr-user': 'operator' } }).then((x) => x.json()) as { runs: unknown[] };
    expect(runs.runs).toEqual([]);
  });

  it('quote at most a short prefix of what was sent: an unknown site, an unknown option, an unknown field, a run id', async () => {
    const site = 'S'.repeat(500);
    const unknownSite = await post('runs', JSON.stringify({ runbook: 'site-failover', options: { failedSite: site } }));
    expect(unknownSite.status).toBe(400);
    expect(unknownSite.body.error).toContain(`unknown site "${'S'.repeat(40)}"... (500 characters)`);
    const name = 'o'.repeat(60);
    const unknownOption = await post('runs', JSON.stringify({ runbook: 'site-failover', options: { failedSite: 'East', [name]: 1 } }));
    expect(unknownOption.status).toBe(400);
    expect(unknownOption.body.error).toContain(`unknown option(s) ${'o'.repeat(40)}... (60 characters);`);
    const field = 'f'.repeat(100_000);
    const unknownField = await post('runs/no-such-run/votes', JSON.stringify({ decision: 'approve', planHash: 'sha256:x', [field]: 1 }));
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.length).toBeLessThan(400);
    const id = 'r'.repeat(2000);
    const unknownRun = await post(`runs/${id}/cancel`, JSON.stringify({ reason: 'x' }));
    expect(unknownRun).toEqual({ status: 404, body: { error: `no run ${'r'.repeat(40)}... (2000 characters)` } });
  });
});
