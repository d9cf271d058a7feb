// The orderings RUNBOOKS.md states, checked on the DAG rather than on step order in the array:
// the executor runs by dependencies, so only dependencies guarantee them.
import { describe, expect, it } from 'vitest';
import { buildPlan, PlanBuildError } from '../../orchestrations/runbooks/index.js';
import { criticalPath, forecastRto, topologicalLevels, validatePlan } from '../../shared/plan/index.js';
import { byCommand, commandSteps, estate, rawEstate, runsAfter, step } from './helpers.js';
import { parseTopology } from '../../shared/topology/index.js';
import { CMS_MOVES, CMS_WRITERS } from '../../shared/commands/cms-writers.js';

const sample = estate('estate.sample.yaml');

describe('site-failover', () => {
  const plan = buildPlan('site-failover', sample, { failedSite: 'East' });

  it('reads the log-shipping monitor before sp_delete_log_shipping_secondary_database', () => {
    const [del] = byCommand(plan, 'sql.deleteLogShippingSecondary');
    const [mon] = byCommand(plan, 'sql.logShippingMonitor');
    expect(mon.records).toBe('pchat.logShippingMonitor');
    expect(runsAfter(plan, del.id, mon.id)).toBe(true);
  });

  it('finds the log tail after log shipping is removed, restores the list it recorded, and guards RECOVERY with a read', () => {
    const [list, guard] = byCommand(plan, 'sql.listUnappliedLogs');
    const [restore] = byCommand(plan, 'sql.restoreRecordedLogs');
    const [recover] = byCommand(plan, 'sql.recoverDatabase');
    expect(list).toMatchObject({ id: 'pchat-list-unapplied-logs', records: 'pchat.unappliedLogs', command: { params: { copyFolder: 'D:\\LogShipping\\mgc' } } });
    // The share's file server is in East (backupShareSite), lost with it: only the copy folder is read.
    expect(sample.persistentChat!.sql.backupShareSite).toBe('East');
    expect(list.command.params).not.toHaveProperty('backupShare');
    expect(list.title).toMatch(/is in the failed site: files only there are lost/);
    // A pChat pool failover loses the pool, not the site: its file server still answers.
    const [poolList] = byCommand(buildPlan('pchat-pool-failover', sample, { failedSite: 'East' }), 'sql.listUnappliedLogs');
    expect(poolList.command.params).toMatchObject({ backupShare: sample.persistentChat!.sql.backupShare });
    expect(restore).toMatchObject({ records: 'pchat.logTailRestored', command: { params: { recorded: 'pchat.unappliedLogs' } } });
    expect(guard.id).toBe('pchat-check-log-tail');
    expect(guard.verification!.expect).toContainEqual(expect.objectContaining({ path: 'Count', op: 'equals', value: 0 }));
    expect(runsAfter(plan, list.id, byCommand(plan, 'sql.deleteLogShippingSecondary')[0].id)).toBe(true);
    expect(runsAfter(plan, restore.id, list.id)).toBe(true);
    expect(runsAfter(plan, guard.id, restore.id)).toBe(true);
    expect(runsAfter(plan, recover.id, guard.id)).toBe(true);
    expect(recover.rendered).toBe('RESTORE DATABASE [mgc] WITH RECOVERY;');
    // No file name travels in the plan: the worker kept the list it read.
    expect(byCommand(plan, 'sql.restoreLog')).toEqual([]);
    expect(JSON.stringify(plan)).not.toMatch(/mgc_\d+\.trn/);
  });

  it('sets FailedOver only after recovery and after the pool failover, then the surviving actives', () => {
    const state = byCommand(plan, 'pchat.setState')[0];
    expect(state.rendered).toContain("-PoolState 'FailedOver'");
    expect(runsAfter(plan, state.id, 'pchat-recover-mgc')).toBe(true);
    expect(runsAfter(plan, state.id, 'pool-failover-eepool1')).toBe(true);
    const add = byCommand(plan, 'pchat.addActiveServers')[0];
    expect(add.command.params.servers).toEqual(['pchatserver5.contoso.com', 'pchatserver6.contoso.com', 'pchatserver7.contoso.com', 'pchatserver8.contoso.com']);
    expect(runsAfter(plan, add.id, state.id)).toBe(true);
    expect(runsAfter(plan, add.id, 'read-pchat-active-servers')).toBe(true);
    expect(step(plan, 'read-pchat-active-servers')).toMatchObject({ records: 'preFailover.activeServers' });
  });

  it('fails the CMS over before the pool and the Edge next hop, with -Force', () => {
    const cms = step(plan, 'cms-failover');
    expect(cms.kind === 'command' && cms.rendered).toContain('-Force');
    expect(runsAfter(plan, 'pool-failover-eepool1', 'cms-failover')).toBe(true);
    expect(runsAfter(plan, 'edge-next-hop-edgepool1', 'cms-failover')).toBe(true);
    expect(byCommand(plan, 'pool.failover')[0].rendered).toBe("Invoke-CsPoolFailover -PoolFqdn 'eepool1.contoso.com' -DisasterMode -Confirm:$false");
  });

  it('runs the FE and the pChat SQL branches in parallel: the critical path is shorter than the serial sum', () => {
    const fe = 'pool-failover-eepool1';
    const sql = 'pchat-recover-mgc';
    expect(runsAfter(plan, fe, sql) || runsAfter(plan, sql, fe)).toBe(false);
    const levels = topologicalLevels(plan);
    expect(levels.some((l) => l.includes('cms-failover') && l.includes('pchat-remove-log-shipping'))).toBe(true);
    const rto = forecastRto(plan);
    expect(rto.criticalPathMs).toBeLessThan(rto.serialSumMs);
    expect(rto.criticalPath[0]).not.toBe('declare-disaster');
    expect(rto.pchatReconnectMs).toBe(6_000_000); // 60,000 users at 10 per second
    expect(rto.totalMs).toBe(rto.criticalPathMs + rto.pchatReconnectMs);
    expect(rto.withinTarget).toBe(false);
  });

  it('with two pools in the lost site (examples/estate.two-pools.yaml) both fail over at once, after the CMS, and pChat waits for both', () => {
    const p = buildPlan('site-failover', estate('estate.two-pools.yaml'), { failedSite: 'East' });
    const failovers = byCommand(p, 'pool.failover').map((s) => s.id).sort();
    expect(failovers).toEqual(['pool-failover-eepool1', 'pool-failover-eepool3']);
    expect(runsAfter(p, failovers[0], failovers[1]) || runsAfter(p, failovers[1], failovers[0])).toBe(false);
    for (const fo of failovers) {
      expect(runsAfter(p, fo, 'cms-failover')).toBe(true);
      expect(runsAfter(p, 'pchat-set-failed-over', fo)).toBe(true);
    }
    // Not one level any more: eepool1's failover also waits for its Edge pool's next hop (seed 004).
    expect(runsAfter(p, 'pool-failover-eepool1', 'edge-next-hop-edgepool1')).toBe(true);
    const rto = forecastRto(p);
    expect(rto.serialSumMs).toBeGreaterThan(1.5 * rto.criticalPathMs);
  });

  it('applying the log backups is no manual step any more, and logBackups is no option', () => {
    const p = buildPlan('site-failover', sample, { failedSite: 'east' });
    expect(p.steps.filter((s) => s.kind === 'manual').map((s) => s.id)).not.toContain('pchat-apply-log-backups');
    expect(() => buildPlan('site-failover', sample, { failedSite: 'East', logBackups: ['mgc_1.trn'] })).toThrow(/unknown option\(s\) logBackups/);
    expect(() => buildPlan('pchat-pool-failover', sample, { logBackups: ['mgc_1.trn'] })).toThrow(/unknown option\(s\) logBackups/);
  });

  it('mirrors the new primary only when asked', () => {
    expect(byCommand(plan, 'pchat.installMirror')).toEqual([]);
    const p = buildPlan('site-failover', sample, { failedSite: 'East', installMirror: true });
    expect(runsAfter(p, 'pchat-install-mirror', 'pchat-set-active-servers')).toBe(true);
  });
});

