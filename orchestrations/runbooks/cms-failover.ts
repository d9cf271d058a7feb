// Runbook 8, cms-failover (seed 004): move the Central Management Store to the backup pool's SQL
// store, run on a server of that pool.
//   pre-flight  where the CMS is now; replication status
//   gate        declare disaster (starts the 5-minute RTO clock)
//   1. Invoke-CsManagementServerFailover -BackupSqlServerFqdn ... -Force
//   2. verify: Get-CsManagementStoreReplicationStatus -CentralManagementStoreStatus
//   3. Invoke-CsBackupServiceSync for both pools
import { z } from 'zod';
import { fqdn } from '../../shared/commands/values.js';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan } from '../../shared/plan/schema.js';
import { cmd, expectEq, gate, PlanBuildError, verifyWith } from './steps.js';
import { cmsFailoverTargets, cmsPool, findPool, slug } from './estate.js';

export const CmsFailoverOptions = z.strictObject({
  /** The pool to move the CMS to: the backup pool of the pool that hosts it. */
  targetPool: fqdn,
});
export type CmsFailoverOptions = z.infer<typeof CmsFailoverOptions>;

const SOURCE = 'seed 004';

export function buildCmsFailover(t: Topology, options: CmsFailoverOptions): Plan {
  const current = cmsPool(t);
  if (!current) throw new PlanBuildError('the topology marks no pool with hostsCms: true');
  const target = findPool(t, options.targetPool, 'targetPool');
  if (target.fqdn === current.fqdn) throw new PlanBuildError(`targetPool: the CMS is already on ${current.fqdn}`);
  if (current.backupPool !== target.fqdn) {
    throw new PlanBuildError(`targetPool: the CMS on ${current.fqdn} can only fail over to its backup pool${current.backupPool ? ` ${current.backupPool}` : ' (it has none)'}, not ${target.fqdn}`);
  }
  const site = target.site;
  const sql = target.backEnd;
  const locate = cmd('read-cms-location', 'cms.locate', {}, { title: 'Record which pool hosts the Central Management Store', site, source: SOURCE, records: 'preFailover.cmsLocation' });
  // The replication status needs the active CMS, which is what is lost: the backup service's
  // last sync of the CMS pool is the RPO, and the backup pool answers it.
  const repl = cmd(`read-backup-status-${slug(current.fqdn)}`, 'backup.status', { poolFqdn: current.fqdn }, {
    title: `Read when ${current.fqdn} last synced the CMS to ${target.fqdn} (the RPO of this run)`, site, source: SOURCE, records: `preFailover.backupStatus.${slug(current.fqdn).replace(/[^a-zA-Z0-9]/g, '')}`,
  });
  const declare = gate('declare-disaster', {
    title: `Declare the CMS on ${current.fqdn} lost`,
    policy: 'declare-disaster',
    reason: `Move the Central Management Store from ${current.fqdn} to ${target.fqdn}'s SQL store ${sql.serverFqdn}${sql.instance ? `\\${sql.instance}` : ''}.`,
    startsRtoClock: true,
    dependsOn: [locate.id, repl.id],
  });
  const failover = cmd('cms-failover', 'cms.failover', { backupSqlServerFqdn: sql.serverFqdn, ...(sql.instance ? { backupSqlInstanceName: sql.instance } : {}) }, {
    title: `Fail the CMS over to ${target.fqdn}`, site, dependsOn: [declare.id], source: SOURCE,
    verification: verifyWith('the CMS is active on the target pool', 'cms.locate', {}, [expectEq('PoolFqdn', target.fqdn, `CMS on ${target.fqdn}`)]),
  });
  const status = cmd('verify-cms-status', 'cms.replicationStatus', { centralManagementStoreStatus: true }, {
    title: 'Confirm the active CMS master location', site, dependsOn: [failover.id], source: SOURCE,
    // ActiveMasterFqdn names a Front End server, not the pool: ask where the CMS is instead.
    verification: { description: 'the CMS is active on the target pool', command: { name: 'cms.locate', params: {} }, expect: [expectEq('PoolFqdn', target.fqdn, `CMS on ${target.fqdn}`)] },
  });
  // Both pools, as RUNBOOKS says. A sync needs both pools online: when the old pool is lost the
  // step fails and waits for the operator, who skips it (its failback resynchronises it).
  const syncs = [target, current].map((p) => cmd(`backup-sync-${slug(p.fqdn)}`, 'backup.sync', { poolFqdn: p.fqdn }, {
    title: `Force a backup service sync for ${p.fqdn}`, site, dependsOn: [failover.id], source: SOURCE,
  }));
  return {
    v: 1,
    runbook: 'cms-failover',
    title: `Fail the Central Management Store over from ${current.fqdn} to ${target.fqdn}`,
    options: { ...options },
    steps: [locate, repl, declare, failover, status, ...syncs],
    targets: cmsFailoverTargets(),
    pchatUsersReconnecting: 0,
    locks: ['cms'],
  };
}
