// A site failover and failback of the sample estate, driven by hand through the simulator with
// the commands RUNBOOKS.md lists (runbooks 3 and 4), checking that the estate ends exactly as it
// started. This is what the plan builders' steps will do in an end-to-end drill.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Simulator } from '../../worker/simulator/simulator.js';
import type { ExecutionResult } from '../../worker/executors/types.js';
import { loadTopologyFile, type Topology } from '../../shared/topology/index.js';

const SEC = { sqlServerFqdn: 'pchatsql-west.contoso.com', sqlInstanceName: 'PCHAT' };
const TEST_USER_1 = { userSipAddress: 'sip:lyncdr.test.eepool1@contoso.com', userCredential: 'lyncdr-test-eepool1' };
const PRI = { sqlServerFqdn: 'pchatsql-east.contoso.com', sqlInstanceName: 'PCHAT' };
const PCHAT = 'PersistentChatServer:pchatpool1.contoso.com';
const COPY = 'D:\\LogShipping\\mgc';
const SHARE = '\\\\fs-east.contoso.com\\pchat-logship';
const DNS = { dnsServer: 'dc1.contoso.com', zoneName: 'contoso.com' };
const EAST_PCHAT = [1, 2, 3, 4].map((i) => `pchatserver${i}.contoso.com`);
const WEST_PCHAT = [5, 6, 7, 8].map((i) => `pchatserver${i}.contoso.com`);

let topology: Topology;
beforeAll(async () => {
  const r = await loadTopologyFile(path.resolve(import.meta.dirname, '../../examples/estate.sample.yaml'));
  if (!r.ok) throw new Error('sample topology invalid');
  topology = r.topology;
});

let n = 0;
async function run(s: Simulator, name: string, params: Record<string, unknown>): Promise<ExecutionResult> {
  const r = await s.execute({ name, params }, { commandId: `drill-${++n}`, timeoutMs: 10_000, whatIf: false });
  if (r.status !== 'succeeded') throw new Error(`${name} ${JSON.stringify(params)} -> ${r.status}: ${r.stderr}`);
  return r;
}
const rows = (r: ExecutionResult) => (r.output as { recordsets: Array<Array<Record<string, unknown>>> }).recordsets[0];

/** Get the record, remove the old data, add the new (there is no atomic "set" in the DnsServer module). */
async function repointA(s: Simulator, name: string, to: string): Promise<string> {
  const got = await run(s, 'dns.getRecord', { ...DNS, name, rrType: 'A' });
  const old = (got.output as Array<{ RecordData: { IPv4Address: string }; TimeToLive: { TotalSeconds: number } }>)[0];
  await run(s, 'dns.removeRecord', { ...DNS, name, rrType: 'A', recordData: old.RecordData.IPv4Address });
  await run(s, 'dns.addA', { ...DNS, name, ipv4Address: to, ttlSeconds: old.TimeToLive.TotalSeconds });
  return old.RecordData.IPv4Address;
}
async function repointCname(s: Simulator, name: string, to: string): Promise<string> {
  const got = await run(s, 'dns.getRecord', { ...DNS, name, rrType: 'CName' });
  const old = (got.output as Array<{ RecordData: { HostNameAlias: string }; TimeToLive: { TotalSeconds: number } }>)[0];
  const alias = old.RecordData.HostNameAlias.replace(/\.$/, '');
  await run(s, 'dns.removeRecord', { ...DNS, name, rrType: 'CName', recordData: alias });
  await run(s, 'dns.addCname', { ...DNS, name, hostNameAlias: to, ttlSeconds: old.TimeToLive.TotalSeconds });
  return alias;
}

