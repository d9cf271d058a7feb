// Issue 12 §3: a healthy CMS moves with Invoke-CsManagementServerFailover's Normal parameter set
// (no -Force, no -BackupSqlServerFqdn), after a replication read, and never beside another CMS
// write; a lost pool gets no backup service sync. The old site-failback (the disaster set, beside
// the Edge and pChat writes) fails in the simulator; the fixed one succeeds.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import type { Plan } from '../../shared/plan/index.js';
import { estate, step } from './helpers.js';
import { doManualStep, newSimulator, simulatePlan } from './simulate.js';

const t = estate('estate.sample.yaml');

/** East lost and failed over to West, then back up: where a site-failback starts. */
async function failedOverAndBack() {
  const sim = newSimulator(t);
  await sim.disaster('east');
  const fo = await simulatePlan(sim, buildPlan('site-failover', t, { failedSite: 'East' }), (s) => doManualStep(sim, s));
  expect(fo.failed).toBeUndefined();
  await sim.disaster('east', true);
  expect((await sim.state()).cms.pool).toBe('eepool2.contoso.com');
  // Real durations scaled down, so the steps the plan allows together overlap.
  return newSimulator(t, 0.01, path.dirname(sim.store.file));
}

function oldFailback(plan: Plan, cms: Record<string, unknown>): Plan {
  return {
    ...plan,
    steps: plan.steps.filter((s) => s.id !== 'read-cms-replication').map((s) => (s.id === 'cms-failback' && s.kind === 'command'
      ? { ...s, command: { name: 'cms.failover', params: cms }, dependsOn: ['pool-failback-eepool1'] } : s)),
  };
}

describe('site-failback: the CMS moves home', () => {
  const plan = buildPlan('site-failback', t, { failedSite: 'East' });

  it('with the Normal parameter set, after a replication read that follows every other CMS write', () => {
    const back = step(plan, 'cms-failback');
    expect(back.kind === 'command' && back.rendered).toBe('Invoke-CsManagementServerFailover -Confirm:$false');
    expect(back.dependsOn).toEqual(['read-cms-replication']);
    expect(step(plan, 'read-cms-replication').dependsOn).toEqual(expect.arrayContaining(['edge-next-hop-edgepool1', 'pchat-clear-active-servers', 'pchat-set-normal', 'pchat-set-active-servers']));
  });

  it('the fixed plan succeeds in the simulator and the CMS is home', async () => {
    const sim = await failedOverAndBack();
    const r = await simulatePlan(sim, plan, (s) => doManualStep(sim, s));
    expect(r.failed).toBeUndefined();
    expect((await sim.state()).cms.pool).toBe('eepool1.contoso.com');
  }, 120_000);

  it('the old plan (disaster set on a healthy CMS) is refused', async () => {
    const sim = await failedOverAndBack();
    const r = await simulatePlan(sim, oldFailback(plan, { backupSqlServerFqdn: 'eepool1-sql.contoso.com', backupSqlInstanceName: 'RTC' }), (s) => doManualStep(sim, s));
    expect(r.failed?.stepId).toBe('cms-failback');
    expect(r.failed?.stderr).toContain('is healthy: use the Normal parameter set');
  }, 120_000);

  it('the Normal set beside the Edge next-hop write (the old dependencies) is refused as a concurrent CMS write', async () => {
    const sim = await failedOverAndBack();
    const r = await simulatePlan(sim, oldFailback(plan, { parameterSet: 'Normal' }), (s) => doManualStep(sim, s));
    expect(r.failed?.stepId).toBe('cms-failback');
    expect(r.failed?.stderr).toMatch(/The Central Management Store cannot move while edge\.setNextHop .* is running/);
  }, 120_000);
});

describe('cms-failover', () => {
  it('disaster: no backup service sync with the lost pool, and the plan says so', async () => {
    const plan = buildPlan('cms-failover', t, { targetPool: 'eepool2.contoso.com' });
    expect(plan.steps.filter((s) => s.kind === 'command' && s.command.name === 'backup.sync')).toEqual([]);
    const gate = step(plan, 'declare-disaster');
    expect(gate.kind === 'approval' && gate.reason).toContain('No backup service sync is attempted: it needs both pools online and eepool1.contoso.com is lost');
    const sim = newSimulator(t);
    await sim.disaster('eepool1.contoso.com');
    expect((await simulatePlan(sim, plan)).failed).toBeUndefined();
  });

  it('planned: replication read, the Normal set, syncs of both pools; the disaster set on the healthy CMS is refused', async () => {
    const plan = buildPlan('cms-failover', t, { targetPool: 'eepool2.contoso.com', planned: true });
    const fo = step(plan, 'cms-failover');
    expect(fo.kind === 'command' && fo.rendered).toBe('Invoke-CsManagementServerFailover -Confirm:$false');
    expect(fo.dependsOn).toEqual(['read-cms-replication']);
    const sim = newSimulator(t);
    const ok = await simulatePlan(sim, plan);
    expect(ok.failed).toBeUndefined();
    expect(ok.done).toEqual(expect.arrayContaining(['backup-sync-eepool1', 'backup-sync-eepool2']));
    expect((await sim.state()).cms.pool).toBe('eepool2.contoso.com');

    const old = buildPlan('cms-failover', t, { targetPool: 'eepool2.contoso.com' });
    const bad = await simulatePlan(newSimulator(t), old);
    expect(bad.failed?.stepId).toBe('cms-failover');
    expect(bad.failed?.stderr).toContain('is healthy: use the Normal parameter set');
  });
});
