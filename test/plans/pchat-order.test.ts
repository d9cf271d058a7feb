// Issue 12 §8: the Persistent Chat failover and failback in the order the seed gives (seed 001
// 2A/2B, 3A/3B), run in the simulator, and the same plans with one dependency taken away: the
// estate refuses active servers placed against the pool state and a return to Normal before the
// primary mgc has been restored from the backup one. site-failover and pchat-pool-failover share
// the failover branch, site-failback and pchat-pool-failback the failback branch.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import { estate, step } from './helpers.js';
import { newSimulator, simulatePlan, withDependsOn } from './simulate.js';
import type { Plan } from '../../shared/plan/index.js';

const t = estate('estate.sample.yaml');
const failover = buildPlan('site-failover', t, { failedSite: 'East' });
const pchatFailover = buildPlan('pchat-pool-failover', t, {});
const failback = buildPlan('pchat-pool-failback', t, {});
const noManual = async () => undefined;

/** A simulator whose Persistent Chat pool was failed over with the plan as built. */
async function failedOver() {
  const sim = newSimulator(t);
  expect((await simulatePlan(sim, pchatFailover, noManual)).failed).toBeUndefined();
  expect((await sim.snapshot()).pchat?.state).toBe('FailedOver');
  return sim;
}
const without = (plan: Plan, stepId: string, dependency: string) => withDependsOn(plan, stepId, step(plan, stepId).dependsOn.filter((d) => d !== dependency));

describe('site-failover: the surviving servers become active only once the pool is FailedOver', () => {
  it('the plan as built runs; emptying and filling the list before the state change is refused', async () => {
    expect(step(failover, 'pchat-clear-active-servers').dependsOn).toContain('pchat-set-failed-over');
    const good = newSimulator(t);
    await good.disaster('east');
    expect((await simulatePlan(good, failover, noManual)).failed).toBeUndefined();
    expect((await good.snapshot()).pchat).toEqual({ state: 'FailedOver', activeServers: [5, 6, 7, 8].map((i) => `pchatserver${i}.contoso.com`) });
    const sim = newSimulator(t);
    await sim.disaster('east');
    const bad = await simulatePlan(sim, without(failover, 'pchat-clear-active-servers', 'pchat-set-failed-over'), noManual);
    expect(bad.failed?.stepId).toBe('pchat-set-active-servers');
    expect(bad.failed?.stderr).toMatch(/pchatserver5\.contoso\.com.* cannot be made active: while the pool is Normal/);
  });
});

describe('pchat-pool-failback: Normal after the primary mgc is restored, the old actives after Normal', () => {
  it('the plan as built runs and the pool ends Normal with the East servers', async () => {
    const sim = await failedOver();
    expect((await simulatePlan(sim, failback, noManual)).failed).toBeUndefined();
    expect((await sim.snapshot()).pchat).toEqual({ state: 'Normal', activeServers: [1, 2, 3, 4].map((i) => `pchatserver${i}.contoso.com`) });
  });

  it('Normal set before the backup mgc is restored over the primary is refused', async () => {
    expect(step(failback, 'pchat-set-normal').dependsOn).toEqual(['pchat-restore-primary-mgc']);
    const sim = await failedOver();
    const bad = await simulatePlan(sim, withDependsOn(failback, 'pchat-set-normal', ['pchat-clear-active-servers']), noManual);
    expect(bad.failed?.stepId).toBe('pchat-set-normal');
    expect(bad.failed?.stderr).toMatch(/does not hold the data written while the pool was failed over/);
  });

  it('the East servers made active while the pool is still FailedOver are refused', async () => {
    const sim = await failedOver();
    const bad = await simulatePlan(sim, withDependsOn(failback, 'pchat-set-active-servers', ['pchat-clear-active-servers']), noManual);
    expect(bad.failed?.stepId).toBe('pchat-set-active-servers');
    expect(bad.failed?.stderr).toMatch(/pchatserver1\.contoso\.com.* cannot be made active: while the pool is FailedOver/);
  });
});
