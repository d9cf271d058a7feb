// Runbook 5, pchat-pool-failover (seed 001 scenario 3A): the Persistent Chat servers of one
// datacenter failed; the Front End pools are fine. The pChat part of site-failover only:
//   pre-flight  mgc log-shipping monitor (RPO), active servers, state Normal
//   gate        declare disaster for Persistent Chat
//   1. remove log shipping; copy and apply unapplied log backups; RESTORE DATABASE WITH RECOVERY
//   2. Set-CsPersistentChatState FailedOver
//   3. the surviving site's servers active (4. optionally mirror the new primary)
// With actives split across both datacenters the service keeps working, so the seed advises off
// hours: a maintenanceWindowStart makes the run wait for it.
import { z } from 'zod';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan } from '../../shared/plan/schema.js';
import { gate } from './steps.js';
import { findSite, poolFailoverTargets, requirePchat } from './estate.js';
import { pchatFailover } from './pchat-branch.js';

export const PchatPoolFailoverOptions = z.strictObject({
  /** The site whose pChat servers failed; default: the site of the pChat SQL primary. */
  failedSite: z.string().min(1).optional(),
  /** ISO date-time of the off-hours window to wait for. */
  maintenanceWindowStart: z.string().datetime().optional(),
  installMirror: z.boolean().default(false),
});
export type PchatPoolFailoverOptions = z.infer<typeof PchatPoolFailoverOptions>;

const SOURCE = 'seed 001 scenario 3A';

export function buildPchatPoolFailover(t: Topology, options: PchatPoolFailoverOptions): Plan {
  const pc = requirePchat(t);
  const failedSite = options.failedSite ? findSite(t, options.failedSite) : pc.sql.primary.site;
  const activeSites = new Set(pc.servers.filter((s) => s.role === 'active').map((s) => s.site));
  const split = activeSites.size > 1;
  const branch = pchatFailover(t, { failedSite, siteLost: false, installMirror: options.installMirror, source: SOURCE });
  const declare = gate('declare-disaster', {
    title: `Declare a Persistent Chat disaster in ${failedSite}`,
    policy: 'declare-disaster',
    reason: `The Persistent Chat servers in ${failedSite} failed; mgc fails over to ${pc.sql.secondary.serverFqdn} and the servers in ${branch.survivingSite} become active.${split ? ' Active servers are split across datacenters, so chat keeps working meanwhile: prefer a maintenance window (off hours).' : ''}`,
    startsRtoClock: true,
    dependsOn: branch.preflight.map((s) => s.id),
  });
  const after = branch.afterGate(declare.id, []);
  return {
    v: 1,
    runbook: 'pchat-pool-failover',
    title: `Fail Persistent Chat ${pc.poolFqdn} over to ${branch.survivingSite}`,
    // The topology's spelling: `east` and `East` are one plan with one hash.
    options: { ...options, ...(options.failedSite ? { failedSite } : {}) },
    steps: [...branch.preflight, declare, ...after.steps],
    ...(options.maintenanceWindowStart
      ? { maintenanceWindow: { startsAt: options.maintenanceWindowStart, reason: 'seed 001 3A: fail Persistent Chat over off hours to limit user impact' } }
      : {}),
    targets: poolFailoverTargets(t),
    pchatUsersReconnecting: pc.concurrentUsers,
    locks: [branch.lock],
  };
}
