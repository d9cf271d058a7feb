import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Simulator } from '../../worker/simulator/simulator.js';
import { applySpec } from '../../worker/simulator/estate.js';
import { sqlRestoreLog } from '../../shared/commands/sql.js';
import { catalog } from '../../shared/commands/catalog.js';
import type { SqlSpec } from '../../shared/commands/spec.js';
import type { ExecutionResult } from '../../worker/executors/types.js';
import { loadTopologyFile, parseTopology, type Topology } from '../../shared/topology/index.js';

const SEC = 'pchatsql-west.contoso.com';
const PRI = 'pchatsql-east.contoso.com';
const INST = { sqlInstanceName: 'PCHAT' };
const PCHAT = 'PersistentChatServer:pchatpool1.contoso.com';
const COPY = 'D:\\LogShipping\\mgc';
const SHARE = '\\\\fs-east.contoso.com\\pchat-logship';

let sample: Topology;
/** The sample estate plus a Standard Edition pool without a backup pool. */
let withLonePool: Topology;
beforeAll(async () => {
  const r = await loadTopologyFile(path.resolve(import.meta.dirname, '../../examples/estate.sample.yaml'));
  if (!r.ok) throw new Error('sample topology invalid');
  sample = r.topology;
  const lone = parseTopology({
    ...sample,
    frontEndPools: [...sample.frontEndPools, { fqdn: 'sepool3.contoso.com', site: 'West', edition: 'Standard', backEnd: { serverFqdn: 'sepool3.contoso.com', instance: 'RTC' }, userCount: 400, testUser: { sipAddress: 'sip:lyncdr.test.sepool3@contoso.com', credential: 'lyncdr-test-sepool3' }, frontEnds: [{ fqdn: 'sepool3.contoso.com' }] }],
  });
  if (!lone.ok) throw new Error(JSON.stringify(lone.problems));
  withLonePool = lone.topology;
});

