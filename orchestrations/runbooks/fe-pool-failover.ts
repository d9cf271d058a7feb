// Runbook 1, fe-pool-failover (seed 001 scenario 1A; seed 004): a Front End pool has failed,
// its paired pool in the other site takes its users.
//   pre-flight  pairing, backup service sync (the RPO), CMS location, Edge next hops, DNS
//   gate        declare disaster (starts the RTO clock)
//   1. CMS failover to the backup pool's SQL store, if the CMS is on the failed pool
//   2. Edge next hop -> backup pool, for Edge pools whose next hop is the failed pool
//   3. Invoke-CsPoolFailover -PoolFqdn <failed> -DisasterMode
//   4. simple URLs (meet, dialin, admin) -> the surviving site
//   5. verify: the backup pool serves the users; a test user signs in
import { z } from 'zod';
import { fqdn } from '../../shared/commands/values.js';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan } from '../../shared/plan/schema.js';
import { deferCmsReads, gate } from './steps.js';
import { pairedPools, poolFailoverTargets, requirePchatUsers, thousands } from './estate.js';
import { dnsChangesToSite, feFailover, SIMPLE_URL_PURPOSES } from './fe-branch.js';

export const FePoolFailoverOptions = z.strictObject({
  /** The failed pool's FQDN. */
  pool: fqdn,
});
export type FePoolFailoverOptions = z.infer<typeof FePoolFailoverOptions>;

const SOURCE = 'seed 001 scenario 1A; seed 004';

export function buildFePoolFailover(t: Topology, options: FePoolFailoverOptions): Plan {
  const { pool, backup } = pairedPools(t, options.pool);
  const failed = [{ pool, backup }];
  const fe = feFailover(t, {
    failed,
    survivingSite: backup.site,
    dnsChanges: dnsChangesToSite(t, backup.site, SIMPLE_URL_PURPOSES, failed),
    source: SOURCE,
  });
  const { preflight, afterCms } = deferCmsReads(fe.preflight, fe.cmsFailsOver);
  const declare = gate('declare-disaster', {
    title: `Declare a disaster for ${pool.fqdn}`,
    policy: 'declare-disaster',
    reason: `${pool.fqdn} (${pool.site}) is down; its ${thousands(pool.userCount)} users fail over to ${backup.fqdn} (${backup.site})${fe.cmsFailsOver ? ', and the Central Management Store moves with them' : ''}.`,
    startsRtoClock: true,
    dependsOn: preflight.map((s) => s.id),
  });
  const after = fe.afterGate(declare.id);
  return {
    v: 1,
    runbook: 'fe-pool-failover',
    title: `Fail pool ${pool.fqdn} (${pool.site}) over to ${backup.fqdn} (${backup.site})`,
    options: { ...options },
    steps: [...preflight, declare, ...after.steps, ...afterCms],
    targets: poolFailoverTargets(t),
    // Persistent Chat users homed on the failed pool reconnect through the backup pool.
    pchatUsersReconnecting: requirePchatUsers(t, pool.userCount),
    locks: fe.locks,
  };
}
