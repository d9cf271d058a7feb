// Issue 12 §8: a worker in a lost site runs nothing. The simulator of a site's worker (--site)
// refuses every command while that site is down, as a precondition (permanent to the executor
// from version 10), and changes nothing; the worker of a surviving site runs the same command.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Simulator } from '../../worker/simulator/simulator.js';
import { estate } from '../plans/helpers.js';

const sample = estate('estate.sample.yaml');
const A = { dnsServer: 'dc1.contoso.com', zoneName: 'contoso.com', name: 'lost-site-probe', ipv4Address: '10.2.0.99', ttlSeconds: 300 };
let n = 0;
const ctx = () => ({ commandId: `ls${++n}`, timeoutMs: 10_000, whatIf: false });

describe('the worker of a lost site', () => {
  it('refuses every command while its site is down, changing nothing; a surviving site\'s worker runs it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-lost-site-'));
    const east = new Simulator({ dir, topology: sample, timeFactor: 0, site: 'east' });
    const west = new Simulator({ dir, topology: sample, timeFactor: 0, site: 'west' });
    await east.disaster('East');
    for (const [name, params] of [['cms.locate', {}], ['dns.addA', A]] as const) {
      const r = await east.execute({ name, params }, ctx());
      expect({ name, status: r.status, kind: r.errorKind }).toEqual({ name, status: 'failed', kind: 'precondition' });
      expect(r.stderr).toMatch(/The worker's site "east" is down/);
    }
    expect((await east.state()).dns['lost-site-probe.contoso.com']).toBeUndefined();
    expect((await west.execute({ name: 'dns.addA', params: A }, ctx())).status).toBe('succeeded');
    expect((await west.state()).dns['lost-site-probe.contoso.com'].records).toEqual(['10.2.0.99']);
    // Back up, the east worker runs again.
    await east.disaster('East', true);
    expect((await east.execute({ name: 'cms.locate', params: {} }, ctx())).status).toBe('succeeded');
  });

  it('a site lost while the command runs: the command does not take effect', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-lost-site-'));
    const east = new Simulator({ dir, topology: sample, timeFactor: 0.1, site: 'east' });
    const c = ctx();
    const running = east.execute({ name: 'dns.addA', params: A }, c);
    // dns.addA takes 3 s of estate time (300 ms here): once it has begun (passed the check before
    // it runs), the disaster strikes.
    while (!(await east.state()).executions.some((e) => e.commandId === c.commandId)) await new Promise((r) => setImmediate(r));
    await east.disaster('East');
    const r = await running;
    expect({ status: r.status, kind: r.errorKind }).toEqual({ status: 'failed', kind: 'precondition' });
    expect((await east.state()).dns['lost-site-probe.contoso.com']).toBeUndefined();
  });
});