let n = 0;
function sim(extra: Partial<ConstructorParameters<typeof Simulator>[0]> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-sim-'));
  return { dir, sim: new Simulator({ dir, timeFactor: 0.0001, topology: sample, ...extra }) };
}
function run(s: Simulator, name: string, params: Record<string, unknown>, opts: { whatIf?: boolean; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ExecutionResult> {
  return s.execute({ name, params }, { commandId: `c${++n}`, timeoutMs: opts.timeoutMs ?? 10_000, whatIf: opts.whatIf ?? false, signal: opts.signal });
}
function expectFailed(r: ExecutionResult, re: RegExp, kind: ExecutionResult['errorKind'] = 'precondition') {
  expect(r.status).toBe('failed');
  expect(r.stderr).toMatch(re);
  expect(r.errorKind).toBe(kind);
}
async function logNames(s: Simulator): Promise<string[]> {
  return (await s.state()).pchatSql!.backupShare.files.map((f) => f.name);
}

describe('simulated estate: preconditions', () => {
  it('pool failover: succeeds once, then refuses "already failed over"; a pool without a backup pool is refused', async () => {
    const { sim: s } = sim({ topology: withLonePool });
    const ok = await run(s, 'pool.failover', { poolFqdn: 'eepool2.contoso.com' });
    expect(ok.status).toBe('succeeded');
    expect(ok.errorKind).toBeUndefined();
    expect(ok.output).toEqual([]);
    expect(ok.rendered).toMatch(/^Invoke-CsPoolFailover -PoolFqdn 'eepool2.contoso.com' -DisasterMode -Confirm:\$false$/);
    expectFailed(await run(s, 'pool.failover', { poolFqdn: 'eepool2.contoso.com' }), /already failed over/);
    expectFailed(await run(s, 'pool.failover', { poolFqdn: 'sepool3.contoso.com' }), /does not have a backup pool/);
    expect((await s.state()).pools['eepool2.contoso.com'].failedOver).toBe(true);
    expect((await s.snapshot()).pools['eepool2.contoso.com'].usersServedBy).toBe('eepool1.contoso.com');
  });

  it('pool failback refuses a pool that is not failed over', async () => {
    const { sim: s } = sim();
    expectFailed(await run(s, 'pool.failback', { poolFqdn: 'eepool1.contoso.com' }), /is not failed over/);
  });

  it('topology changes fail while the CMS is unreachable, and work after the CMS failover to the backup pool store', async () => {
    const { sim: s } = sim();
    await s.disaster('east');
    expectFailed(await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' }), /Central Management Store .* unreachable/);
    expectFailed(await run(s, 'edge.setNextHop', { edgePoolFqdn: 'edgepool1.contoso.com', nextHopPoolFqdn: 'eepool2.contoso.com' }), /Central Management Store/);
    expectFailed(await run(s, 'cms.failover', { backupSqlServerFqdn: 'wesql1.contoso.com', backupSqlInstanceName: 'RTC' }), /not the back-end store/);
    const cms = await run(s, 'cms.failover', { backupSqlServerFqdn: 'eepool2-sql.contoso.com', backupSqlInstanceName: 'RTC' });
    expect(cms.status).toBe('succeeded');
    expect((await s.state()).cms).toEqual({ pool: 'eepool2.contoso.com', sqlServer: 'eepool2-sql.contoso.com', sqlInstance: 'RTC' });
    // Seed 004: the Edge next hop leaves the failed pool before its users do (issue 12 §1).
    expectFailed(await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' }), /edgepool1\.contoso\.com still use "eepool1\.contoso\.com" as next hop/);
    expect((await run(s, 'edge.setNextHop', { edgePoolFqdn: 'edgepool1.contoso.com', nextHopPoolFqdn: 'eepool2.contoso.com' })).status).toBe('succeeded');
    expect((await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' })).status).toBe('succeeded');
    // The failed pool is down: a failback of it is refused.
    expectFailed(await run(s, 'pool.failback', { poolFqdn: 'eepool1.contoso.com' }), /not available/);
  });

  it('pChat FailedOver is refused while mgc is RESTORING, and accepted after recovery', async () => {
    const { sim: s } = sim();
    expectFailed(await run(s, 'pchat.setState', { identity: PCHAT, poolState: 'FailedOver' }), /RESTORING/);
    expect((await run(s, 'sql.recoverDatabase', { sqlServerFqdn: SEC, ...INST })).status).toBe('succeeded');
    expect((await run(s, 'pchat.setState', { identity: PCHAT, poolState: 'FailedOver' })).status).toBe('succeeded');
    expect((await run(s, 'pchat.getState', { identity: PCHAT })).output).toEqual([{ Identity: PCHAT, PoolState: 'FailedOver' }]);
  });

  it('SQL against the wrong instance fails like a connection error', async () => {
    const { sim: s } = sim();
    expectFailed(await run(s, 'sql.logShippingMonitor', { sqlServerFqdn: SEC }), /network-related/);
  });

  it('RESTORE LOG out of sequence fails; in sequence works; after recovery it fails', async () => {
    const { sim: s } = sim();
    const trn = await logNames(s); // 0-4 restored, 5 copied, 6-7 only on the share
    expect(trn).toHaveLength(8);
    expectFailed(await run(s, 'sql.restoreLog', { sqlServerFqdn: SEC, ...INST, folder: COPY, file: trn[6] }), /Cannot open backup device/);
    expect((await run(s, 'file.copyLogBackups', { backupShare: SHARE, copyFolder: COPY, files: [trn[6], trn[7]] })).status).toBe('succeeded');
    expectFailed(await run(s, 'sql.restoreLog', { sqlServerFqdn: SEC, ...INST, folder: COPY, file: trn[6] }), /Msg 4305.*too recent/);
    expectFailed(await run(s, 'sql.restoreLog', { sqlServerFqdn: SEC, ...INST, folder: COPY, file: trn[4] }), /Msg 4326.*too early/);
    for (const f of trn.slice(5)) expect((await run(s, 'sql.restoreLog', { sqlServerFqdn: SEC, ...INST, folder: COPY, file: f })).status).toBe('succeeded');
    const last = await run(s, 'sql.lastRestoredBackup', { sqlServerFqdn: SEC, ...INST });
    expect(last.output).toMatchObject({ recordsets: [[{ restore_type: 'L', physical_device_name: `${COPY}\\${trn[7]}` }]] });
    expect((await run(s, 'sql.recoverDatabase', { sqlServerFqdn: SEC, ...INST })).status).toBe('succeeded');
    expectFailed(await run(s, 'sql.restoreLog', { sqlServerFqdn: SEC, ...INST, folder: COPY, file: trn[7] }), /Msg 4306/);
    expectFailed(await run(s, 'sql.recoverDatabase', { sqlServerFqdn: SEC, ...INST }), /already online/);
  });

  it("RESTORE LOG without NORECOVERY takes SQL Server's default, WITH RECOVERY: the next log cannot be applied", async () => {
    const { sim: s } = sim();
    const st = await s.state();
    const trn = st.pchatSql!.backupShare.files.map((f) => f.name);
    const now = new Date();
    applySpec(st, { kind: 'file', operation: 'copy', sourceFolder: SHARE, destinationFolder: COPY, files: [trn[6], trn[7]], overwrite: true }, now);
    const restore = (file: string) => sqlRestoreLog.build(sqlRestoreLog.params.parse({ sqlServerFqdn: SEC, ...INST, folder: COPY, file })) as SqlSpec;
    const bare = (file: string) => ({ ...restore(file), statement: restore(file).statement.replace(/ WITH NORECOVERY/, '') });
    applySpec(st, bare(trn[5]), now);
    expect(st.pchatSql!.secondary).toMatchObject({ mgc: 'ONLINE', recovered: true, lastRestoredSeq: 6 });
    expect(() => applySpec(st, restore(trn[6]), now)).toThrow(/Msg 4306: The preceding restore operation did not specify WITH NORECOVERY/);
    // WITH STANDBY also leaves the chain open (read-only between restores).
    // A second estate, with its own file names: they carry the second it was built in.
    const fresh = await sim().sim.state();
    const its = fresh.pchatSql!.backupShare.files.map((f) => f.name)[5];
    applySpec(fresh, { ...restore(its), statement: restore(its).statement.replace('NORECOVERY', "STANDBY = N'D:\\undo.tuf'") }, now);
    expect(fresh.pchatSql!.secondary.recovered).toBe(false);
  });

  it('every RESTORE LOG the catalog renders says WITH NORECOVERY (SQL would otherwise recover the database)', () => {
    const logRestores = Object.values(catalog).filter((c) => c.kind === 'sql').map((c) => c.build(c.params.parse(c.example)) as SqlSpec).filter((spec) => /\bRESTORE LOG\b/i.test(spec.statement));
    expect(logRestores.length).toBeGreaterThan(0);
    for (const spec of logRestores) expect(spec.statement).toMatch(/\bWITH NORECOVERY\b/);
  });

  it('the log-shipping monitor gives the pChat RPO; sp_delete_log_shipping_secondary_database erases it', async () => {
    const { sim: s } = sim();
    const trn = await logNames(s);
    const before = await run(s, 'sql.logShippingMonitor', { sqlServerFqdn: SEC, ...INST });
    const rows = (before.output as { recordsets: Array<Array<Record<string, unknown>>> }).recordsets[0];
    expect(rows).toEqual([expect.objectContaining({
      secondary_server: `${SEC}\\PCHAT`, primary_server: `${PRI}\\PCHAT`, secondary_database: 'mgc',
      last_restored_file: `${COPY}\\${trn[4]}`, last_copied_file: `${COPY}\\${trn[5]}`, last_restored_date_utc: expect.any(String),
    })]);
    const ageMin = (Date.now() - Date.parse(String(rows[0].last_restored_date_utc))) / 60_000;
    expect(ageMin).toBeGreaterThan(5);
    expect(ageMin).toBeLessThan(30);
    expect((await run(s, 'sql.deleteLogShippingSecondary', { sqlServerFqdn: SEC, ...INST })).status).toBe('succeeded');
    expect((await run(s, 'sql.logShippingMonitor', { sqlServerFqdn: SEC, ...INST })).output).toEqual({ recordsets: [[]], rowsAffected: [0] });
    expectFailed(await run(s, 'sql.deleteLogShippingSecondary', { sqlServerFqdn: SEC, ...INST }), /does not exist as a log-shipping secondary/);
  });

  it('active servers: more than 4 or servers of another pool are refused; $null clears', async () => {
    const { sim: s } = sim();
    expectFailed(await run(s, 'pchat.addActiveServers', { identity: 'global', servers: ['pchatserver5.contoso.com'] }), /At most 4/);
    expectFailed(await run(s, 'pchat.addActiveServers', { identity: 'global', servers: ['fe1a.contoso.com'] }), /not members/);
    expect((await run(s, 'pchat.clearActiveServers', { identity: 'global' })).status).toBe('succeeded');
    expect((await s.state()).pchat!.activeServers).toEqual([]);
    const add = await run(s, 'pchat.addActiveServers', { identity: 'global', servers: ['pchatserver1.contoso.com', 'pchatserver2.contoso.com'] });
    expect(add.status).toBe('succeeded');
    expect((await s.state()).pchat!.activeServers).toEqual(['pchatserver1.contoso.com', 'pchatserver2.contoso.com']);
    const services = await run(s, 'pchat.getServices', { poolFqdn: 'pchatpool1.contoso.com' });
    expect(services.output).toEqual([expect.objectContaining({ Identity: PCHAT, ActiveServerCollectionIdentity: 'global', ActiveServers: ['pchatserver1.contoso.com', 'pchatserver2.contoso.com'] })]);
  });

  it('SQL on a server in a site that is down fails like a network error', async () => {
    const { sim: s } = sim();
    await s.disaster('east');
    expectFailed(await run(s, 'sql.backupDatabase', { sqlServerFqdn: PRI, ...INST, folder: SHARE, file: 'mgc_failback.bak' }), /network-related/);
  });

  it('what-if checks preconditions and changes nothing; a command without -WhatIf is skipped', async () => {
    const { sim: s } = sim({ topology: withLonePool });
    const w = await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' }, { whatIf: true });
    expect(w.status).toBe('succeeded');
    expect(w.output).toMatchObject({ WhatIf: true });
    expect((await s.state()).pools['eepool1.contoso.com'].failedOver).toBe(false);
    expectFailed(await run(s, 'pool.failover', { poolFqdn: 'sepool3.contoso.com' }, { whatIf: true }), /backup pool/);
    const skipped = await run(s, 'sql.recoverDatabase', { sqlServerFqdn: SEC, ...INST }, { whatIf: true });
    expect(skipped.skipped).toBe(true);
    expect((await s.state()).pchatSql!.secondary.mgc).toBe('RESTORING');
  });

  it('an invalid invocation is refused without touching the estate', async () => {
    const { sim: s } = sim();
    const r = await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com; Remove-Item C:\\' });
    expect(r.status).toBe('failed');
    expect(r.exitCode).toBeNull();
    expect((await s.state()).executions).toEqual([]);
  });
});

describe('simulator: faults, time, persistence', () => {
  it('fail: the next N executions fail, then the command works again', async () => {
    const { sim: s } = sim();
    await s.faults.add({ command: 'pool.get', kind: 'fail', remaining: 2 });
    expectFailed(await run(s, 'pool.get', { poolFqdn: 'eepool1.contoso.com' }), /Injected fault/, 'execution');
    expectFailed(await run(s, 'pool.get', { poolFqdn: 'eepool1.contoso.com' }), /Injected fault/, 'execution');
    expect((await run(s, 'pool.get', { poolFqdn: 'eepool1.contoso.com' })).status).toBe('succeeded');
  });

  it('hang: the command runs until its timeout and reports timeout without taking effect', async () => {
    const { sim: s } = sim();
    await s.faults.add({ command: 'Invoke-CsPoolFailover', kind: 'hang', remaining: 1 });
    const t0 = Date.now();
    const r = await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' }, { timeoutMs: 300 });
    expect(r.status).toBe('timeout');
    expect(r.errorKind).toBe('timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    const st = await s.state();
    expect(st.pools['eepool1.contoso.com'].failedOver).toBe(false);
    expect(st.executions.at(-1)).toMatchObject({ name: 'pool.failover', outcome: 'failed' });
  });

  it('slow: takes factor times the scaled duration', async () => {
    const { sim: s } = sim({ timeFactor: 0.0005 }); // failover 8 min -> 240 ms
    const t0 = Date.now();
    await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' });
    const normal = Date.now() - t0;
    await s.faults.add({ command: 'pool.failback', kind: 'slow', remaining: 1, factor: 4 }); // 10 min -> 300 ms x4
    const t1 = Date.now();
    expect((await run(s, 'pool.failback', { poolFqdn: 'eepool1.contoso.com' })).status).toBe('succeeded');
    const slow = Date.now() - t1;
    expect(normal).toBeGreaterThanOrEqual(230);
    expect(slow).toBeGreaterThanOrEqual(1150);
  });

  it('crash: kills the process mid-command (hook replaced here) with the execution logged as running', async () => {
    let crashed = false;
    const { sim: s } = sim({ crash: () => { crashed = true; } });
    await s.faults.add({ command: '*', kind: 'crash', remaining: 1 });
    void run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' });
    await expect.poll(() => crashed, { timeout: 2000 }).toBe(true);
    const st = await s.state();
    expect(st.executions).toEqual([expect.objectContaining({ name: 'pool.failover', outcome: 'running' })]);
    expect(st.pools['eepool1.contoso.com'].failedOver).toBe(false);
  });

  it('state persists across simulator instances (worker restarts); reset rebuilds the estate from the topology', async () => {
    const { dir, sim: s } = sim();
    const fresh = await s.snapshot();
    await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' });
    await s.disaster('eepool2.contoso.com');
    // No topology given: the state file is the estate; the topology is needed only to build a new one.
    const again = new Simulator({ dir, timeFactor: 0.0001 });
    const st = await again.state();
    expect(st.pools['eepool1.contoso.com'].failedOver).toBe(true);
    expect(st.pools['eepool2.contoso.com'].up).toBe(false);
    expect(st.executions.map((e) => e.outcome)).toEqual(['succeeded']);
    await again.reset();
    expect((await s.state()).pools['eepool1.contoso.com'].failedOver).toBe(false);
    expect(await s.snapshot()).toEqual(fresh);
  });

  it('probes report the estate as the worker sees it', async () => {
    const { sim: s } = sim();
    await s.disaster('east');
    const probes = await s.probes();
    expect(probes).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'site:east', ok: false }),
      expect.objectContaining({ name: 'cms', ok: false }),
      expect.objectContaining({ name: 'pool:eepool2.contoso.com', ok: true }),
    ]));
  });
});
