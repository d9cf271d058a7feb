// The Persistent Chat failback (seed 001 scenario 2B steps 2-9, 3B), shared by site-failback
// and pchat-pool-failback. The active list is emptied first so no pChat server writes to the
// backup mgc while it is copied back; the primary is overwritten from a full backup of the
// backup mgc (REPLACE, RECOVERY); only then does the pool return to Normal with the actives the
// failover recorded.
import type { Topology } from '../../shared/topology/schema.js';
import type { PlanStep } from '../../shared/plan/schema.js';
import { cmd, expectEq, manual, verifyOutput, verifyWith, DURATION } from './steps.js';
import { requirePchat, slug } from './estate.js';
import { origin, type Recorded } from './recorded.js';

export const FAILBACK_BACKUP_FILE = 'mgc_failback.bak';

export function pchatFailback(t: Topology, recorded: Recorded, source: string): {
  preflight: PlanStep[];
  afterGate: (gateId: string, waitFor: string[]) => { steps: PlanStep[]; ends: string[] };
  lock: string;
} {
  const pc = requirePchat(t);
  const { sql } = pc;
  const secondary = { sqlServerFqdn: sql.secondary.serverFqdn, ...(sql.secondary.instance ? { sqlInstanceName: sql.secondary.instance } : {}) };
  const primary = { sqlServerFqdn: sql.primary.serverFqdn, ...(sql.primary.instance ? { sqlInstanceName: sql.primary.instance } : {}) };
  const actives = recorded.activeServers ?? pc.servers.filter((s) => s.role === 'active').map((s) => s.fqdn);

  const preflight: PlanStep[] = [
    cmd('read-pchat-state', 'pchat.getState', { identity: pc.serviceIdentity }, {
      title: 'Read the Persistent Chat pool state (expected FailedOver)', site: sql.secondary.site, source,
      verification: verifyOutput('the pool is failed over', [expectEq('PoolState', 'FailedOver', 'PoolState is FailedOver')]),
    }),
    cmd('read-pchat-active-servers', 'pchat.getServices', { poolFqdn: pc.poolFqdn }, {
      title: 'Record the active servers of the failed-over pool', site: sql.secondary.site, source, records: 'preFailback.activeServers',
    }),
  ];

  const afterGate = (gateId: string, waitFor: string[]): { steps: PlanStep[]; ends: string[] } => {
    const steps: PlanStep[] = [];
    const clear = cmd('pchat-clear-active-servers', 'pchat.clearActiveServers', { identity: pc.activeServerCollectionIdentity }, {
      title: 'Empty the active-server list so nothing writes to mgc while it is copied back (-ActiveServers $null)', site: sql.secondary.site,
      dependsOn: [gateId, ...waitFor], source: `${source} step 2`,
    });
    steps.push(clear);
    let last = clear.id;
    if (recorded.mirrorInstalled) {
      const m = cmd('pchat-remove-mirroring', 'sql.removeMirroring', { ...secondary, database: 'mgc' }, {
        title: `Remove the mirroring added to the backup mgc on ${sql.secondary.serverFqdn}`, site: sql.secondary.site, dependsOn: [last], source: `${source} step 3`,
      });
      steps.push(m);
      last = m.id;
    }
    const backup = cmd('pchat-backup-mgc', 'sql.backupDatabase', { ...secondary, database: 'mgc', folder: sql.backupShare, file: FAILBACK_BACKUP_FILE }, {
      title: `Full backup of the backup mgc to the log-shipping share ${sql.backupShare}`, site: sql.secondary.site, dependsOn: [last], source: `${source} step 4`,
    });
    // A mirrored database refuses RESTORE (Msg 3104): end the primary's mirroring first, and
    // install it again once the primary serves, so the estate ends as it began.
    const unmirror = sql.mirror
      ? cmd('pchat-remove-primary-mirroring', 'sql.removeMirroring', { ...primary, database: 'mgc' }, {
        title: `End mirroring of the primary mgc on ${sql.primary.serverFqdn} (a mirrored database cannot be restored over)`, site: sql.primary.site, dependsOn: [last], source: `${source} step 5`,
      })
      : undefined;
    const restore = cmd('pchat-restore-primary-mgc', 'sql.restoreDatabaseReplace', { ...primary, database: 'mgc', folder: sql.backupShare, file: FAILBACK_BACKUP_FILE }, {
      title: `Overwrite the primary mgc on ${sql.primary.serverFqdn} with that backup (REPLACE, RECOVERY)`, site: sql.primary.site, dependsOn: [backup.id, ...(unmirror ? [unmirror.id] : [])], source: `${source} step 5`,
    });
    const state = cmd('pchat-set-normal', 'pchat.setState', { identity: pc.serviceIdentity, poolState: 'Normal' }, {
      title: `Set ${pc.poolFqdn} back to Normal: the primary mgc serves again`, site: sql.primary.site, dependsOn: [restore.id], source: `${source} step 6`,
      verification: verifyWith('Get-CsPersistentChatState shows Normal', 'pchat.getState', { identity: pc.serviceIdentity }, [expectEq('PoolState', 'Normal', 'PoolState is Normal')]),
    });
    const add = cmd('pchat-set-active-servers', 'pchat.addActiveServers', { identity: pc.activeServerCollectionIdentity, servers: actives }, {
      title: `Make ${actives.map(slug).join(', ')} active again (${origin(recorded.activeServers)})`, site: sql.primary.site, dependsOn: [state.id], source: `${source} step 7`,
      verification: verifyWith('the active list is as before the failover', 'pchat.getServices', { poolFqdn: pc.poolFqdn },
        actives.map((s) => ({ path: 'ActiveServers', op: 'includes' as const, value: s, description: `${s} is active` }))),
    });
    // No catalog command configures log shipping (it is several jobs and agent settings): the
    // operator follows TechNet jj204653; the run waits for their confirmation.
    const ls = manual('pchat-recreate-log-shipping', {
      title: `Set up log shipping of mgc again from ${sql.primary.serverFqdn} to ${sql.secondary.serverFqdn}`,
      instructions: `Configure log shipping for mgc (primary ${sql.primary.serverFqdn}${sql.primary.instance ? `\\${sql.primary.instance}` : ''}, secondary ${sql.secondary.serverFqdn}${sql.secondary.instance ? `\\${sql.secondary.instance}` : ''}, backup share ${sql.backupShare}, copy folder ${sql.copyFolder}) as in http://technet.microsoft.com/en-us/library/jj204653.aspx. Only mgc is log shipped, not mgccomp. Confirm when the first backup, copy and restore jobs have succeeded.`,
      site: sql.primary.site, dependsOn: [add.id], source: `${source} step 9`,
      // The secondary lists mgc as its log-shipping secondary again only once the DBA set it up.
      verification: verifyWith(`${sql.secondary.serverFqdn} is a log-shipping secondary of mgc again`, 'sql.logShippingSecondary', { ...secondary, database: 'mgc' }, [
        expectEq('recordsets.0.secondary_database', 'mgc', 'sp_help_log_shipping_secondary_database lists mgc'),
      ]),
      estimatedMs: 30 * DURATION.MIN, timeoutMs: 24 * 60 * DURATION.MIN,
    });
    const remirror = sql.mirror
      ? cmd('pchat-reinstall-primary-mirror', 'pchat.installMirror', { ...primary, databaseType: 'PersistentChat', fileShare: sql.backupShare, dropExistingDatabasesOnMirror: true }, {
        title: `Mirror the primary mgc to ${sql.mirror.serverFqdn} again (Install-CsMirrorDatabase)`, site: sql.primary.site, dependsOn: [state.id], source: `${source} step 8`,
      })
      : undefined;
    steps.push(backup, ...(unmirror ? [unmirror] : []), restore, state, add, ...(remirror ? [remirror] : []), ls);
    return { steps, ends: [add.id, ls.id, ...(remirror ? [remirror.id] : [])] };
  };
  return { preflight, afterGate, lock: `pchat:${pc.poolFqdn}` };
}
