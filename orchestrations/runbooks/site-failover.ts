// Runbook 3, site-failover (seed 001 scenario 2A): a whole datacenter is lost. Everything of
// fe-pool-failover for each pool of the site, plus Persistent Chat:
//   pre-flight  as fe-pool-failover, plus mgc's log-shipping monitor (the pChat RPO), the
//               active-server list and the pChat state
//   gate        declare disaster (starts the RTO clock)
//   FE branch   CMS failover (if on a failed pool), Edge next hops, Invoke-CsPoolFailover, DNS
//   SQL branch  remove log shipping; copy uncopied backups; RESTORE LOG each in sequence WITH
//               NORECOVERY; no sessions on mgc; RESTORE DATABASE mgc WITH RECOVERY
//   then        Set-CsPersistentChatState FailedOver (waits for both branches); active servers
//               in the surviving site; optionally Install-CsMirrorDatabase
// The two branches are independent until the state change, so they run in parallel.
import { z } from 'zod';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan } from '../../shared/plan/schema.js';
import { deferCmsReads, gate, PlanBuildError } from './steps.js';
import { findSite, pairedPools, poolFailoverTargets } from './estate.js';
import { dnsChangesToSite, feFailover, SITE_PURPOSES } from './fe-branch.js';
import { pchatFailover } from './pchat-branch.js';

export const SiteFailoverOptions = z.strictObject({
  /** The lost site, as named in the topology (East). */
  failedSite: z.string().min(1),
  /** Mirror the new primary mgc (Install-CsMirrorDatabase); needs persistentChat.sql.backupMirror. */
  installMirror: z.boolean().default(false),
});
export type SiteFailoverOptions = z.infer<typeof SiteFailoverOptions>;

const SOURCE = 'seed 001 scenario 2A';

export function buildSiteFailover(t: Topology, options: SiteFailoverOptions): Plan {
  const failedSite = findSite(t, options.failedSite);
  const pools = t.frontEndPools.filter((p) => p.site === failedSite);
  if (!pools.length) throw new PlanBuildError(`failedSite: no Front End pool is in ${failedSite}`);
  const failed = pools.map((p) => pairedPools(t, p.fqdn, `failedSite ${failedSite}: pool`));
  const sites = new Set(failed.map((f) => f.backup.site));
  if (sites.size > 1) throw new PlanBuildError(`failedSite: the pools of ${failedSite} are backed up in several sites (${[...sites].join(', ')}); fail them over one by one with fe-pool-failover`);
  const survivingSite = failed[0].backup.site;

  const fe = feFailover(t, { failed, survivingSite, dnsChanges: dnsChangesToSite(t, survivingSite, SITE_PURPOSES, failed), source: SOURCE });
  const pchat = t.persistentChat
    ? pchatFailover(t, { failedSite, siteLost: true, installMirror: options.installMirror, source: SOURCE })
    : undefined;
  const { preflight, afterCms } = deferCmsReads([...fe.preflight, ...(pchat?.preflight ?? [])], fe.cmsFailsOver);
  const declare = gate('declare-disaster', {
    title: `Declare a disaster for site ${failedSite}`,
    policy: 'declare-disaster',
    reason: `Site ${failedSite} is lost: ${failed.map((f) => `${f.pool.fqdn} -> ${f.backup.fqdn}`).join(', ')}${fe.cmsFailsOver ? '; the Central Management Store moves to ' + survivingSite : ''}${pchat ? `; Persistent Chat fails over to ${pchat.survivingSite}` : ''}.`,
    startsRtoClock: true,
    dependsOn: preflight.map((s) => s.id),
  });
  const feAfter = fe.afterGate(declare.id);
  // pChat needs the users' pool serving again before its state changes; DNS and the sign-in test need not hold it up.
  const pcAfter = pchat?.afterGate(declare.id, feAfter.failovers);
  return {
    v: 1,
    runbook: 'site-failover',
    title: `Fail site ${failedSite} over to ${survivingSite}`,
    // The topology's spelling: `east` and `East` are one plan with one hash.
    options: { ...options, failedSite: failedSite },
    steps: [...preflight, declare, ...feAfter.steps, ...afterCms, ...(pcAfter?.steps ?? [])],
    targets: poolFailoverTargets(t),
    pchatUsersReconnecting: t.persistentChat?.concurrentUsers ?? 0,
    locks: [...fe.locks, ...(pchat ? [pchat.lock] : [])],
  };
}
