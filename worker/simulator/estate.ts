// The simulated Lync / SQL estate: interprets the same ExecutionSpec the PowerShell and SQL
// runners execute, against the state model, and enforces the preconditions the real products
// enforce. Pure with respect to I/O: `apply` mutates the given state and returns the output,
// so what-if runs it on a copy and the executor persists the result.
//
// Outputs have the shapes the real runners produce, so a plan's verification paths work the
// same in a drill and in production: PowerShell output is the parsed `ConvertTo-Json @($result)`
// (always an array, empty when the cmdlet writes nothing), SQL output is mssql's
// `{ recordsets, rowsAffected }`, file output is the FileExecutor's array.
//
// One file per area under estate/; this one routes a spec to its area and holds the estate-wide
// operations (a site or server going down, the DBA re-creating log shipping).
import type { ExecutionSpec, PowerShellSpec } from '../../shared/commands/spec.js';
import { logBackupName, logShippingChain, type EstateState } from './state.js';
import { dnsCmdlet } from './estate/dns.js';
import { runExe, runFile } from './estate/files.js';
import { lyncCmdlets } from './estate/lync-cmdlets.js';
import { argument, lastBackupSync, needPchat, PreconditionError, requireShareReachable, S, sqlHost, switchArg, type Applied, type PsHandler } from './estate/model.js';
import { pchatCmdlets } from './estate/pchat-cmdlets.js';
import { runSql } from './estate/sql.js';
import { userCmdlets } from './estate/users.js';
import { requireCmdletInVersion } from './estate/versions.js';

export { BACKUP_SYNC_INTERVAL_MS, cmsReachable, lastBackupSync, poolUp, PreconditionError, servingPool, type Applied, type RefusalKind } from './estate/model.js';

const cmdlets: Record<string, PsHandler> = { ...lyncCmdlets, ...pchatCmdlets, ...userCmdlets };

function runPowerShell(s: EstateState, spec: PowerShellSpec, now: Date, workerSite: string | undefined): Applied {
  if (switchArg(spec, 'WhatIf')) {
    // -WhatIf: the cmdlet validates and describes, and changes nothing.
    const applied = applyPs(structuredClone(s), spec, now, workerSite);
    return { output: { WhatIf: true, WouldReturn: applied.output }, durationMs: 2 * S };
  }
  return applyPs(s, spec, now, workerSite);
}
function applyPs(s: EstateState, spec: PowerShellSpec, now: Date, workerSite: string | undefined): Applied {
  if (/DnsServerResourceRecord/i.test(spec.cmdlet)) return dnsCmdlet(s, spec);
  requireCmdletInVersion(s.product, spec.cmdlet);
  // Install-CsMirrorDatabase -FileShare (and any cmdlet given a share): a lost site's share is unreachable.
  const share = argument(spec, 'FileShare');
  if (share?.kind === 'value' && typeof share.value === 'string') requireShareReachable(s, share.value);
  const h = cmdlets[spec.cmdlet.toLowerCase()];
  if (!h) throw new PreconditionError(`The simulated estate does not implement ${spec.cmdlet}.`, 'NotImplemented');
  return h(s, spec, now, workerSite);
}
/**
 * Applies one spec to the state (mutating it). Throws PreconditionError when the estate refuses.
 * `workerSite`: the site whose worker runs it (its secret vault answers credential arguments);
 * absent for work done by hand.
 */
export function applySpec(s: EstateState, spec: ExecutionSpec, now: Date, workerSite?: string): Applied {
  switch (spec.kind) {
    case 'powershell':
      return runPowerShell(s, spec, now, workerSite);
    case 'sql':
      return runSql(s, spec, now);
    case 'file':
      return runFile(s, spec);
    case 'exe':
      return runExe(s, spec, now);
  }
}

/**
 * The worker of a lost site is in the disaster: it reaches no server, so it runs nothing. The
 * refusal is a precondition (permanent to the executor from version 10): retrying meets the same
 * lost site; the plan must run the step on a surviving site's worker.
 */
export function refuseInLostSite(s: EstateState, workerSite: string | undefined): void {
  if (workerSite === undefined || !s.sites[workerSite] || s.sites[workerSite].up) return;
  throw new PreconditionError(`The worker's site "${workerSite}" is down (disaster): no server can be reached from it. Run the step on a worker of a surviving site.`, 'ResourceUnavailable');
}

/** Takes a site or a pool / SQL server (FQDN) down, as a disaster would; `recover` brings it back. */
export function setDown(s: EstateState, target: string, down = true, now = new Date()): string {
  const t = target.toLowerCase();
  // Freeze each pair's last backup sync at the moment it breaks (that age becomes the RPO).
  for (const p of Object.values(s.pools)) p.lastBackupSyncAt = lastBackupSync(s, p, now);
  if (s.sites[t]) {
    s.sites[t].up = !down;
    return `site ${t}`;
  }
  if (s.pools[t]) {
    s.pools[t].up = !down;
    return `pool ${t}`;
  }
  const host = s.pchatSql && [s.pchatSql.primary, s.pchatSql.secondary].find((h) => h.server === t);
  if (host) {
    host.up = !down;
    return `SQL server ${t}`;
  }
  throw new PreconditionError(`"${target}" is neither a site (${Object.keys(s.sites).join(', ')}), a pool (${Object.keys(s.pools).join(', ')}) nor a Persistent Chat SQL server.`, 'ObjectNotFound');
}

/**
 * The DBA re-creates log shipping of mgc after a failback (a manual step in the runbooks): a full
 * backup of the primary is restored on the secondary WITH NORECOVERY and the backup / copy /
 * restore jobs start again. Refused unless the primary is online and log shipping is removed.
 */
export function reestablishLogShipping(s: EstateState, now: Date): string {
  const { sql } = needPchat(s);
  if (sql.logShipping.configured) throw new PreconditionError('Log shipping of mgc is already configured.');
  sqlHost(s, sql.primary.server, sql.primary.instance);
  sqlHost(s, sql.secondary.server, sql.secondary.instance);
  if (sql.primary.mgc !== 'ONLINE') throw new PreconditionError(`mgc on the primary "${sql.primary.server}" is ${sql.primary.mgc}: bring it online first.`);
  if (sql.secondary.mirror) throw new PreconditionError(`mgc on "${sql.secondary.server}" is mirrored: remove mirroring before it can become a log-shipping secondary again.`);
  const firstSeq = Math.max(sql.secondary.lastRestoredSeq, ...sql.backupShare.files.map((f) => f.seq)) + 100;
  const chain = logShippingChain(sql, now, { firstSeq, total: 3, copied: 2, restored: 1 });
  sql.backupShare.files = chain.shareFiles;
  sql.copyFolder.files = chain.copyFiles;
  sql.secondary.mgc = 'RESTORING';
  sql.secondary.recovered = false;
  sql.secondary.lastRestoredSeq = chain.lastRestoredSeq;
  sql.logShipping = { configured: true, monitor: chain.monitor };
  return `log shipping of mgc re-created from ${sql.primary.server} to ${sql.secondary.server} (first log ${logBackupName('mgc', now)})`;
}