describe('site failover -> failback of the sample estate', () => {
  it('every step succeeds against real preconditions and the estate ends as it began', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-drill-'));
    const s = new Simulator({ dir, topology, timeFactor: 0 });
    const before = await s.snapshot();
    expect(before.pchat).toEqual({ state: 'Normal', activeServers: EAST_PCHAT });
    expect(before.cms.pool).toBe('eepool1.contoso.com');

    // ---- pre-flight, while East is still up
    const backup = await run(s, 'backup.status', { poolFqdn: 'eepool1.contoso.com' });
    const lastSync = (backup.output as Array<{ BackupModules: Array<{ ExportStatus: { LastStateTime: string } }> }>)[0].BackupModules[0].ExportStatus.LastStateTime;
    expect(Date.now() - Date.parse(lastSync)).toBeLessThanOrEqual(2 * 60_000 + 1000);
    await run(s, 'pool.backupRelationship', { poolFqdn: 'eepool1.contoso.com' });

    // ---- disaster: East is lost
    await s.disaster('east');
    const rpo = await run(s, 'backup.status', { poolFqdn: 'eepool1.contoso.com' });
    expect(rpo.output).toEqual([expect.objectContaining({ OverallExportStatus: 'Unknown', OverallImportStatus: 'FinalState' })]);

    // ---- FE branch (west worker)
    expect((await run(s, 'cms.locate', {})).output).toEqual([expect.objectContaining({ PoolFqdn: 'eepool1.contoso.com', Reachable: false })]);
    await run(s, 'cms.failover', { backupSqlServerFqdn: 'eepool2-sql.contoso.com', backupSqlInstanceName: 'RTC' });
    expect((await run(s, 'cms.replicationStatus', { centralManagementStoreStatus: true })).output).toEqual([expect.objectContaining({ ActiveMasterFqdn: 'fe2a.contoso.com' })]);
    const edges = (await run(s, 'edge.getServices', {})).output as Array<{ PoolFqdn: string; Registrar: string }>;
    const edgeHops = Object.fromEntries(edges.map((e) => [e.PoolFqdn, e.Registrar.replace(/^Registrar:/, '')]));
    expect(edgeHops['edgepool1.contoso.com']).toBe('eepool1.contoso.com');
    await run(s, 'edge.setNextHop', { edgePoolFqdn: 'edgepool1.contoso.com', nextHopPoolFqdn: 'eepool2.contoso.com' });
    await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com', disasterMode: true });
    const oldDns: Record<string, string> = {};
    for (const name of ['meet', 'dialin', 'admin']) {
      const west = topology.dns.find((d) => d.name === name)!.siteTargets!.West;
      oldDns[name] = await repointA(s, name, west);
    }
    oldDns.lyncdiscover = await repointCname(s, 'lyncdiscover', 'rp-west.contoso.com');
    expect((await run(s, 'pool.testRegistration', { targetFqdn: 'eepool2.contoso.com', ...TEST_USER_1 })).output).toEqual([expect.objectContaining({ Result: 'Success' })]);

    // ---- SQL branch (west worker): pChat RPO, remove log shipping, apply the remaining logs, recover
    const monitor = rows(await run(s, 'sql.logShippingMonitor', SEC))[0];
    expect(monitor).toMatchObject({ last_copied_file: expect.stringMatching(/\.trn$/), last_restored_file: expect.stringMatching(/\.trn$/) });
    await run(s, 'sql.logShippingSecondary', SEC);
    await run(s, 'sql.deleteLogShippingSecondary', SEC);
    const lastRestored = rows(await run(s, 'sql.lastRestoredBackup', SEC))[0];
    // The share's file server is in East, lost with it: the files only there are lost too.
    const dead = await s.execute({ name: 'file.listLogBackups', params: { folder: SHARE } }, { commandId: `drill-${++n}`, timeoutMs: 10_000, whatIf: false });
    expect(dead).toMatchObject({ status: 'failed', stderr: expect.stringMatching(/network path .* was not found/) });
    const copied = ((await run(s, 'file.listLogBackups', { folder: COPY })).output as Array<{ Name: string }>).map((f) => f.Name);
    // Which logs are unapplied: the LSNs decide (the header of each file against the last restore).
    const unapplied: string[] = [];
    for (const file of copied) {
      const h = rows(await run(s, 'sql.readBackupHeader', { ...SEC, folder: COPY, file }))[0];
      if (BigInt(String(h.FirstLSN)) >= BigInt(String(lastRestored.last_lsn))) unapplied.push(file);
    }
    expect(unapplied.length).toBeGreaterThan(0);
    for (const file of unapplied) await run(s, 'sql.restoreLog', { ...SEC, folder: COPY, file });
    expect(rows(await run(s, 'sql.listSessions', SEC))).toEqual([]);
    await run(s, 'sql.recoverDatabase', SEC);

    // ---- pChat: state, active servers in the surviving site, mirror for the new primary
    await run(s, 'pchat.setState', { identity: PCHAT, poolState: 'FailedOver' });
    expect((await run(s, 'pchat.getState', { identity: PCHAT })).output).toEqual([{ Identity: PCHAT, PoolState: 'FailedOver' }]);
    const recorded = ((await run(s, 'pchat.getServices', { poolFqdn: 'pchatpool1.contoso.com' })).output as Array<{ ActiveServers: string[] }>)[0].ActiveServers;
    expect(recorded).toEqual(EAST_PCHAT);
    await run(s, 'pchat.clearActiveServers', { identity: 'global' });
    await run(s, 'pchat.addActiveServers', { identity: 'global', servers: WEST_PCHAT });
    await run(s, 'pchat.installMirror', { ...SEC, fileShare: '\\\\fs-west.contoso.com\\mirror' });
    const failedOver = await s.snapshot();
    expect(failedOver).toMatchObject({
      cms: { pool: 'eepool2.contoso.com' }, edgeNextHops: { 'edgepool1.contoso.com': 'eepool2.contoso.com' },
      pools: { 'eepool1.contoso.com': { failedOver: true, usersServedBy: 'eepool2.contoso.com' } },
      pchat: { state: 'FailedOver', activeServers: WEST_PCHAT },
      pchatSql: { secondary: { mgc: 'ONLINE', mirrored: true }, logShippingConfigured: false },
      dns: { 'meet.contoso.com': { records: ['10.2.0.10'] }, 'lyncdiscover.contoso.com': { records: ['rp-west.contoso.com'] } },
    });

    // ---- East is back: site failback. Its Front Ends' replicas read current only once they are back.
    const replica = async () => (await run(s, 'cms.replicationStatus', { replicaFqdn: 'fe1b.contoso.com' })).output;
    expect(await replica()).toEqual([expect.objectContaining({ ReplicaFqdn: 'fe1b.contoso.com', UpToDate: false })]);
    await s.disaster('east', true);
    expect(await replica()).toEqual([expect.objectContaining({ ReplicaFqdn: 'fe1b.contoso.com', UpToDate: true })]);
    await run(s, 'pool.failback', { poolFqdn: 'eepool1.contoso.com' });
    await run(s, 'pchat.clearActiveServers', { identity: 'global' });
    await run(s, 'pchat.uninstallMirror', SEC);
    await run(s, 'sql.backupDatabase', { ...SEC, folder: SHARE, file: 'mgc_failback.bak' });
    // The primary is mirrored (topology): RESTORE refuses a mirrored database until mirroring is off.
    const refused = await s.execute({ name: 'sql.restoreDatabaseReplace', params: { ...PRI, folder: SHARE, file: 'mgc_failback.bak' } }, { commandId: `drill-${++n}`, timeoutMs: 10_000, whatIf: false });
    expect(refused).toMatchObject({ status: 'failed', errorKind: 'precondition' });
    expect(refused.stderr).toMatch(/Msg 3104/);
    await run(s, 'sql.removeMirroring', { ...PRI, database: 'mgc' });
    await run(s, 'sql.restoreDatabaseReplace', { ...PRI, folder: SHARE, file: 'mgc_failback.bak' });
    await run(s, 'pchat.installMirror', { ...PRI, fileShare: '\\\\fs-east.contoso.com\\mirror' });
    await run(s, 'pchat.setState', { identity: PCHAT, poolState: 'Normal' });
    expect((await run(s, 'pchat.getState', { identity: PCHAT })).output).toEqual([{ Identity: PCHAT, PoolState: 'Normal' }]);
    await run(s, 'pchat.addActiveServers', { identity: 'global', servers: recorded });
    // Manual step: the DBA re-creates log shipping.
    await s.reestablishLogShipping();
    for (const [name, ip] of Object.entries(oldDns)) {
      if (name === 'lyncdiscover') await repointCname(s, name, ip);
      else await repointA(s, name, ip);
    }
    await run(s, 'edge.setNextHop', { edgePoolFqdn: 'edgepool1.contoso.com', nextHopPoolFqdn: edgeHops['edgepool1.contoso.com'] });
    // The CMS may stay in West (seed 004); to end exactly where we began it goes back too.
    await run(s, 'cms.failover', { backupSqlServerFqdn: 'eepool1-sql.contoso.com', backupSqlInstanceName: 'RTC' });
    await run(s, 'backup.sync', { poolFqdn: 'eepool1.contoso.com' });
    expect((await run(s, 'pool.testRegistration', { targetFqdn: 'eepool1.contoso.com', ...TEST_USER_1 })).output).toEqual([expect.objectContaining({ Result: 'Success' })]);

    expect(await s.snapshot()).toEqual(before);
    expect((await s.state()).executions.every((e) => e.outcome === 'succeeded' || e.name === 'sql.restoreDatabaseReplace' || (e.name === 'file.listLogBackups' && e.outcome === 'failed'))).toBe(true);
  });

});
