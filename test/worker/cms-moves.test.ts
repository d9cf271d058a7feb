// Issue 12 §3 in the simulated estate: Invoke-CsManagementServerFailover's Normal set needs the
// active CMS (it waits for replication), and while the CMS moves it is read-only: a write to it
// beside the move is refused, so a plan that runs them side by side fails here.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import { validateInvocation } from '../../shared/commands/index.js';
import type { Plan } from '../../shared/plan/index.js';
import { Simulator } from '../../worker/simulator/simulator.js';
import { estate } from '../plans/helpers.js';
import { doManualStep } from '../../local/manual-steps.js';
import { newSimulator, simulatePlan } from '../plans/simulate.js';

const sample = estate('estate.sample.yaml');
let n = 0;
const run = (sim: Simulator, name: string, params: Record<string, unknown> = {}) => sim.execute({ name, params }, { commandId: `cms-${++n}`, timeoutMs: 60_000, whatIf: false });
const cmsPool = async (sim: Simulator) => (await sim.state()).cms.pool;

describe('the Normal parameter set', () => {
  it('moves a healthy CMS to the other store the topology defines, with no -Force and no target', async () => {
    const sim = newSimulator(sample);
    const r = await run(sim, 'cms.move');
    expect(r.status, r.stderr).toBe('succeeded');
    expect(r.rendered).toBe('Invoke-CsManagementServerFailover -Confirm:$false');
    expect(await cmsPool(sim)).toBe('eepool2.contoso.com');
  });

  it('is refused for a lost CMS, naming the disaster set', async () => {
    const sim = newSimulator(sample);
    await sim.disaster('eepool1.contoso.com');
    const r = await run(sim, 'cms.move');
    expect(r.status).toBe('failed');
    expect(r.stderr).toMatch(/unreachable: the Normal parameter set cannot wait for its replication\. Use -BackupSqlServerFqdn and -Force/);
    expect(await cmsPool(sim)).toBe('eepool1.contoso.com');
  });
});

describe('cms-failover in the simulator', () => {
  it('planned: the Normal set moves the healthy CMS and both pools sync; lost: the disaster set, and no sync is tried (the old plan\'s sync fails)', async () => {
    const planned = newSimulator(sample);
    expect((await simulatePlan(planned, buildPlan('cms-failover', sample, { targetPool: 'eepool2.contoso.com', planned: true }))).failed).toBeUndefined();
    expect(await cmsPool(planned)).toBe('eepool2.contoso.com');

    const lost = newSimulator(sample);
    await lost.disaster('eepool1.contoso.com');
    const plan = buildPlan('cms-failover', sample, { targetPool: 'eepool2.contoso.com' });
    expect((await simulatePlan(lost, plan)).failed).toBeUndefined();
    expect(await cmsPool(lost)).toBe('eepool2.contoso.com');
    expect(plan.steps.some((x) => x.kind === 'command' && x.command.name === 'backup.sync')).toBe(false);
    // The old plan synced both pools afterwards: with one of the pair lost, the estate refuses it.
    const sync = buildPlan('cms-failover', sample, { targetPool: 'eepool2.contoso.com', planned: true }).steps.find((x) => x.id === 'backup-sync-eepool2')!;
    const old: Plan = { ...plan, steps: [...plan.steps, { ...sync, dependsOn: ['cms-failover'] }] };
    const again = newSimulator(sample);
    await again.disaster('eepool1.contoso.com');
    const r = await simulatePlan(again, old);
    expect(r.failed?.stepId).toBe('backup-sync-eepool2');
    expect(r.failed?.stderr).toMatch(/needs both .* online/);
    // The Normal set cannot serve a lost CMS: the planned plan fails at its replication read or the move.
    const wrong = newSimulator(sample);
    await wrong.disaster('eepool1.contoso.com');
    const refused = await simulatePlan(wrong, buildPlan('cms-failover', sample, { targetPool: 'eepool2.contoso.com', planned: true }));
    expect(refused.failed?.stepId).toMatch(/^(verify-cms-replication|cms-move)$/);
  });
});

describe('the CMS is read-only while it moves', () => {
  it('a write begun during a move is refused; once the move is done it goes through', async () => {
    const sim = newSimulator(sample, 0.001); // the move takes 5 simulated minutes: 300 ms here
    const moving = run(sim, 'cms.move');
    while (!(await sim.state()).executions.some((e) => e.name === 'cms.move')) await new Promise((r) => setImmediate(r));
    const hop = { edgePoolFqdn: 'edgepool1.contoso.com', nextHopPoolFqdn: 'eepool2.contoso.com' };
    expect(validateInvocation({ name: 'edge.setNextHop', params: hop }).ok).toBe(true);
    const refused = await run(sim, 'edge.setNextHop', hop);
    expect(refused.status).toBe('failed');
    expect(refused.stderr).toMatch(/read-only while it is being moved \(cms\.move/);
    expect((await moving).status).toBe('succeeded');
    expect((await run(sim, 'edge.setNextHop', hop)).status).toBe('succeeded');
  });

  it('site-failback: the old plan (the disaster set beside the Edge and pChat writes) fails; the fixed one (Normal set, after them) succeeds', async () => {
    const failback = buildPlan('site-failback', sample, { failedSite: 'East', moveCmsBack: true });
    const move = failback.steps.find((s) => s.id === 'cms-failback')!;
    const old: Plan = {
      ...failback,
      steps: failback.steps.filter((s) => s.id !== 'verify-cms-replication').map((s) => (s.id !== 'cms-failback' ? s : {
        ...move, dependsOn: failback.steps.filter((x) => x.kind === 'command' && x.command.name === 'pool.failback').map((x) => x.id),
        command: { name: 'cms.failover', params: { backupSqlServerFqdn: 'eepool1-sql.contoso.com', backupSqlInstanceName: 'RTC' } },
      })),
    };
    const afterFailover = async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-cms-moves-'));
      const sim = new Simulator({ dir, topology: sample, timeFactor: 0 });
      await sim.disaster('east');
      const over = await simulatePlan(sim, buildPlan('site-failover', sample, { failedSite: 'East' }), async (m) => { await doManualStep(sim, m.id); });
      expect(over.failed).toBeUndefined();
      await sim.disaster('east', true);
      // The same estate, with real (scaled) durations: the move and the writes overlap in time.
      return new Simulator({ dir, topology: sample, timeFactor: 0.001 });
    };
    const bad = await simulatePlan(await afterFailover(), old);
    expect(bad.failed?.stderr).toMatch(/Central Management Store (is read-only while it is being moved|cannot be moved while)/);
    const sim = await afterFailover();
    const good = await simulatePlan(sim, failback);
    expect(good.failed).toBeUndefined();
    expect(await cmsPool(sim)).toBe('eepool1.contoso.com');
  }, 60_000);
});