describe('fe-pool-failover', () => {
  it('fails the CMS over first only when it is on the failed pool', () => {
    const p1 = buildPlan('fe-pool-failover', sample, { pool: 'eepool1.contoso.com' });
    expect(runsAfter(p1, 'pool-failover-eepool1', 'cms-failover')).toBe(true);
    expect(p1.locks).toEqual(['pool:eepool1.contoso.com', 'pool:eepool2.contoso.com', 'cms']);
    const p2 = buildPlan('fe-pool-failover', sample, { pool: 'eepool2.contoso.com' });
    expect(byCommand(p2, 'cms.failover')).toEqual([]);
    expect(byCommand(p2, 'pool.failover')[0].site).toBe('east');
  });

  it('moves only the simple URLs, records them first, and targets Lync 2013 (30/30)', () => {
    const p = buildPlan('fe-pool-failover', sample, { pool: 'eepool1.contoso.com' });
    expect(byCommand(p, 'dns.addA').map((s) => s.command.params.name)).toEqual(['meet', 'dialin', 'admin']);
    expect(runsAfter(p, 'dns-meet-add', 'read-dns-meet')).toBe(true);
    expect(p.targets).toMatchObject({ rtoMinutes: 30, rpoMinutes: 30 });
    const sfb = parseTopology({ ...rawEstate('estate.sample.yaml'), version: 'sfb2015' });
    if (!sfb.ok) throw new Error('sfb estate');
    expect(buildPlan('fe-pool-failover', sfb.topology, { pool: 'eepool1.contoso.com' }).targets).toMatchObject({ rtoMinutes: 20, rpoMinutes: 5 });
  });
});

