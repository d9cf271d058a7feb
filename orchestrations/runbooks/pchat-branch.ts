// The Persistent Chat database failover (seed 001 scenario 2A step 2-5, 3A), shared by
// site-failover and pchat-pool-failover. Order matters and is encoded as dependencies:
// the log-shipping monitor is read before sp_delete_log_shipping_secondary_database (which
// deletes that history), log backups are restored one at a time in sequence, and the pool
// state changes only after the database has been recovered.
import type { PchatSql, Topology } from '../../shared/topology/schema.js';
import type { PlanStep } from '../../shared/plan/schema.js';
import { PCHAT_USERS_PER_ACTIVE_SERVER, PCHAT_MAX_ACTIVE_SERVERS } from '../../shared/topology/rules.js';
import { cmd, expectEq, manual, verifyOutput, verifyWith, DURATION, PlanBuildError } from './steps.js';
import { requirePchat, slug, thousands } from './estate.js';

export interface PchatFailoverInput {
  /** The site the pChat service leaves; the SQL secondary and the new actives are elsewhere. */
  failedSite: string;
  /** Unapplied log backups in sequence, when known (e.g. re-planned after the pre-flight reads). */
  logBackups?: string[];
  installMirror: boolean;
  source: string;
}

export interface PchatFailover {
  survivingSite: string;
  preflight: PlanStep[];
  /** `waitFor`: other branches that must finish before the pool state changes. */
  afterGate: (gateId: string, waitFor: string[]) => { steps: PlanStep[]; ends: string[] };
  lock: string;
  newActiveServers: string[];
}

/**
 * The share a file step of the failover can use: backupShare unless its file server is in the
 * failed site (then the secondary's own share, if the topology names one). A DFS share
 * (no backupShareSite) is reachable from every site.
 */
export function survivingShare(sql: PchatSql, failedSite: string): string | undefined {
  if (sql.backupShareSite !== failedSite) return sql.backupShare;
  return sql.secondaryShare;
}

