import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Simulator } from '../../worker/simulator/simulator.js';
import type { ExecutionResult } from '../../worker/executors/types.js';

const SEC = 'wepchatsql.contoso.com';
const PRI = 'eepchatsql.contoso.com';
const PCHAT = 'PersistentChatServer:pchatpool1.contoso.com';
const COPY = 'D:\\LogShipping\\mgc';
const SHARE = '\\\\dfs.contoso.com\\pchatlogship';
const trn = (seq: number) => `mgc_${20261121000000 + seq * 500}.trn`;

let n = 0;
function sim(extra: Partial<ConstructorParameters<typeof Simulator>[0]> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-sim-'));
  return { dir, sim: new Simulator({ dir, timeFactor: 0.0001, ...extra }) };
}
function run(s: Simulator, name: string, params: Record<string, unknown>, opts: { whatIf?: boolean; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ExecutionResult> {
  return s.execute({ name, params }, { commandId: `c${++n}`, timeoutMs: opts.timeoutMs ?? 10_000, whatIf: opts.whatIf ?? false, signal: opts.signal });
}
function expectFailed(r: ExecutionResult, re: RegExp) {
  expect(r.status).toBe('failed');
  expect(r.stderr).toMatch(re);
}

describe('simulated estate: preconditions', () => {
  it('pool failover: succeeds once, then refuses "already failed over"; a pool without a backup pool is refused', async () => {
    const { sim: s } = sim();
    const ok = await run(s, 'pool.failover', { poolFqdn: 'eepool2.contoso.com' });
    expect(ok.status).toBe('succeeded');
    expect(ok.output).toMatchObject({ PoolFqdn: 'eepool2.contoso.com', BackupPoolFqdn: 'eepool1.contoso.com', FailoverStatus: 'FailedOver' });
    expect(ok.rendered).toMatch(/^Invoke-CsPoolFailover -PoolFqdn 'eepool2.contoso.com' -DisasterMode -Confirm:\$false$/);
    expectFailed(await run(s, 'pool.failover', { poolFqdn: 'eepool2.contoso.com' }), /already failed over/);
    expectFailed(await run(s, 'pool.failover', { poolFqdn: 'sepool3.contoso.com' }), /does not have a backup pool/);
    expect((await s.state()).pools['eepool2.contoso.com'].failedOver).toBe(true);
  });

  it('pool failback refuses a pool that is not failed over', async () => {
    const { sim: s } = sim();
    expectFailed(await run(s, 'pool.failback', { poolFqdn: 'eepool1.contoso.com' }), /is not failed over/);
  });

  it('topology changes fail while the CMS is unreachable, and work after the CMS failover', async () => {
    const { sim: s } = sim();
    await s.disaster('east');
    expectFailed(await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' }), /Central Management Store .* unreachable/);
    expectFailed(await run(s, 'edge.setNextHop', { edgePoolFqdn: 'edge2.contoso.com', nextHopPoolFqdn: 'eepool2.contoso.com' }), /Central Management Store/);
    const cms = await run(s, 'cms.failover', { backupSqlServerFqdn: 'wesql1.contoso.com', backupSqlInstanceName: 'RTC' });
    expect(cms.status).toBe('succeeded');
    expect((await s.state()).cms.pool).toBe('eepool2.contoso.com');
    expect((await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' })).status).toBe('succeeded');
    expect((await run(s, 'edge.setNextHop', { edgePoolFqdn: 'edge2.contoso.com', nextHopPoolFqdn: 'eepool2.contoso.com' })).status).toBe('succeeded');
    // The failed pool is down: a planned (non-disaster) failback of it is refused.
    expectFailed(await run(s, 'pool.failback', { poolFqdn: 'eepool1.contoso.com' }), /not available/);
  });

  it('pChat FailedOver is refused while mgc is RESTORING, and accepted after recovery', async () => {
    const { sim: s } = sim();
    expectFailed(await run(s, 'pchat.setState', { identity: PCHAT, poolState: 'FailedOver' }), /RESTORING/);
    expect((await run(s, 'sql.recoverDatabase', { sqlServerFqdn: SEC })).status).toBe('succeeded');
    expect((await run(s, 'pchat.setState', { identity: PCHAT, poolState: 'FailedOver' })).status).toBe('succeeded');
    expect((await run(s, 'pchat.getState', { identity: PCHAT })).output).toEqual({ Identity: PCHAT, PoolState: 'FailedOver' });
  });

  it('RESTORE LOG out of sequence fails; in sequence works; after recovery it fails', async () => {
    const { sim: s } = sim();
    // Seq 5 is restored, 6 is copied, 7 is only on the share.
    expectFailed(await run(s, 'sql.restoreLog', { sqlServerFqdn: SEC, folder: COPY, file: trn(7) }), /Cannot open backup device|too recent/);
    expect((await run(s, 'file.copyLogBackups', { backupShare: SHARE, copyFolder: COPY, files: [trn(7)] })).status).toBe('succeeded');
    expectFailed(await run(s, 'sql.restoreLog', { sqlServerFqdn: SEC, folder: COPY, file: trn(7) }), /Msg 4305.*too recent/);
    expectFailed(await run(s, 'sql.restoreLog', { sqlServerFqdn: SEC, folder: COPY, file: trn(5) }), /Msg 4326.*too early/);
    expect((await run(s, 'sql.restoreLog', { sqlServerFqdn: SEC, folder: COPY, file: trn(6) })).status).toBe('succeeded');
    expect((await run(s, 'sql.restoreLog', { sqlServerFqdn: SEC, folder: COPY, file: trn(7) })).status).toBe('succeeded');
    expect((await run(s, 'sql.recoverDatabase', { sqlServerFqdn: SEC })).status).toBe('succeeded');
    expectFailed(await run(s, 'sql.restoreLog', { sqlServerFqdn: SEC, folder: COPY, file: trn(7) }), /Msg 3117/);
    expectFailed(await run(s, 'sql.recoverDatabase', { sqlServerFqdn: SEC }), /already online/);
  });

  it('sp_delete_log_shipping_secondary_database erases the monitor history', async () => {
    const { sim: s } = sim();
    const before = await run(s, 'sql.logShippingMonitor', { sqlServerFqdn: SEC });
    expect(before.output).toEqual([expect.objectContaining({ last_restored_file: `${COPY}\\${trn(5)}`, last_copied_file: `${COPY}\\${trn(6)}` })]);
    expect((await run(s, 'sql.deleteLogShippingSecondary', { sqlServerFqdn: SEC })).status).toBe('succeeded');
    expect((await run(s, 'sql.logShippingMonitor', { sqlServerFqdn: SEC })).output).toEqual([]);
    expectFailed(await run(s, 'sql.deleteLogShippingSecondary', { sqlServerFqdn: SEC }), /does not exist as a log-shipping secondary/);
  });

  it('active servers: more than 4 or servers of another pool are refused; $null clears', async () => {
    const { sim: s } = sim();
    expectFailed(await run(s, 'pchat.addActiveServers', { identity: 'global', servers: ['pchatserver5.contoso.com'] }), /At most 4/);
    expectFailed(await run(s, 'pchat.addActiveServers', { identity: 'global', servers: ['eefe1.contoso.com'] }), /not members/);
    expect((await run(s, 'pchat.clearActiveServers', { identity: 'global' })).status).toBe('succeeded');
    expect((await s.state()).pchat.activeServers).toEqual([]);
    const add = await run(s, 'pchat.addActiveServers', { identity: 'global', servers: ['pchatserver5.contoso.com', 'pchatserver6.contoso.com'] });
    expect(add.status).toBe('succeeded');
    expect((await s.state()).pchat.activeServers).toEqual(['pchatserver5.contoso.com', 'pchatserver6.contoso.com']);
  });

  it('SQL on a server in a site that is down fails like a network error', async () => {
    const { sim: s } = sim();
    await s.disaster('east');
    expectFailed(await run(s, 'sql.backupDatabase', { sqlServerFqdn: PRI, folder: SHARE, file: 'mgc_failback.bak' }), /network-related/);
  });

  it('what-if checks preconditions and changes nothing; a command without -WhatIf is skipped', async () => {
    const { sim: s } = sim();
    const w = await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' }, { whatIf: true });
    expect(w.status).toBe('succeeded');
    expect(w.output).toMatchObject({ WhatIf: true });
    expect((await s.state()).pools['eepool1.contoso.com'].failedOver).toBe(false);
    expectFailed(await run(s, 'pool.failover', { poolFqdn: 'sepool3.contoso.com' }, { whatIf: true }), /backup pool/);
    const skipped = await run(s, 'sql.recoverDatabase', { sqlServerFqdn: SEC }, { whatIf: true });
    expect(skipped.skipped).toBe(true);
    expect((await s.state()).pchatSql.secondary.mgc).toBe('RESTORING');
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
    expectFailed(await run(s, 'pool.get', { poolFqdn: 'eepool1.contoso.com' }), /Injected fault/);
    expectFailed(await run(s, 'pool.get', { poolFqdn: 'eepool1.contoso.com' }), /Injected fault/);
    expect((await run(s, 'pool.get', { poolFqdn: 'eepool1.contoso.com' })).status).toBe('succeeded');
  });

  it('hang: the command runs until its timeout and reports timeout without taking effect', async () => {
    const { sim: s } = sim();
    await s.faults.add({ command: 'Invoke-CsPoolFailover', kind: 'hang', remaining: 1 });
    const t0 = Date.now();
    const r = await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' }, { timeoutMs: 300 });
    expect(r.status).toBe('timeout');
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

  it('state persists across simulator instances (worker restarts); reset restores the default estate', async () => {
    const { dir, sim: s } = sim();
    await run(s, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' });
    await s.disaster('eepool2.contoso.com');
    const again = new Simulator({ dir, timeFactor: 0.0001 });
    const st = await again.state();
    expect(st.pools['eepool1.contoso.com'].failedOver).toBe(true);
    expect(st.pools['eepool2.contoso.com'].up).toBe(false);
    expect(st.executions.map((e) => e.outcome)).toEqual(['succeeded']);
    await again.reset();
    expect((await s.state()).pools['eepool1.contoso.com'].failedOver).toBe(false);
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
