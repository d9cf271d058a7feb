// Runbook 4, site-failback (seed 001 scenario 2B): the lost site is back.
//   pre-flight  pools healthy, backup sync, DNS now; pChat state FailedOver, active list now
//   gate        approve the failback
//   FE          Invoke-CsPoolFailback for each pool of the site; Edge next hops and DNS back
//   pChat       (after the pools are home) empty the active list; remove mirroring if added;
//               full backup of the backup mgc; restore it over the primary (REPLACE, RECOVERY);
//               state Normal; the recorded active servers; log shipping again (manual)
//   CMS         (moveCmsBack) after every step that writes to the CMS, once replication is
//               current: Invoke-CsManagementServerFailover's Normal set (no -Force)
import { z } from 'zod';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan, PlanStep } from '../../shared/plan/schema.js';
import { CMS_WRITERS } from '../../shared/commands/cms-writers.js';
import { cmd, gate, PlanBuildError } from './steps.js';
import { cmsActiveOn, cmsReplicationCurrent } from './cms-steps.js';
import { findSite, pairedPools, poolFailoverTargets } from './estate.js';
import { SITE_PURPOSES } from './fe-branch.js';
import { feFailback } from './failback-branch.js';
import { pchatFailback } from './pchat-failback-branch.js';
import { Recorded } from './recorded.js';

export const SiteFailbackOptions = z.strictObject({
  /** The site that was lost and is back (East). */
  failedSite: z.string().min(1),
  /** What site-failover recorded (edgeNextHops, dns, activeServers, mirrorInstalled). */
  recorded: Recorded.default({}),
  /** Move the Central Management Store back to the pool the topology places it on (seed 004 allows
   * it to stay; the site is only back as it was with it home). */
  moveCmsBack: z.boolean().default(true),
});
export type SiteFailbackOptions = z.infer<typeof SiteFailbackOptions>;

const SOURCE = 'seed 001 scenario 2B';

export function buildSiteFailback(t: Topology, options: SiteFailbackOptions): Plan {
  const site = findSite(t, options.failedSite);
  const pools = t.frontEndPools.filter((p) => p.site === site).map((p) => pairedPools(t, p.fqdn, `failedSite ${site}: pool`));
  if (!pools.length) throw new PlanBuildError(`failedSite: no Front End pool is in ${site}`);
  const fe = feFailback(t, { pools, purposes: SITE_PURPOSES, recorded: options.recorded, source: SOURCE });
  const pchat = t.persistentChat && t.persistentChat.sql.primary.site === site ? pchatFailback(t, options.recorded, SOURCE) : undefined;
  const preflight = [...fe.preflight, ...(pchat?.preflight ?? [])];
  const approve = gate('approve-failback', {
    title: `Approve the failback of site ${site}`,
    policy: 'failback',
    reason: `Site ${site} is back: ${pools.map((p) => `${p.pool.fqdn} <- ${p.backup.fqdn}`).join(', ')}${pchat ? '; Persistent Chat returns to its primary database (chat is unavailable while mgc is copied back)' : ''}.`,
    startsRtoClock: true,
    dependsOn: preflight.map((s) => s.id),
  });
  const feAfter = fe.afterGate(approve.id);
  const home = pools.find((p) => p.pool.hostsCms);
  const pcAfter = pchat?.afterGate(approve.id, feAfter.failbacks);
  // The CMS is healthy where the failover put it: the Normal set moves it back once replication is
  // current, and only after every step that writes to it (Edge next hops, Persistent Chat state and
  // active servers, a mirror in the topology), because the store is read-only while it moves.
  let cmsBack: PlanStep[] = [];
  if (options.moveCmsBack && home) {
    const writers = [...feAfter.steps, ...(pcAfter?.steps ?? [])].filter((s) => s.kind === 'command' && CMS_WRITERS.has(s.command.name)).map((s) => s.id);
    const site = home.pool.site.toLowerCase();
    const replicated = cmsReplicationCurrent(home.pool.fqdn, site, [...feAfter.failbacks, ...writers], 'seed 004', true);
    const move = cmd('cms-failback', 'cms.move', {}, {
      title: `Move the Central Management Store back to ${home.pool.fqdn} (Normal parameter set: no -Force, it waits for replication)`, site, dependsOn: [replicated.id], source: 'seed 004',
      precheck: cmsActiveOn(home.backup.fqdn, `the CMS is still on ${home.backup.fqdn}, where the failover put it`),
      verification: cmsActiveOn(home.pool.fqdn, `the CMS is active on ${home.pool.fqdn}`),
    });
    cmsBack = [replicated, move];
  }
  return {
    v: 1,
    runbook: 'site-failback',
    title: `Fail site ${site} back from ${pools[0].backup.site}`,
    // The topology's spelling: `east` and `East` are one plan with one hash.
    options: { ...options, failedSite: site },
    steps: [...preflight, approve, ...feAfter.steps, ...(pcAfter?.steps ?? []), ...cmsBack],
    targets: poolFailoverTargets(t),
    pchatUsersReconnecting: pchat ? t.persistentChat!.concurrentUsers : 0,
    locks: [...fe.locks, ...(cmsBack.length ? ['cms'] : []), ...(pchat ? [pchat.lock] : [])],
  };
}
