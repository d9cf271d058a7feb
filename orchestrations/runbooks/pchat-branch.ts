// The Persistent Chat database failover (seed 001 scenario 2A step 2-5, 3A), shared by
// site-failover and pchat-pool-failover. Order matters and is encoded as dependencies:
// the log-shipping monitor is read before sp_delete_log_shipping_secondary_database (which
// deletes that history), the log tail is found from reads and restored one file at a time in
// sequence, RECOVERY waits until nothing known is left unapplied, and the pool state changes only
// after the database has been recovered.
import type { PchatSql, Topology } from '../../shared/topology/schema.js';
import type { PlanStep } from '../../shared/plan/schema.js';
import { LOG_TAIL_RECORD, LOG_TAIL_RESTORED } from '../../shared/runs/log-tail-records.js';
import { PCHAT_USERS_PER_ACTIVE_SERVER, PCHAT_MAX_ACTIVE_SERVERS } from '../../shared/topology/rules.js';
import { cmd, expectEq, verifyOutput, verifyWith, DURATION, PlanBuildError } from './steps.js';
import { requirePchat, slug, thousands } from './estate.js';

export interface PchatFailoverInput {
  /** The site the pChat service leaves; the SQL secondary and the new actives are elsewhere. */
  failedSite: string;
  /**
   * The whole site is lost (site-failover), its file servers with it; false when only the pChat
   * pool and its SQL are (pchat-pool-failover, seed 001 3A): the site's file server still answers.
   */
  siteLost: boolean;
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
 * (backupShareSite: dfs) is reachable from every site.
 */
export function survivingShare(sql: PchatSql, lostSite: string | undefined): string | undefined {
  if (sql.backupShareSite !== lostSite) return sql.backupShare;
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
  // The site whose file servers went down with it: none when only the pChat pool was lost.
  const lostSite = input.siteLost ? input.failedSite : undefined;

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
    // The tail: what the secondary has not restored, found from a read (msdb's restore history
    // against the files present), in its copy folder and on the share only while the share is
    // reachable. No file name travels in the plan: the worker keeps the list it read.
    const shareReachable = sql.backupShareSite !== lostSite;
    const where = { ...server, database: 'mgc', copyFolder: sql.copyFolder };
    const listed = { ...where, ...(shareReachable ? { backupShare: sql.backupShare } : {}) };
    const list = cmd('pchat-list-unapplied-logs', 'sql.listUnappliedLogs', listed, {
      title: `List mgc's log backups not yet restored, in ${sql.copyFolder}${shareReachable ? ` and on ${sql.backupShare}` : ` (${sql.backupShare} is in the failed site: files only there are lost)`}`,
      site: sqlSite, dependsOn: [removeLs.id], source: `${src} step 2.2`, records: LOG_TAIL_RECORD,
    });
    const restore = cmd('pchat-restore-log-backups', 'sql.restoreRecordedLogs', { ...where, recorded: LOG_TAIL_RECORD }, {
      title: `Restore the listed log backups into mgc one at a time, oldest first, WITH NORECOVERY${shareReachable ? ` (copying those only on ${sql.backupShare})` : ''}`,
      site: sqlSite, dependsOn: [list.id], source: `${src} steps 2.2-2.3`, records: LOG_TAIL_RESTORED,
      estimatedMs: 5 * DURATION.MIN,
    });
    // RECOVERY cannot be undone: after it no log backup can be applied. The guard reads again what
    // is left; anything left stops the run with the files and the times they cover, and only an
    // operator's decision (audited with that finding) goes on without them.
    const guard = cmd('pchat-check-log-tail', 'sql.listUnappliedLogs', listed, {
      title: 'Refuse RECOVERY while a known log backup of mgc is unapplied (going on loses the transactions in it)',
      site: sqlSite, dependsOn: [restore.id], source: `${src} step 2.3`,
      verification: verifyOutput('every known log backup of mgc has been restored', [
        { path: 'Count', op: 'equals', value: 0, description: 'no known log backup is left unapplied' },
        { path: 'Name', op: 'equals', description: 'none is named (recovering now loses the transactions of each one named)' },
        { path: 'LastWriteTimeUtc', op: 'equals', description: 'none is dated (the times named are the range lost)' },
      ]),
    });
    steps.push(list, restore, guard);
    const sessions = cmd('pchat-check-sessions', 'sql.listSessions', { ...server, database: 'mgc' }, {
      title: 'Confirm no session is connected to mgc before recovery', site: sqlSite, dependsOn: [guard.id], source: `${src} step 2.4`,
      // A restoring database accepts no user sessions; any listed must be ended (KILL) first.
      // "equals" with no value means absent: an empty result has no spid (shared/runs/expect.ts).
      verification: verifyOutput('nothing holds mgc', [{ path: 'spid', op: 'equals', description: 'no session on mgc (else end each with KILL <spid>)' }]),
    });
    const recover = cmd('pchat-recover-mgc', 'sql.recoverDatabase', { ...server, database: 'mgc' }, {
      title: `Bring mgc online on ${sql.secondary.serverFqdn} (RESTORE DATABASE mgc WITH RECOVERY)`, site: sqlSite, dependsOn: [sessions.id], source: `${src} step 2.5`,
      preconditions: ['pchat-check-log-tail found no known log backup unapplied, or an operator accepted the loss it named: no more can be applied after recovery'],
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
      const fileShare = survivingShare(sql, lostSite);
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