describe('failbacks restore what the failover recorded', () => {
  it('uses recorded values, else the configured ones', () => {
    const configured = buildPlan('site-failback', sample, { failedSite: 'East' });
    expect(byCommand(configured, 'pchat.addActiveServers')[0].command.params.servers).toEqual(['pchatserver1.contoso.com', 'pchatserver2.contoso.com', 'pchatserver3.contoso.com', 'pchatserver4.contoso.com']);
    // The backup mgc was not mirrored: only the primary's mirroring ends (a mirrored database
    // refuses RESTORE), before the restore, and is installed again once the primary serves.
    expect(byCommand(configured, 'sql.removeMirroring').map((s) => s.id)).toEqual(['pchat-remove-primary-mirroring']);
    expect(runsAfter(configured, 'pchat-restore-primary-mgc', 'pchat-remove-primary-mirroring')).toBe(true);
    expect(runsAfter(configured, 'pchat-reinstall-primary-mirror', 'pchat-set-normal')).toBe(true);
    const recorded = buildPlan('site-failback', sample, {
      failedSite: 'East',
      recorded: { activeServers: ['pchatserver2.contoso.com'], mirrorInstalled: true, dns: { meet: '10.1.0.99' }, edgeNextHops: { 'edgepool1.contoso.com': 'eepool2.contoso.com' } },
    });
    expect(byCommand(recorded, 'pchat.addActiveServers')[0].command.params.servers).toEqual(['pchatserver2.contoso.com']);
    expect(byCommand(recorded, 'dns.addA').find((s) => s.command.params.name === 'meet')?.command.params.ipv4Address).toBe('10.1.0.99');
    expect(byCommand(recorded, 'edge.setNextHop')[0].command.params.nextHopPoolFqdn).toBe('eepool2.contoso.com');
    expect(runsAfter(recorded, 'pchat-backup-mgc', 'pchat-remove-mirroring')).toBe(true);
  });

  it('empties the active list before copying mgc back and sets Normal after the restore', () => {
    const p = buildPlan('pchat-pool-failback', sample, {});
    expect(byCommand(p, 'pchat.clearActiveServers')[0].rendered).toContain('-ActiveServers $null');
    expect(runsAfter(p, 'pchat-backup-mgc', 'pchat-clear-active-servers')).toBe(true);
    expect(runsAfter(p, 'pchat-set-normal', 'pchat-restore-primary-mgc')).toBe(true);
    expect(runsAfter(p, 'pchat-set-active-servers', 'pchat-set-normal')).toBe(true);
    expect(step(p, 'pchat-recreate-log-shipping').kind).toBe('manual');
  });
});

