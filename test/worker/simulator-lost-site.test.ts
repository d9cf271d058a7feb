// Issue 12 §8: a worker in a lost site runs nothing. The simulator of a site's worker (--site)
// refuses every command while that site is down, as a precondition (permanent to the executor
// from version 10), and changes nothing; the worker of a surviving site runs the same command.
// A share in a lost site is unreachable from the surviving one: file commands, SQL backups and
// Install-CsMirrorDatabase -FileShare on it fail like the network path they cannot find.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Simulator } from '../../worker/simulator/simulator.js';
import { estate } from '../plans/helpers.js';
import { parseTopology } from '../../shared/topology/index.js';

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

describe('a share in a lost site', () => {
  // The log-shipping share on the primary SQL server (East) rather than on a DFS namespace the
  // estate does not place (the sample's fs-east, taken as reachable from both sites).
  const EAST_SHARE = '\\\\pchatsql-east.contoso.com\\pchat-logship';
  const parsed = parseTopology({ ...sample, persistentChat: { ...sample.persistentChat!, sql: { ...sample.persistentChat!.sql, backupShare: EAST_SHARE } } });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const COPY = 'D:\\LogShipping\\mgc';
  const SEC = { sqlServerFqdn: 'pchatsql-west.contoso.com', sqlInstanceName: 'PCHAT' };
  const run = (s: Simulator, name: string, params: Record<string, unknown>) => s.execute({ name, params }, ctx());

  it('is unreachable for list, copy, BACKUP and the mirror\'s -FileShare; the surviving site\'s folder and shares serve', async () => {
    const west = new Simulator({ dir: mkdtempSync(path.join(os.tmpdir(), 'lyncdr-lost-share-')), topology: parsed.topology, timeFactor: 0, site: 'west' });
    const before = (await west.state()).pchatSql!;
    const uncopied = before.backupShare.files.filter((f) => !before.copyFolder.files.some((c) => c.name === f.name)).map((f) => f.name);
    expect(uncopied.length).toBeGreaterThan(0);
    // While East is up the share serves the West worker.
    expect((await run(west, 'file.listLogBackups', { folder: EAST_SHARE })).status).toBe('succeeded');
    await west.disaster('East');

    const lost = new RegExp(`The network path '${EAST_SHARE.replace(/\\/g, '\\\\')}' was not found`);
    for (const [name, params] of [
      ['file.listLogBackups', { folder: EAST_SHARE }],
      ['file.copyLogBackups', { backupShare: EAST_SHARE, copyFolder: COPY, files: uncopied }],
    ] as const) {
      const r = await run(west, name, params);
      expect({ name, status: r.status, kind: r.errorKind }).toEqual({ name, status: 'failed', kind: 'precondition' });
      expect(r.stderr).toMatch(lost);
    }
    expect((await west.state()).pchatSql!.copyFolder.files.map((f) => f.name)).toEqual(before.copyFolder.files.map((f) => f.name));
    const listed = await run(west, 'file.listLogBackups', { folder: COPY });
    expect(listed.status).toBe('succeeded');
    expect((listed.output as Array<{ Name: string }>).map((f) => f.Name)).toEqual(before.copyFolder.files.map((f) => f.name));

    expect((await run(west, 'sql.recoverDatabase', SEC)).status).toBe('succeeded');
    const backup = await run(west, 'sql.backupDatabase', { ...SEC, folder: EAST_SHARE, file: 'mgc_full.bak' });
    expect({ status: backup.status, kind: backup.errorKind }).toEqual({ status: 'failed', kind: 'precondition' });
    expect(backup.stderr).toMatch(/Msg 3201: Cannot open backup device .*Operating system error 53\(The network path was not found\.\)/);
    expect((await west.state()).pchatSql!.fullBackups).toEqual([]);

    // Install-CsMirrorDatabase reads the topology: the CMS moves to West first.
    expect((await run(west, 'cms.failover', { backupSqlServerFqdn: 'eepool2-sql.contoso.com', backupSqlInstanceName: 'RTC' })).status).toBe('succeeded');
    const mirror = await run(west, 'pchat.installMirror', { ...SEC, fileShare: `${EAST_SHARE}\\mirror` });
    expect({ status: mirror.status, kind: mirror.errorKind }).toEqual({ status: 'failed', kind: 'precondition' });
    expect(mirror.stderr).toMatch(/The network path .*pchatsql-east\.contoso\.com.* was not found/);
    expect((await west.state()).pchatSql!.secondary.mirror).toBe(false);
    expect((await run(west, 'pchat.installMirror', { ...SEC, fileShare: '\\\\pchatsql-west.contoso.com\\mirror' })).status).toBe('succeeded');
  });
});
