// Runbook 6, pchat-pool-failback (seed 001 scenario 3B): the pChat servers are back. Steps 2-5
// of site-failback (active list emptied, mirroring removed if added, backup mgc copied over the
// primary), state Normal, the recorded active servers, log shipping again. Best run off hours.
import { z } from 'zod';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan } from '../../shared/plan/schema.js';
import { gate } from './steps.js';
import { poolFailoverTargets, requirePchat } from './estate.js';
import { pchatFailback } from './pchat-failback-branch.js';
import { Recorded } from './recorded.js';

export const PchatPoolFailbackOptions = z.strictObject({
  maintenanceWindowStart: z.string().datetime().optional(),
  /** What pchat-pool-failover recorded (activeServers, mirrorInstalled). */
  recorded: Recorded.default({}),
});
export type PchatPoolFailbackOptions = z.infer<typeof PchatPoolFailbackOptions>;

const SOURCE = 'seed 001 scenario 3B (2B steps 2-9)';

export function buildPchatPoolFailback(t: Topology, options: PchatPoolFailbackOptions): Plan {
  const pc = requirePchat(t);
  const branch = pchatFailback(t, options.recorded, SOURCE);
  const approve = gate('approve-failback', {
    title: `Approve the Persistent Chat failback to ${pc.sql.primary.serverFqdn}`,
    policy: 'failback',
    reason: `Persistent Chat returns to its primary mgc on ${pc.sql.primary.serverFqdn}; chat is unavailable from emptying the active list until the servers are active again.`,
    startsRtoClock: true,
    dependsOn: branch.preflight.map((s) => s.id),
  });
  const after = branch.afterGate(approve.id, []);
  return {
    v: 1,
    runbook: 'pchat-pool-failback',
    title: `Fail Persistent Chat ${pc.poolFqdn} back to ${pc.sql.primary.site}`,
    options: { ...options },
    steps: [...branch.preflight, approve, ...after.steps],
    ...(options.maintenanceWindowStart
      ? { maintenanceWindow: { startsAt: options.maintenanceWindowStart, reason: 'seed 001 3B: fail back off hours to limit user impact' } }
      : {}),
    targets: poolFailoverTargets(t),
    pchatUsersReconnecting: pc.concurrentUsers,
    locks: [branch.lock],
  };
}