describe('other runbooks', () => {
  it('readiness only reads and has no gate', () => {
    const p = buildPlan('readiness', sample, {});
    expect(p.steps.every((s) => s.kind === 'command' && s.effect === 'read-only')).toBe(true);
    expect(commandSteps(p).length).toBe(p.steps.length);
  });

  it('pchat-restore asks for a destructive-restore approval before importing, and saves the current data first', () => {
    const p = buildPlan('pchat-restore', sample, { file: '\\\\fs-west.contoso.com\\pchat-export\\pchat-2026-11-20.zip' });
    expect(step(p, 'approve-restore')).toMatchObject({ kind: 'approval', policy: 'destructive-restore' });
    expect(runsAfter(p, 'pchat-import', 'pchat-export-current')).toBe(true);
    const bak = buildPlan('pchat-restore', sample, { file: '\\\\fs-west.contoso.com\\pchat-export\\mgc.bak' });
    expect(runsAfter(bak, 'pchat-restore-mgc', 'pchat-clear-active-servers')).toBe(true);
    expect(validatePlan(bak).ok).toBe(true);
  });

  it('pchat-pool-failover waits for the maintenance window when given one', () => {
    const p = buildPlan('pchat-pool-failover', sample, { maintenanceWindowStart: '2026-11-22T02:00:00Z' });
    expect(p.maintenanceWindow?.startsAt).toBe('2026-11-22T02:00:00Z');
    expect(buildPlan('pchat-pool-failover', sample, {}).maintenanceWindow).toBeUndefined();
  });

  it('cms-failover of a lost CMS: the disaster set, and no backup sync (its pair is lost; the plan says so), against the 5/5 target', () => {
    const p = buildPlan('cms-failover', sample, { targetPool: 'eepool2.contoso.com' });
    expect(byCommand(p, 'cms.failover')[0].rendered).toMatch(/-BackupSqlServerFqdn .* -Force/);
    expect(byCommand(p, 'backup.sync')).toEqual([]);
    expect(step(p, 'declare-disaster').kind === 'approval' && (step(p, 'declare-disaster') as any).reason).toContain('No backup service sync is attempted: a sync needs both pools of the pair, and eepool1.contoso.com is lost');
    expect(step(p, 'verify-cms-status').title).toContain('then no backup service sync: eepool1.contoso.com is lost');
    expect(runsAfter(p, 'verify-cms-status', 'cms-failover')).toBe(true);
    expect(p.targets).toMatchObject({ rtoMinutes: 5, rpoMinutes: 5 });
  });

  it('a planned cms-failover: the Normal set (no -Force, no -BackupSqlServerFqdn) after replication is current, and both pools synced', () => {
    const p = buildPlan('cms-failover', sample, { targetPool: 'eepool2.contoso.com', planned: true });
    const [move] = byCommand(p, 'cms.move');
    expect(move.rendered).toBe('Invoke-CsManagementServerFailover -Confirm:$false');
    expect(byCommand(p, 'cms.failover')).toEqual([]);
    expect(runsAfter(p, move.id, 'verify-cms-replication')).toBe(true);
    expect(byCommand(p, 'backup.sync').map((s) => s.command.params.poolFqdn).sort()).toEqual(['eepool1.contoso.com', 'eepool2.contoso.com']);
  });

  it('site-failback moves the CMS back with the Normal set, after replication is current and after every step that writes to the CMS', () => {
    const p = buildPlan('site-failback', sample, { failedSite: 'East', moveCmsBack: true });
    const [move] = byCommand(p, 'cms.move');
    expect(move.id).toBe('cms-failback');
    expect(byCommand(p, 'cms.failover')).toEqual([]);
    expect(runsAfter(p, move.id, 'verify-cms-replication')).toBe(true);
    const writers = p.steps.filter((s) => s.kind === 'command' && CMS_WRITERS.has(s.command.name));
    expect(writers.length).toBeGreaterThan(2);
    for (const w of writers) expect(runsAfter(p, move.id, w.id), w.id).toBe(true);
  });

  it('no runbook runs a CMS move beside a step that writes to the CMS', () => {
    const plans = [
      buildPlan('site-failover', sample, { failedSite: 'East', installMirror: true }), buildPlan('fe-pool-failover', sample, { pool: 'eepool1.contoso.com' }),
      buildPlan('site-failback', sample, { failedSite: 'East', moveCmsBack: true }), buildPlan('cms-failover', sample, { targetPool: 'eepool2.contoso.com' }),
      buildPlan('cms-failover', sample, { targetPool: 'eepool2.contoso.com', planned: true }),
    ];
    for (const p of plans) {
      const cmds = p.steps.filter((s) => s.kind === 'command');
      for (const m of cmds.filter((s) => CMS_MOVES.has(s.command.name))) {
        for (const w of cmds.filter((s) => CMS_WRITERS.has(s.command.name))) expect(runsAfter(p, m.id, w.id) || runsAfter(p, w.id, m.id), `${p.runbook}: ${m.id} / ${w.id}`).toBe(true);
      }
    }
  });

  it('legacy-site-dr moves the listed users in ranges of 500, parallelMoves chains at a time, counts none left, then imports contacts', () => {
    const t = estate('estate.lync2010.yaml');
    const p = buildPlan('legacy-site-dr', t, { failedPool: 'pool1.contoso.com', exportDate: '2026-11-20' });
    const moves = byCommand(p, 'users.moveRecorded');
    // pool1's 5,000 users and its test user: eleven ranges of the pre-flight's list, and no identity in the plan.
    expect(moves.map((m) => [m.command.params.from, m.command.params.to])).toEqual(Array.from({ length: 11 }, (_, b) => [b * 500, (b + 1) * 500]));
    expect(moves.every((m) => m.command.params.recorded === step(p, 'read-users-to-move').records)).toBe(true);
    expect(byCommand(p, 'users.move')).toEqual([]);
    expect(moves.every((m) => m.rendered.includes('-Force'))).toBe(true);
    // The default bound, 2: two chains from the gate, each batch after the one two before it.
    expect(moves.filter((m) => m.dependsOn.includes('declare-disaster')).map((m) => m.id)).toEqual(['move-users-1', 'move-users-2']);
    expect(step(p, 'move-users-3').dependsOn).toEqual(['move-users-1']);
    expect(step(p, 'move-users-11').dependsOn).toEqual(['move-users-9']);
    expect(step(p, 'check-users-moved').dependsOn).toEqual(moves.map((m) => m.id));
    expect(runsAfter(p, 'restore-contacts', 'check-users-moved')).toBe(true);
    expect(byCommand(p, 'legacy.importContacts')[0].rendered).toContain('/import');
    const wider = estate('estate.lync2010.yaml');
    wider.legacyDr!.parallelMoves = 4;
    const p4 = buildPlan('legacy-site-dr', wider, { failedPool: 'pool1.contoso.com', exportDate: '2026-11-20' });
    expect(byCommand(p4, 'users.moveRecorded').filter((m) => m.dependsOn.includes('declare-disaster'))).toHaveLength(4);
  });

  it('legacy-site-dr takes no hand-passed user list', () => {
    const t = estate('estate.lync2010.yaml');
    expect(() => buildPlan('legacy-site-dr', t, { failedPool: 'pool1.contoso.com', exportDate: '2026-11-20', users: ['sip:a@contoso.com'] })).toThrow(/users/);
  });
});

