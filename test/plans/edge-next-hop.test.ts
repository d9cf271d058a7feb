// Issue 12 §1: Set-CsEdgeServer -Registrar (the Edge next hop) completes before
// Invoke-CsPoolFailover (seed 004): a plan dependency, and an estate that refuses the pool
// failover while an Edge pool's next hop is still the failed pool.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import { ancestors } from '../../shared/plan/index.js';
import { estate, step } from './helpers.js';
import { newSimulator, simulatePlan, withDependsOn } from './simulate.js';

const t = estate('estate.sample.yaml');

describe.each([
  ['fe-pool-failover', { pool: 'eepool1.contoso.com' }, 'eepool1'],
  ['site-failover', { failedSite: 'East' }, 'eepool1'],
] as const)('%s: the Edge next hop before the pool failover', (runbook, options, pool) => {
  const plan = buildPlan(runbook, t, options);

  it('the pool failover depends on the Edge next-hop step', () => {
    expect([...ancestors(plan, `pool-failover-${pool}`)]).toContain('edge-next-hop-edgepool1');
  });

  it('the fixed plan runs in the simulator; the old one (pool failover beside the Edge step) is refused', async () => {
    const sim = newSimulator(t);
    await sim.disaster('east');
    const ok = await simulatePlan(sim, plan, async () => undefined);
    expect(ok.failed).toBeUndefined();
    expect(ok.done.indexOf(`pool-failover-${pool}`)).toBeGreaterThan(ok.done.indexOf('edge-next-hop-edgepool1'));

    const old = withDependsOn(plan, `pool-failover-${pool}`, step(plan, `pool-failover-${pool}`).dependsOn.filter((d) => !d.startsWith('edge-next-hop-')));
    const sim2 = newSimulator(t);
    await sim2.disaster('east');
    const bad = await simulatePlan(sim2, old, async () => undefined);
    expect(bad.failed?.stepId).toBe(`pool-failover-${pool}`);
    expect(bad.failed?.stderr).toContain('edgepool1.contoso.com still use "eepool1.contoso.com" as next hop');
  });
});
