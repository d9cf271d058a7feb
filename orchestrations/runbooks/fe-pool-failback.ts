// Runbook 2, fe-pool-failback (seed 001 scenario 1B; seed 004): the failed pool is back.
//   pre-flight  the pool is healthy; the backup pool's last sync; DNS as it is now
//   gate        approve the failback
//   1. Invoke-CsPoolFailback -PoolFqdn <pool>
//   2. Edge next hops and the simple URLs back to what the failover recorded
//   3. verify: a test user signs in on the home pool
// The CMS stays on the backup pool (seed 004: there is no reason to move it back).
import { z } from 'zod';
import { fqdn } from '../../shared/commands/values.js';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan } from '../../shared/plan/schema.js';
import { gate } from './steps.js';
import { pairedPools, poolFailoverTargets, requirePchatUsers, thousands } from './estate.js';
import { SIMPLE_URL_PURPOSES } from './fe-branch.js';
import { feFailback } from './failback-branch.js';
import { Recorded } from './recorded.js';

export const FePoolFailbackOptions = z.strictObject({
  /** The pool that failed and is back. */
  pool: fqdn,
  /** What fe-pool-failover recorded (edgeNextHops, dns); missing values fall back to the topology. */
  recorded: Recorded.default({}),
});
export type FePoolFailbackOptions = z.infer<typeof FePoolFailbackOptions>;

const SOURCE = 'seed 001 scenario 1B; seed 004';

export function buildFePoolFailback(t: Topology, options: FePoolFailbackOptions): Plan {
  const { pool, backup } = pairedPools(t, options.pool);
  const fb = feFailback(t, { pools: [{ pool, backup }], purposes: SIMPLE_URL_PURPOSES, recorded: options.recorded, source: SOURCE });
  const approve = gate('approve-failback', {
    title: `Approve the failback of ${pool.fqdn}`,
    policy: 'failback',
    reason: `${pool.fqdn} (${pool.site}) is healthy again; its ${thousands(pool.userCount)} users move back from ${backup.fqdn}. Users see a short interruption. The CMS stays where it is.`,
    // The users' interruption starts with the failback, so its duration is measured from approval.
    startsRtoClock: true,
    dependsOn: fb.preflight.map((s) => s.id),
  });
  const after = fb.afterGate(approve.id);
  return {
    v: 1,
    runbook: 'fe-pool-failback',
    title: `Fail pool ${pool.fqdn} back from ${backup.fqdn} to ${pool.site}`,
    options: { ...options },
    steps: [...fb.preflight, approve, ...after.steps],
    targets: poolFailoverTargets(t),
    pchatUsersReconnecting: requirePchatUsers(t, pool.userCount),
    locks: fb.locks,
  };
}