describe('bad options and estates give clear errors', () => {
  const err = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(PlanBuildError);
      return (e as Error).message;
    }
    throw new Error('no error');
  };
  it('names the pools that exist for an unknown pool', () => {
    expect(err(() => buildPlan('fe-pool-failover', sample, { pool: 'nope.contoso.com' }))).toBe('pool: unknown Front End pool "nope.contoso.com"; the estate has eepool1.contoso.com, eepool2.contoso.com');
  });
  it('names the sites for an unknown site, and says which options a runbook takes', () => {
    expect(err(() => buildPlan('site-failover', sample, { failedSite: 'North' }))).toContain('unknown site "North"; the estate has East, West');
    expect(err(() => buildPlan('fe-pool-failover', sample, { pol: 'x' }))).toContain('option pool is required; unknown option(s) pol; fe-pool-failover takes pool');
    expect(err(() => buildPlan('nope', sample, {}))).toContain('unknown runbook "nope"');
    expect(err(() => buildPlan('pchat-backup', sample, { date: '21/11/2026' }))).toContain('option date: must be a date such as 2026-11-21');
  });
  it('refuses what the estate does not allow', () => {
    expect(err(() => buildPlan('cms-failover', sample, { targetPool: 'eepool1.contoso.com' }))).toContain('already on eepool1');
    expect(err(() => buildPlan('legacy-site-dr', sample, { failedPool: 'eepool1.contoso.com', exportDate: '2026-11-20' }))).toContain('no legacyDr section');
    expect(err(() => buildPlan('fe-pool-failover', estate('estate.lync2010.yaml'), { pool: 'pool1.contoso.com' }))).toContain('has no backup pool');
  });
});

