// Runbook 8, cms-failover (seed 004): move the Central Management Store to the backup pool's SQL
// store, run on a server of that pool.
//   pre-flight  where the CMS is now; its last backup sync (lost) or its replication (planned)
//   gate        declare disaster (starts the 5-minute RTO clock), or approve the planned move
//   1. lost:    Invoke-CsManagementServerFailover -BackupSqlServerFqdn ... -Force
//      planned: Invoke-CsManagementServerFailover (Normal set: waits for replication)
//   2. verify: Get-CsManagementStoreReplicationStatus -CentralManagementStoreStatus
//   3. planned: Invoke-CsBackupServiceSync for both pools. Lost: none, and the plan says so (a
//      sync needs both pools of the pair; the old pool's failback resynchronises them)
import { z } from 'zod';
import { fqdn } from '../../shared/commands/values.js';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan } from '../../shared/plan/schema.js';
import { cmd, expectEq, gate, PlanBuildError } from './steps.js';
import { cmsActiveOn, cmsReplicationCurrent } from './cms-steps.js';
import { cmsFailoverTargets, cmsPool, findPool, slug } from './estate.js';

export const CmsFailoverOptions = z.strictObject({
  /** The pool to move the CMS to: the backup pool of the pool that hosts it. */
  targetPool: fqdn,
  /** The CMS is healthy and is moved on purpose (maintenance): the Normal set, after replication is current. */
  planned: z.boolean().default(false),
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
  // Lost: the replication status needs the active CMS, which is what is lost, so the backup
  // service's last sync of the CMS pool is the RPO, and the backup pool answers it. Planned: the
  // move waits for replication, so every replica must be reachable and current first.
  const read = options.planned
    ? cmsReplicationCurrent(target.fqdn, site, [], SOURCE)
    : cmd(`read-backup-status-${slug(current.fqdn)}`, 'backup.status', { poolFqdn: current.fqdn }, {
      title: `Read when ${current.fqdn} last synced the CMS to ${target.fqdn} (the RPO of this run)`, site, source: SOURCE, records: `preFailover.backupStatus.${slug(current.fqdn).replace(/[^a-zA-Z0-9]/g, '')}`,
    });
  const noSync = `No backup service sync is attempted: a sync needs both pools of the pair, and ${current.fqdn} is lost (its failback resynchronises them).`;
  const declare = gate(options.planned ? 'approve-cms-move' : 'declare-disaster', {
    title: options.planned ? `Approve moving the CMS from ${current.fqdn} to ${target.fqdn}` : `Declare the CMS on ${current.fqdn} lost`,
    policy: options.planned ? 'planned-move' : 'declare-disaster',
    reason: `Move the Central Management Store from ${current.fqdn} to ${target.fqdn}'s SQL store ${sql.serverFqdn}${sql.instance ? `\\${sql.instance}` : ''}${options.planned ? ' with the Normal parameter set (it waits for replication, then makes the source read-only).' : `. ${noSync}`}`,
    startsRtoClock: true,
    dependsOn: [locate.id, read.id],
  });
  const failover = options.planned
    ? cmd('cms-move', 'cms.move', {}, {
      title: `Move the healthy CMS to ${target.fqdn} (Normal parameter set: no -Force)`, site, dependsOn: [declare.id], source: SOURCE,
      precheck: cmsActiveOn(current.fqdn, `the CMS is still on ${current.fqdn}`),
      verification: cmsActiveOn(target.fqdn, 'the CMS is active on the target pool'),
    })
    : cmd('cms-failover', 'cms.failover', { backupSqlServerFqdn: sql.serverFqdn, ...(sql.instance ? { backupSqlInstanceName: sql.instance } : {}) }, {
      title: `Fail the CMS over to ${target.fqdn}`, site, dependsOn: [declare.id], source: SOURCE,
      precheck: cmsActiveOn(current.fqdn, `the CMS is still on ${current.fqdn}`),
      verification: cmsActiveOn(target.fqdn, 'the CMS is active on the target pool'),
    });
  const status = cmd('verify-cms-status', 'cms.replicationStatus', { centralManagementStoreStatus: true }, {
    title: `Confirm the active CMS master location${options.planned ? '' : ` (then no backup service sync: ${current.fqdn} is lost)`}`, site, dependsOn: [failover.id], source: SOURCE,
    // ActiveMasterFqdn names a Front End server, not the pool: ask where the CMS is instead.
    verification: { description: 'the CMS is active on the target pool', command: { name: 'cms.locate', params: {} }, expect: [expectEq('PoolFqdn', target.fqdn, `CMS on ${target.fqdn}`)] },
  });
  const syncs = (options.planned ? [target, current] : []).map((p) => cmd(`backup-sync-${slug(p.fqdn)}`, 'backup.sync', { poolFqdn: p.fqdn }, {
    title: `Force a backup service sync for ${p.fqdn}`, site, dependsOn: [failover.id], source: SOURCE,
  }));
  return {
    v: 1,
    runbook: 'cms-failover',
    title: options.planned ? `Move the Central Management Store from ${current.fqdn} to ${target.fqdn} (planned)` : `Fail the Central Management Store over from ${current.fqdn} to ${target.fqdn}`,
    options: { ...options },
    steps: [locate, read, declare, failover, status, ...syncs],
    targets: cmsFailoverTargets(),
    pchatUsersReconnecting: 0,
    locks: ['cms'],
  };
}