export function pchatFailover(t: Topology, input: PchatFailoverInput): PchatFailover {
  const pc = requirePchat(t);
  const { sql } = pc;
  const sqlSite = sql.secondary.site;
  if (sqlSite === input.failedSite) {
    throw new PlanBuildError(`the log-shipping secondary ${sql.secondary.serverFqdn} is in the failed site ${input.failedSite}: there is no copy of mgc to fail over to`);
  }
  const server = { sqlServerFqdn: sql.secondary.serverFqdn, ...(sql.secondary.instance ? { sqlInstanceName: sql.secondary.instance } : {}) };
  const candidates = pc.servers.filter((s) => s.site !== input.failedSite).map((s) => s.fqdn);
  if (!candidates.length) throw new PlanBuildError(`no Persistent Chat server outside ${input.failedSite} can become active`);
  const newActive = candidates.slice(0, PCHAT_MAX_ACTIVE_SERVERS);
  const needed = Math.ceil(pc.concurrentUsers / PCHAT_USERS_PER_ACTIVE_SERVER);
  const src = input.source;

  const preflight: PlanStep[] = [
    cmd('read-pchat-log-shipping', 'sql.logShippingMonitor', { ...server, database: 'mgc' }, {
      title: `Read mgc's last copied and last restored log backup on ${sql.secondary.serverFqdn} (the Persistent Chat RPO)`,
      site: sqlSite, source: src, records: 'pchat.logShippingMonitor',
      preconditions: ['read before log shipping is removed: sp_delete_log_shipping_secondary_database deletes this history'],
    }),
    cmd('read-pchat-active-servers', 'pchat.getServices', { poolFqdn: pc.poolFqdn }, {
      title: `Record ${pc.poolFqdn}'s active servers so the failback can restore them`, site: sqlSite, source: src, records: 'preFailover.activeServers',
    }),
    cmd('read-pchat-state', 'pchat.getState', { identity: pc.serviceIdentity }, {
      title: `Read the Persistent Chat pool state (expected Normal)`, site: sqlSite, source: src,
      verification: verifyOutput('the pool is not already failed over', [expectEq('PoolState', 'Normal', 'PoolState is Normal')]),
    }),
  ];

  const afterGate = (gateId: string, waitFor: string[]): { steps: PlanStep[]; ends: string[] } => {
    const steps: PlanStep[] = [];
    const removeLs = cmd('pchat-remove-log-shipping', 'sql.deleteLogShippingSecondary', { ...server, database: 'mgc' }, {
      title: `Remove log shipping of mgc on ${sql.secondary.serverFqdn} (in master)`, site: sqlSite, dependsOn: [gateId, 'read-pchat-log-shipping'], source: `${src} step 2.1`,
      preconditions: ['the log-shipping monitor state has been recorded (pchat.logShippingMonitor)'],
    });
    steps.push(removeLs);
    let last = removeLs.id;
    // The log backups are in the secondary's copy folder, and on the share only while it is reachable.
    const shareReachable = sql.backupShareSite !== input.failedSite;
    if (input.logBackups?.length) {
      const files = input.logBackups;
      if (shareReachable) {
          const copy = cmd('pchat-copy-log-backups', 'file.copyLogBackups', { backupShare: sql.backupShare, copyFolder: sql.copyFolder, files }, {
          title: `Copy ${files.length} log backup(s) not yet copied from ${sql.backupShare} to ${sql.copyFolder}`, site: sqlSite, dependsOn: [last], source: `${src} step 2.2`,
          estimatedMs: 10 * DURATION.S + files.length * 5 * DURATION.S,
        });
        steps.push(copy);
        last = copy.id;
      }
      files.forEach((file, i) => {
        const r = cmd(`pchat-restore-log-${i + 1}`, 'sql.restoreLog', { ...server, database: 'mgc', folder: sql.copyFolder, file }, {
          title: `Apply log backup ${i + 1} of ${files.length} (${file}) WITH NORECOVERY`, site: sqlSite, dependsOn: [last], source: `${src} step 2.3`,
          preconditions: [i === 0 ? 'the first log backup after pchat.logShippingMonitor last_restored_file' : `log backup ${i} has been applied`],
        });
        steps.push(r);
        last = r.id;
      });
    } else {
      // Which files are unapplied is known only once the monitor has been read; without them the
      // operator applies them (or the run is re-planned with logBackups from pchat.logShippingMonitor).
      const listed = shareReachable ? sql.backupShare : sql.copyFolder;
      const list = cmd('pchat-list-log-backups', 'file.listLogBackups', { folder: listed, database: 'mgc' }, {
        title: `List mgc's log backups on ${listed}${shareReachable ? '' : ` (${sql.backupShare} is in the failed site)`}`, site: sqlSite, dependsOn: [last], source: `${src} step 2.2`, records: 'pchat.logBackupsOnShare',
      });
      const apply = manual('pchat-apply-log-backups', {
        title: 'Copy and apply the unapplied log backups in sequence WITH NORECOVERY',
        instructions: `Take the files in pchat.logBackupsOnShare that come after last_restored_file in pchat.logShippingMonitor. ${shareReachable ? `Copy those not yet in ${sql.copyFolder} from ${sql.backupShare}, then on` : `${sql.backupShare} is in the failed site: only those in ${sql.copyFolder} can be applied. On`} ${sql.secondary.serverFqdn}${sql.secondary.instance ? `\\${sql.secondary.instance}` : ''} run, oldest first, for each: RESTORE LOG [mgc] FROM DISK = N'${sql.copyFolder}\\<file>' WITH NORECOVERY; Stop at the first error (Msg 4305: a file is missing from the chain). Or re-plan with --option logBackups=<file,file,...> to have lyncdr do it.`,
        site: sqlSite, dependsOn: [list.id], source: `${src} steps 2.2-2.3`,
        // Recovery cannot be undone: the newest log backup listed must be the last one restored.
        verification: verifyWith('the newest log backup on the share is the last one restored into mgc', 'sql.lastRestoredBackup', { ...server, database: 'mgc' }, [{
          path: 'recordsets.0.physical_device_name', op: 'endsWith', from: { record: 'pchat.logBackupsOnShare', path: 'Name', pick: 'max' },
          description: 'the last restored backup is the newest file in pchat.logBackupsOnShare',
        }]),
        estimatedMs: 5 * DURATION.MIN, timeoutMs: 2 * 60 * DURATION.MIN,
      });
      steps.push(list, apply);
      last = apply.id;
    }
    const sessions = cmd('pchat-check-sessions', 'sql.listSessions', { ...server, database: 'mgc' }, {
      title: 'Confirm no session is connected to mgc before recovery', site: sqlSite, dependsOn: [last], source: `${src} step 2.4`,
      // A restoring database accepts no user sessions; any listed must be ended (KILL) first.
      // "equals" with no value means absent: an empty result has no spid (shared/runs/expect.ts).
      verification: verifyOutput('nothing holds mgc', [{ path: 'spid', op: 'equals', description: 'no session on mgc (else end each with KILL <spid>)' }]),
    });
    const recover = cmd('pchat-recover-mgc', 'sql.recoverDatabase', { ...server, database: 'mgc' }, {
      title: `Bring mgc online on ${sql.secondary.serverFqdn} (RESTORE DATABASE mgc WITH RECOVERY)`, site: sqlSite, dependsOn: [sessions.id], source: `${src} step 2.5`,
      preconditions: ['every unapplied log backup has been restored: no more can be applied after recovery'],
    });
    const state = cmd('pchat-set-failed-over', 'pchat.setState', { identity: pc.serviceIdentity, poolState: 'FailedOver' }, {
      title: `Set ${pc.poolFqdn} to FailedOver: the backup mgc becomes the primary`, site: sqlSite, dependsOn: [recover.id, ...waitFor], source: `${src} step 3`,
      verification: verifyWith('Get-CsPersistentChatState shows FailedOver', 'pchat.getState', { identity: pc.serviceIdentity }, [expectEq('PoolState', 'FailedOver', 'PoolState is FailedOver')]),
    });
    // More than 4 actives is refused, and the failed site's servers are gone: empty the list first.
    const clear = cmd('pchat-clear-active-servers', 'pchat.clearActiveServers', { identity: pc.activeServerCollectionIdentity }, {
      title: 'Empty the active-server list (the recorded list is kept in preFailover.activeServers)', site: sqlSite, dependsOn: [state.id, 'read-pchat-active-servers'], source: `${src} step 4`,
    });
    const add = cmd('pchat-set-active-servers', 'pchat.addActiveServers', { identity: pc.activeServerCollectionIdentity, servers: newActive }, {
      title: `Make ${newActive.map(slug).join(', ')} active (${newActive.length} x 20,000 users; ${thousands(pc.concurrentUsers)} concurrent users need ${needed})`,
      site: sqlSite, dependsOn: [clear.id], source: `${src} step 4`,
      ...(newActive.length < needed ? { preconditions: [`capacity: ${newActive.length} active servers carry about ${thousands(newActive.length * PCHAT_USERS_PER_ACTIVE_SERVER)} users, fewer than ${thousands(pc.concurrentUsers)}`] } : {}),
      verification: verifyWith('the active list is the surviving servers', 'pchat.getServices', { poolFqdn: pc.poolFqdn }, [
        ...newActive.map((s) => ({ path: 'ActiveServers', op: 'includes' as const, value: s, description: `${s} is active` })),
      ]),
    });
    steps.push(sessions, recover, state, clear, add);
    const ends = [add.id];
    if (input.installMirror) {
      const m = sql.backupMirror;
      if (!m) throw new PlanBuildError('installMirror: the topology has no persistentChat.sql.backupMirror to mirror the new primary to');
      // Install-CsMirrorDatabase backs mgc up to -FileShare: a share of the lost site is unreachable.
      const fileShare = survivingShare(sql, input.failedSite);
      if (!fileShare) throw new PlanBuildError(`installMirror: the backup share ${sql.backupShare} is in the failed site ${input.failedSite}; name a share in ${sqlSite} as persistentChat.sql.secondaryShare for Install-CsMirrorDatabase -FileShare`);
      const mirror = cmd('pchat-install-mirror', 'pchat.installMirror', { ...server, databaseType: 'PersistentChat', fileShare }, {
        title: `Mirror the new primary mgc to ${m.serverFqdn} (optional, recommended)`, site: sqlSite, dependsOn: [add.id], source: `${src} step 5`,
      });
      steps.push(mirror);
      ends.splice(0, 1, mirror.id);
    }
    return { steps, ends };
  };

  return { survivingSite: sqlSite, preflight, afterGate, lock: `pchat:${pc.poolFqdn}`, newActiveServers: newActive };
}