describe('plan tools', () => {
  const base = buildPlan('cms-failover', sample, { targetPool: 'eepool2.contoso.com' });
  it('names a dependency cycle', () => {
    const p = structuredClone(base);
    step(p, 'read-cms-location').dependsOn = ['cms-failover'];
    const v = validatePlan(p);
    expect(v.ok).toBe(false);
    expect(v.ok ? [] : v.problems.map((x) => x.message)).toContain('dependency cycle: read-cms-location -> declare-disaster -> cms-failover -> read-cms-location');
  });
  it('refuses duplicate ids, unknown dependencies, a rendered line that is not the command, and a retried non-idempotent step', () => {
    const p = structuredClone(base);
    p.steps.push({ ...structuredClone(step(p, 'read-cms-location')) });
    step(p, 'verify-cms-status').dependsOn.push('ghost');
    const f = step(p, 'cms-failover');
    if (f.kind !== 'command') throw new Error('kind');
    f.rendered = 'Invoke-CsManagementServerFailover -WhatIf';
    f.retry.maxAttempts = 3;
    const v = validatePlan(p);
    expect(v.ok).toBe(false);
    const msgs = v.ok ? [] : v.problems.map((x) => `${x.path}: ${x.message}`);
    expect(msgs.some((m) => m.includes('duplicate step id "read-cms-location"'))).toBe(true);
    expect(msgs.some((m) => m.includes('unknown step "ghost"'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('steps[3].rendered: does not match the command'))).toBe(true);
    expect(msgs.some((m) => m.includes('is not idempotent: it must not be retried'))).toBe(true);
  });
  it('refuses a command the catalog would refuse', () => {
    const p = structuredClone(base);
    const f = step(p, 'cms-failover');
    if (f.kind !== 'command') throw new Error('kind');
    f.command.params.backupSqlServerFqdn = "x'; Remove-CsPool";
    expect(validatePlan(p).ok).toBe(false);
  });
  it('criticalPath takes durations and a start', () => {
    expect(criticalPath(base, { durations: { 'read-backup-status-eepool1': 60 * 60_000 } }).path[0]).toBe('read-backup-status-eepool1');
    expect(criticalPath(base, { from: 'declare-disaster' }).path[0]).toBe('cms-failover');
  });
});

describe('verifications as the executor checks them (shared/runs/expect.ts)', () => {
  it('the session check passes with no sessions and fails with one', async () => {
    const { checkExpectations } = await import('../../shared/runs/expect.js');
    const p = buildPlan('site-failover', sample, { failedSite: 'East' });
    const s = step(p, 'pchat-check-sessions');
    if (s.kind !== 'command' || !s.verification) throw new Error('no verification');
    expect(checkExpectations([], s.verification.expect).ok).toBe(true);
    expect(checkExpectations([{ spid: 61, loginame: 'CONTOSO\\RTCComponentUniversalServices' }], s.verification.expect).ok).toBe(false);
  });
  it('the CMS check reads a single object and a one-element list alike', async () => {
    const { checkExpectations } = await import('../../shared/runs/expect.js');
    const p = buildPlan('fe-pool-failover', sample, { pool: 'eepool1.contoso.com' });
    const s = step(p, 'cms-failover');
    if (s.kind !== 'command' || !s.verification) throw new Error('no verification');
    expect(checkExpectations([{ PoolFqdn: 'eepool2.contoso.com' }], s.verification.expect).ok).toBe(true);
    expect(checkExpectations({ PoolFqdn: 'eepool2.contoso.com' }, s.verification.expect).ok).toBe(true);
    expect(checkExpectations({ PoolFqdn: 'eepool1.contoso.com' }, s.verification.expect).ok).toBe(false);
  });
});
