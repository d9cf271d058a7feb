// The estate model's shared parts: the refusal the real products give, what a command returns,
// and the lookups and argument readers every area of the simulated estate uses.
import type { PowerShellSpec, PsArgument } from '../../../shared/commands/spec.js';
import { shareRoot, type EstateState, type PchatSqlState, type PoolState } from '../state.js';

/** Why the estate refused. `not-supported`: the simulator does not model this (not the estate's fault). */
export type RefusalKind = 'precondition' | 'not-supported';

/** The estate refused: the real cmdlet / statement would have failed the same way. */
export class PreconditionError extends Error {
  constructor(message: string, readonly category = 'InvalidOperation', readonly sqlError?: number) {
    super(message);
    this.name = 'PreconditionError';
  }
  get kind(): RefusalKind {
    return this.category === 'NotImplemented' ? 'not-supported' : 'precondition';
  }
}

export interface Applied {
  /** What the real runner would return as structured output. */
  output: unknown;
  /** Unscaled duration of the real operation, in ms. */
  durationMs: number;
  /** Console text, for commands (DBImpExp.exe) whose output is not structured. */
  stdout?: string;
}

export const S = 1000;
export const MIN = 60 * S;
/** The Backup Service syncs paired pools every 2 minutes by default. */
export const BACKUP_SYNC_INTERVAL_MS = 2 * MIN;

export const siteUp = (s: EstateState, site: string) => s.sites[site]?.up ?? false;

/** A UNC path on a share of a lost site cannot be reached, as Windows cannot reach it (pathReachable). */
export function requireShareReachable(s: EstateState, p: string): void {
  const site = shareSite(s, p);
  if (site && !siteUp(s, site)) throw new PreconditionError(`The network path '${p}' was not found: its file server is in the lost site ${site}.`, 'ConnectionError', 53);
}

export function pool(s: EstateState, fqdn: string): PoolState {
  const p = s.pools[fqdn.toLowerCase()];
  if (!p) throw new PreconditionError(`Cannot find pool "${fqdn}" in the topology.`, 'ObjectNotFound');
  return p;
}
export const poolUp = (s: EstateState, fqdn: string): boolean => {
  const p = s.pools[fqdn];
  return Boolean(p && p.up && siteUp(s, p.site));
};
export const cmsReachable = (s: EstateState): boolean => poolUp(s, s.cms.pool);
/** The pool whose Registrar serves a pool's users right now. */
export const servingPool = (p: PoolState): string => (p.failedOver && p.backupPool ? p.backupPool : p.fqdn);

export function requireCms(s: EstateState, what: string): void {
  if (!cmsReachable(s)) {
    throw new PreconditionError(
      `${what}: cannot read or publish the topology: the Central Management Store on ${s.cms.pool} is unreachable. ` +
      'Fail the CMS over (Invoke-CsManagementServerFailover) first.', 'ConnectionError');
  }
}

/**
 * When the pair last synced: every BACKUP_SYNC_INTERVAL_MS while both pools are up; frozen at
 * the last sync before one of them went down (that age is the RPO of a failover now).
 */
export function lastBackupSync(s: EstateState, p: PoolState, now: Date): string {
  const stored = Date.parse(p.lastBackupSyncAt);
  if (!p.backupPool || !poolUp(s, p.fqdn) || !poolUp(s, p.backupPool)) return p.lastBackupSyncAt;
  const tick = now.getTime() - (now.getTime() % BACKUP_SYNC_INTERVAL_MS);
  return new Date(Math.max(stored, tick)).toISOString();
}

