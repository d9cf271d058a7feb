// Runbook 7b, pchat-restore (seed 001 scenario 4B): put back Persistent Chat data lost to
// deletion or corruption. An export (.zip) goes back with Import-CsPersistentChatData; a SQL
// backup (.bak) with a SQL restore, while no pChat server is active. Both overwrite live data,
// so a 'destructive-restore' approval comes first and the current data is exported beside the
// file before it is overwritten, in case the wrong file was chosen.
import { z } from 'zod';
import { uncPath, windowsPath } from '../../shared/commands/values.js';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan, PlanStep } from '../../shared/plan/schema.js';
import { cmd, expectEq, gate, PlanBuildError, verifyWith } from './steps.js';
import { poolFailoverTargets, requirePchat } from './estate.js';

export const PchatRestoreOptions = z.strictObject({
  /** The export (.zip) or SQL backup (.bak, on a UNC share) to restore. */
  file: windowsPath.refine((s) => /\.(zip|bak)$/i.test(s), 'must be an Export-CsPersistentChatData .zip or a SQL .bak file'),
  /** Restore into the primary (normal) or the secondary (while failed over). */
  into: z.enum(['primary', 'secondary']).default('primary'),
});
export type PchatRestoreOptions = z.infer<typeof PchatRestoreOptions>;

const SOURCE = 'seed 001 scenario 4B';

function split(path: string): { folder: string; name: string } {
  const i = path.lastIndexOf('\\');
  return { folder: path.slice(0, i), name: path.slice(i + 1) };
}

export function buildPchatRestore(t: Topology, options: PchatRestoreOptions): Plan {
  const pc = requirePchat(t);
  const sql = pc.sql[options.into];
  const server = { sqlServerFqdn: sql.serverFqdn, ...(sql.instance ? { sqlInstanceName: sql.instance } : {}) };
  const { folder, name } = split(options.file);
  const isBak = /\.bak$/i.test(name);
  const safety = `${folder}\\before-restore-${name.replace(/\.(zip|bak)$/i, '')}.zip`;
  const site = sql.site;

  const preflight: PlanStep[] = [
    cmd('read-pchat-state', 'pchat.getState', { identity: pc.serviceIdentity }, { title: 'Read the Persistent Chat pool state', site, source: SOURCE, records: 'preRestore.pchatState' }),
  ];
  const approve = gate('approve-restore', {
    title: `Approve overwriting Persistent Chat data on ${sql.serverFqdn} from ${name}`,
    policy: 'destructive-restore',
    reason: `${isBak ? 'RESTORE DATABASE mgc WITH REPLACE' : 'Import-CsPersistentChatData'} overwrites the rooms, principals and permissions in mgc on ${sql.serverFqdn} with the contents of ${options.file}. Changes made since that file was taken are lost. The current data is exported to ${safety} first.`,
    startsRtoClock: true,
    dependsOn: preflight.map((s) => s.id),
  });
  const keep = cmd('pchat-export-current', 'pchat.exportData', { ...server, fileName: safety }, {
    title: `Export the current data to ${safety} before overwriting it`, site, dependsOn: [approve.id], source: SOURCE,
  });
  const steps: PlanStep[] = [...preflight, approve, keep];
  if (!isBak) {
    steps.push(cmd('pchat-import', 'pchat.importData', { ...server, fileName: options.file }, {
      title: `Import ${name} into mgc on ${sql.serverFqdn}`, site, dependsOn: [keep.id], source: SOURCE,
    }));
  } else {
    const share = uncPath.safeParse(folder);
    if (!share.success) throw new PlanBuildError(`file: a SQL backup must be on a UNC share the SQL server can read (\\\\server\\share\\...), not ${folder}`);
    // A SQL restore needs mgc to itself: no pChat server may be active while it runs.
    const actives = pc.servers.filter((s) => s.role === 'active').map((s) => s.fqdn);
    const read = cmd('read-pchat-active-servers', 'pchat.getServices', { poolFqdn: pc.poolFqdn }, { title: 'Record the active servers', site, dependsOn: [approve.id], source: SOURCE, records: 'preRestore.activeServers' });
    const clear = cmd('pchat-clear-active-servers', 'pchat.clearActiveServers', { identity: pc.activeServerCollectionIdentity }, { title: 'Empty the active-server list so nothing uses mgc', site, dependsOn: [keep.id, read.id], source: SOURCE });
    const restore = cmd('pchat-restore-mgc', 'sql.restoreDatabaseReplace', { ...server, database: 'mgc', folder, file: name }, {
      title: `Restore mgc on ${sql.serverFqdn} from ${name} (REPLACE, RECOVERY)`, site, dependsOn: [clear.id], source: SOURCE,
    });
    const add = cmd('pchat-set-active-servers', 'pchat.addActiveServers', { identity: pc.activeServerCollectionIdentity, servers: actives }, {
      title: 'Make the configured active servers active again', site, dependsOn: [restore.id], source: SOURCE,
      verification: verifyWith('the pool state is unchanged', 'pchat.getState', { identity: pc.serviceIdentity }, [expectEq('PoolState', options.into === 'primary' ? 'Normal' : 'FailedOver', 'the pool state is as before')]),
    });
    steps.push(read, clear, restore, add);
  }
  return {
    v: 1,
    runbook: 'pchat-restore',
    title: `Restore Persistent Chat data on ${sql.serverFqdn} from ${name}`,
    options: { ...options },
    steps,
    targets: { ...poolFailoverTargets(t), source: `${poolFailoverTargets(t).source}; the data is as old as the file restored` },
    pchatUsersReconnecting: isBak ? pc.concurrentUsers : 0,
    locks: [`pchat:${pc.poolFqdn}`],
  };
}