export function argument(spec: PowerShellSpec, name: string): PsArgument | undefined {
  return spec.arguments.find((a) => a.name.toLowerCase() === name.toLowerCase());
}
export function stringArg(spec: PowerShellSpec, name: string, required = true): string | undefined {
  const a = argument(spec, name);
  if (a?.kind === 'value' && typeof a.value === 'string') return a.value;
  if (required) throw new PreconditionError(`Cannot bind parameter '${name}': it is missing.`, 'InvalidArgument');
  return undefined;
}
export function switchArg(spec: PowerShellSpec, name: string): boolean {
  const a = argument(spec, name);
  return a?.kind === 'switch' ? a.value : false;
}
/** "Registrar:pool.fqdn" / "EdgeServer:edge.fqdn" / "PersistentChatServer:x" -> the fqdn. */
export const afterColon = (identity: string) => identity.slice(identity.indexOf(':') + 1).toLowerCase();
export const sameText = (a: string | undefined, b: string | undefined) => (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
export const normPath = (p: string) => p.replace(/\\+$/, '').toLowerCase();
export const joinWin = (folder: string, file: string) => `${folder.replace(/\\+$/, '')}\\${file}`;
export const splitWin = (p: string) => ({ folder: p.slice(0, p.lastIndexOf('\\')), name: p.slice(p.lastIndexOf('\\') + 1) });

export function needPchat(s: EstateState): { pchat: NonNullable<EstateState['pchat']>; sql: PchatSqlState } {
  if (!s.pchat || !s.pchatSql) throw new PreconditionError('This topology has no Persistent Chat pool.', 'ObjectNotFound');
  return { pchat: s.pchat, sql: s.pchatSql };
}

/**
 * The site of a server the estate knows (a pool and its store, an Edge pool, a Persistent Chat
 * server or SQL host); undefined for one it does not place, such as a DFS namespace server.
 */
export function hostSite(s: EstateState, server: string): string | undefined {
  const name = server.toLowerCase();
  const pool = Object.values(s.pools).find((p) => p.fqdn === name || p.backEnd.server === name);
  if (pool) return pool.site;
  const placed = [...Object.values(s.edges), ...(s.pchat?.servers ?? [])].find((x) => x.fqdn === name);
  if (placed) return placed.site;
  return [s.pchatSql?.primary, s.pchatSql?.secondary].find((h) => h?.server === name)?.site;
}

/**
 * The site a UNC path (\\server\share\...) lives in: the share's site as the topology places it
 * (persistentChat.sql.backupShareSite), else its server's. Local paths and servers the estate does
 * not place (a DFS share, reachable from every site) have none.
 */
function shareSite(s: EstateState, path: string): string | undefined {
  if (!path.startsWith('\\\\')) return undefined;
  const server = /^\\\\([^\\]+)\\/.exec(path)?.[1];
  return s.shareSites[shareRoot(path)] ?? (server ? hostSite(s, server) : undefined);
}
/** Whether Windows could reach the path now: "The network path was not found" when its site is down. */
export function pathReachable(s: EstateState, path: string): boolean {
  const site = shareSite(s, path);
  return !site || siteUp(s, site);
}

export type SqlHost = PchatSqlState['primary'];

/** A SQL instance of the estate (pChat primary / secondary); connecting fails like the real client when it is down. */
export function sqlHost(s: EstateState, server: string, instance: string | undefined): SqlHost {
  const hosts = s.pchatSql ? [s.pchatSql.primary, s.pchatSql.secondary] : [];
  const host = hosts.find((h) => h.server === server.toLowerCase());
  const name = instance ? `${server}\\${instance}` : server;
  if (!host || !sameText(host.instance, instance)) {
    throw new PreconditionError(`A network-related or instance-specific error occurred while establishing a connection to SQL Server '${name}'. The server was not found or was not accessible.`, 'ConnectionError', 53);
  }
  if (!host.up || !siteUp(s, host.site)) {
    throw new PreconditionError(`A network-related or instance-specific error occurred while establishing a connection to SQL Server '${name}'. The server was not found or was not accessible.`, 'ConnectionError', 53);
  }
  return host;
}

/** "server.fqdn\INSTANCE" (-DBInstance) -> the pChat SQL host. */
export function dbInstanceHost(s: EstateState, dbInstance: string): SqlHost {
  const [server, instance] = dbInstance.split('\\');
  return sqlHost(s, server, instance);
}

export function exportFile(s: EstateState, path: string, kind: string, source: string, now: Date, failIfExists = false, users?: number): void {
  const key = normPath(path);
  if (failIfExists && s.exports[key]) throw new PreconditionError(`The file "${path}" already exists.`, 'ResourceExists');
  s.exports[key] = { path, kind, source, at: now.toISOString(), ...(users === undefined ? {} : { users }) };
}
/**
 * Only a file the estate wrote exists: a restore from a night whose export never ran (or from a
 * mistyped date) is refused as the real tools refuse a missing file.
 */
export function requireFile(s: EstateState, path: string, what: string): void {
  if (s.exports[normPath(path)]) return;
  throw new PreconditionError(`${what}: could not find file "${path}".`, 'ObjectNotFound');
}

export type PsHandler = (s: EstateState, spec: PowerShellSpec, now: Date, workerSite: string | undefined) => Applied;

export type Credential = EstateState['vaults'][string][string];

/**
 * A credential argument as the worker's PowerShell resolves it: Get-Secret from the vault of the
 * worker that runs the command (by hand: any worker's). Missing: the error Get-Secret gives.
 */
export function credentialArg(s: EstateState, spec: PowerShellSpec, name: string, workerSite: string | undefined): Credential | undefined {
  const a = argument(spec, name);
  if (!a) return undefined;
  if (a.kind !== 'credential') throw new PreconditionError(`Cannot bind parameter '${name}': a PSCredential is expected.`, 'InvalidArgument');
  const vaults = workerSite === undefined ? Object.values(s.vaults) : [s.vaults[workerSite] ?? {}];
  const found = vaults.map((v) => v[a.secret]).find(Boolean);
  if (!found) {
    throw new PreconditionError(`lyncdr: cannot read the credential '${a.secret}' from the vault${workerSite ? ` of the worker of site ${workerSite}` : ''}: Get-Secret: The secret ${a.secret} was not found.`, 'ObjectNotFound');
  }
  return found;
}
export const nothing = (durationMs: number): Applied => ({ output: [], durationMs });
