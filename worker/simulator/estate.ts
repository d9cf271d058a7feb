// The simulated Lync / SQL estate: interprets the same ExecutionSpec the PowerShell and SQL
// runners execute, against the state model, and enforces the preconditions the real products
// enforce. Pure with respect to I/O: `apply` mutates the given state and returns the output,
// so what-if runs it on a copy and the executor persists the result.
//
// Outputs have the shapes the real runners produce, so a plan's verification paths work the
// same in a drill and in production: PowerShell output is the parsed `ConvertTo-Json @($result)`
// (always an array, empty when the cmdlet writes nothing), SQL output is mssql's
// `{ recordsets, rowsAffected }`, file output is the FileExecutor's array.
import type { ExecutionSpec, PowerShellSpec, PsArgument, SqlSpec, FileSpec, ExeSpec } from '../../shared/commands/spec.js';
import { refusePoolFailoverWhileEdgeRoutesTo } from './edge-next-hop.js';
import { logBackupName, logShippingChain, lsn, type EstateState, type LogBackupFile, type PchatSqlState, type PoolState } from './state.js';

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

const S = 1000;
const MIN = 60 * S;
/** The Backup Service syncs paired pools every 2 minutes by default. */
export const BACKUP_SYNC_INTERVAL_MS = 2 * MIN;

// ---- helpers over the model ------------------------------------------------------------------

const siteUp = (s: EstateState, site: string) => s.sites[site]?.up ?? false;

function pool(s: EstateState, fqdn: string): PoolState {
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

function requireCms(s: EstateState, what: string): void {
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

function argument(spec: PowerShellSpec, name: string): PsArgument | undefined {
  return spec.arguments.find((a) => a.name.toLowerCase() === name.toLowerCase());
}
function stringArg(spec: PowerShellSpec, name: string, required = true): string | undefined {
  const a = argument(spec, name);
  if (a?.kind === 'value' && typeof a.value === 'string') return a.value;
  if (required) throw new PreconditionError(`Cannot bind parameter '${name}': it is missing.`, 'InvalidArgument');
  return undefined;
}
function switchArg(spec: PowerShellSpec, name: string): boolean {
  const a = argument(spec, name);
  return a?.kind === 'switch' ? a.value : false;
}
/** "Registrar:pool.fqdn" / "EdgeServer:edge.fqdn" / "PersistentChatServer:x" -> the fqdn. */
const afterColon = (identity: string) => identity.slice(identity.indexOf(':') + 1).toLowerCase();
const sameText = (a: string | undefined, b: string | undefined) => (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
const normPath = (p: string) => p.replace(/\\+$/, '').toLowerCase();
const joinWin = (folder: string, file: string) => `${folder.replace(/\\+$/, '')}\\${file}`;
const splitWin = (p: string) => ({ folder: p.slice(0, p.lastIndexOf('\\')), name: p.slice(p.lastIndexOf('\\') + 1) });

function needPchat(s: EstateState): { pchat: NonNullable<EstateState['pchat']>; sql: PchatSqlState } {
  if (!s.pchat || !s.pchatSql) throw new PreconditionError('This topology has no Persistent Chat pool.', 'ObjectNotFound');
  return { pchat: s.pchat, sql: s.pchatSql };
}

type SqlHost = PchatSqlState['primary'];

/** A SQL instance of the estate (pChat primary / secondary); connecting fails like the real client when it is down. */
function sqlHost(s: EstateState, server: string, instance: string | undefined): SqlHost {
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
function dbInstanceHost(s: EstateState, dbInstance: string): SqlHost {
  const [server, instance] = dbInstance.split('\\');
  return sqlHost(s, server, instance);
}

function exportFile(s: EstateState, path: string, kind: string, source: string, now: Date, failIfExists = false): void {
  const key = normPath(path);
  if (failIfExists && s.exports[key]) throw new PreconditionError(`The file "${path}" already exists.`, 'ResourceExists');
  s.exports[key] = { path, kind, source, at: now.toISOString() };
}
function requireFile(s: EstateState, path: string, what: string): void {
  if (s.exports[normPath(path)]) return;
  // The nightly jobs keep these folders filled: a file there is taken to exist.
  if (s.backupFolders.some((f) => normPath(path).startsWith(`${normPath(f)}\\`))) return;
  throw new PreconditionError(`${what}: could not find file "${path}".`, 'ObjectNotFound');
}

// ---- users -------------------------------------------------------------------------------------

/** The users a pool was created with: sip:<label>user00001@<domain> ... (synthesised, not stored). */
function homeUsers(p: PoolState): string[] {
  const [label, ...rest] = p.fqdn.split('.');
  const domain = rest.join('.');
  return Array.from({ length: p.userCount }, (_, i) => `sip:${label}user${String(i + 1).padStart(5, '0')}@${domain}`);
}
function originalPool(s: EstateState, sip: string): PoolState | undefined {
  const m = /^sip:([a-z0-9-]+)user(\d{5})@(.+)$/.exec(sip);
  if (!m) return undefined;
  const p = s.pools[`${m[1]}.${m[3]}`];
  return p && Number(m[2]) >= 1 && Number(m[2]) <= p.userCount ? p : undefined;
}
/** The Registrar pool a user is homed on now, or undefined for an unknown user. */
function userPool(s: EstateState, sipIn: string): string | undefined {
  const sip = sipIn.startsWith('sip:') ? sipIn.toLowerCase() : `sip:${sipIn.toLowerCase()}`;
  return s.movedUsers[sip] ?? originalPool(s, sip)?.fqdn;
}
function usersOn(s: EstateState, fqdn: string): string[] {
  const p = pool(s, fqdn);
  const stayed = homeUsers(p).filter((u) => !s.movedUsers[u]);
  const movedIn = Object.entries(s.movedUsers).filter(([, to]) => to === p.fqdn).map(([u]) => u).sort();
  return [...stayed, ...movedIn];
}
const userObject = (sip: string, registrarPool: string) => ({
  Identity: `CN=${sip.slice(4).split('@')[0]},OU=Users,DC=contoso,DC=com`, SipAddress: sip, RegistrarPool: registrarPool, Enabled: true,
});

// ---- PowerShell ------------------------------------------------------------------------------

type PsHandler = (s: EstateState, spec: PowerShellSpec, now: Date) => Applied;
const nothing = (durationMs: number): Applied => ({ output: [], durationMs });

const cmdlets: Record<string, PsHandler> = {
  'invoke-cspoolfailover': (s, spec) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    const p = pool(s, fqdn);
    if (!p.backupPool) throw new PreconditionError(`Pool "${fqdn}" does not have a backup pool. Pool failover requires a paired backup pool.`);
    if (p.failedOver) throw new PreconditionError(`Pool "${fqdn}" is already failed over to "${p.backupPool}".`);
    if (!poolUp(s, p.backupPool)) throw new PreconditionError(`Backup pool "${p.backupPool}" is not available: cannot fail over "${fqdn}".`, 'ResourceUnavailable');
    if (pool(s, p.backupPool).failedOver) throw new PreconditionError(`Backup pool "${p.backupPool}" is itself failed over: it cannot take "${fqdn}"'s users.`);
    requireCms(s, 'Invoke-CsPoolFailover');
    refusePoolFailoverWhileEdgeRoutesTo(s, fqdn);
    if (!poolUp(s, fqdn) && !switchArg(spec, 'DisasterMode')) {
      throw new PreconditionError(`Pool "${fqdn}" is unreachable. Use -DisasterMode to fail over a pool that is down.`, 'ResourceUnavailable');
    }
    p.failedOver = true;
    return nothing(8 * MIN);
  },
  'invoke-cspoolfailback': (s, spec) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    const p = pool(s, fqdn);
    if (!p.failedOver) throw new PreconditionError(`Pool "${fqdn}" is not failed over; there is nothing to fail back.`);
    if (!poolUp(s, fqdn)) throw new PreconditionError(`Pool "${fqdn}" is not available: bring it back online before failing back.`, 'ResourceUnavailable');
    if (p.backupPool && !poolUp(s, p.backupPool) && !switchArg(spec, 'DisasterMode')) {
      throw new PreconditionError(`Backup pool "${p.backupPool}" is unreachable. Use -DisasterMode to fail back without it.`, 'ResourceUnavailable');
    }
    requireCms(s, 'Invoke-CsPoolFailback');
    p.failedOver = false;
    return nothing(10 * MIN);
  },
  'invoke-csmanagementserverfailover': (s, spec) => {
    const cmsPool = pool(s, s.cms.pool);
    const target = cmsPool.backupPool;
    if (!target) throw new PreconditionError(`The CMS pool "${s.cms.pool}" has no backup pool to fail over to.`);
    const tp = pool(s, target);
    const server = stringArg(spec, 'BackupSqlServerFqdn')!.toLowerCase();
    const instance = stringArg(spec, 'BackupSqlInstanceName', false);
    if (server !== tp.backEnd.server || !sameText(instance, tp.backEnd.instance)) {
      throw new PreconditionError(`"${instance ? `${server}\\${instance}` : server}" is not the back-end store of the backup pool "${target}" (${tp.backEnd.instance ? `${tp.backEnd.server}\\${tp.backEnd.instance}` : tp.backEnd.server}).`, 'InvalidArgument');
    }
    const disaster = !cmsReachable(s);
    if (disaster && !switchArg(spec, 'Force')) {
      throw new PreconditionError('The active Central Management Store is unreachable: -Force is required to fail over in disaster mode.');
    }
    if (!poolUp(s, target)) throw new PreconditionError(`Backup pool "${target}" is not available.`, 'ResourceUnavailable');
    s.cms = { pool: target, sqlServer: tp.backEnd.server, ...(tp.backEnd.instance ? { sqlInstance: tp.backEnd.instance } : {}) };
    return nothing(4 * MIN);
  },
  'get-csmanagementstorereplicationstatus': (s, spec, now) => {
    requireCms(s, 'Get-CsManagementStoreReplicationStatus');
    const replicas = Object.values(s.pools).flatMap((p) => p.frontEnds.map((fe) => ({
      ReplicaFqdn: fe, UpToDate: poolUp(s, p.fqdn), LastStatusReport: now.toISOString(), LastUpdateCreation: now.toISOString(), ProductVersion: '5.0.8308.0',
    })));
    if (switchArg(spec, 'CentralManagementStoreStatus')) {
      const master = pool(s, s.cms.pool).frontEnds[0];
      return {
        output: [{
          ActiveMasterFqdn: master, ActiveFileTransferAgents: [master],
          ActiveReplicas: replicas.filter((r) => r.UpToDate).map((r) => r.ReplicaFqdn), DeletedReplicas: [],
          ProposedMasterFqdn: null, LastHeartbeatTime: now.toISOString(),
        }],
        durationMs: 3 * S,
      };
    }
    const only = stringArg(spec, 'ReplicaFqdn', false)?.toLowerCase();
    return { output: only ? replicas.filter((r) => r.ReplicaFqdn === only) : replicas, durationMs: 3 * S };
  },
  'invoke-csbackupservicesync': (s, spec, now) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    const p = pool(s, fqdn);
    if (!p.backupPool) throw new PreconditionError(`Pool "${fqdn}" has no backup relationship.`);
    if (!poolUp(s, fqdn) || !poolUp(s, p.backupPool)) throw new PreconditionError(`Backup service sync needs both "${fqdn}" and "${p.backupPool}" online.`, 'ResourceUnavailable');
    p.lastBackupSyncAt = now.toISOString();
    pool(s, p.backupPool).lastBackupSyncAt = now.toISOString();
    return nothing(45 * S);
  },
  'get-csbackupservicestatus': (s, spec, now) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    const p = pool(s, fqdn);
    if (!p.backupPool) throw new PreconditionError(`Pool "${fqdn}" has no backup relationship.`);
    if (!poolUp(s, fqdn) && !poolUp(s, p.backupPool)) throw new PreconditionError(`Cannot reach the Backup Service on "${fqdn}" or "${p.backupPool}".`, 'ConnectionError');
    const last = lastBackupSync(s, p, now);
    const exportState = poolUp(s, fqdn) ? 'FinalState' : 'Unknown';
    const importState = poolUp(s, p.backupPool) ? 'FinalState' : 'Unknown';
    const category = stringArg(spec, 'Category', false);
    const modules = [
      { m: 'CentralMgmt.CMSMaster', c: 'CMS' }, { m: 'ConfServices.DataConf', c: 'UserData' },
      { m: 'UserServices.PresenceFocus', c: 'UserData' }, { m: 'RGS.AppStore', c: 'RGS' },
    ].filter((x) => !category || x.c === category);
    return {
      output: [{
        PoolFqdn: fqdn, BackupPoolFqdn: p.backupPool, OverallExportStatus: exportState, OverallImportStatus: importState,
        BackupModules: modules.map(({ m }) => ({
          ModuleName: m,
          ExportStatus: { StateName: exportState, LastStateTime: last },
          ImportStatus: { StateName: importState, LastStateTime: last },
        })),
      }],
      durationMs: 2 * S,
    };
  },
  'get-cspoolbackuprelationship': (s, spec) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    if (!switchArg(spec, 'LocalStore')) requireCms(s, 'Get-CsPoolBackupRelationship');
    const p = pool(s, fqdn);
    return { output: p.backupPool ? [{ PoolFqdn: fqdn, BackupPoolFqdn: p.backupPool }] : [], durationMs: 1 * S };
  },
  'get-cspoolfabricstate': (s, spec) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    const p = pool(s, fqdn);
    if (!poolUp(s, fqdn)) throw new PreconditionError(`Cannot connect to pool "${fqdn}": no Front End server responded.`, 'ConnectionError');
    const serving = Object.values(s.pools).filter((o) => o.failedOver && o.backupPool === fqdn).map((o) => o.fqdn);
    return {
      output: [{
        PoolFqdn: fqdn, Type: stringArg(spec, 'Type', false) ?? 'All',
        FrontEnds: p.frontEnds.map((fe) => ({ Fqdn: fe, State: 'Active' })),
        RoutingGroupsInQuorumLoss: 0, RoutingGroupsWithoutPrimary: 0,
        ServingUsersOf: [fqdn, ...serving],
      }],
      durationMs: 5 * S,
    };
  },
  'test-csregistration': (s, spec) => {
    const target = stringArg(spec, 'TargetFqdn')!.toLowerCase();
    pool(s, target);
    if (!poolUp(s, target)) throw new PreconditionError(`Test-CsRegistration: registration against "${target}" failed: the pool is unreachable.`, 'ConnectionError');
    const user = stringArg(spec, 'UserSipAddress', false);
    if (user) {
      const home = userPool(s, user);
      if (!home) throw new PreconditionError(`User "${user}" was not found.`, 'ObjectNotFound');
      const serving = servingPool(pool(s, home));
      if (serving !== target) {
        return { output: [{ TargetFqdn: target, Result: 'Failure', Latency: '00:00:00', Error: `User ${user} is served by ${serving}, not ${target}.`, Diagnosis: 'ErrorCode=4005' }], durationMs: 8 * S };
      }
    }
    return { output: [{ TargetFqdn: target, Result: 'Success', Latency: '00:00:00.2150000', Error: null, Diagnosis: null }], durationMs: 8 * S };
  },
  'get-cspool': (s, spec) => {
    requireCms(s, 'Get-CsPool');
    const p = pool(s, stringArg(spec, 'Identity')!);
    return {
      output: [{ Identity: p.fqdn, Fqdn: p.fqdn, Site: `Site:${p.site}`, Computers: p.frontEnds, Services: [`Registrar:${p.fqdn}`, `UserServer:${p.fqdn}`, `WebServer:${p.fqdn}`], BackupPool: p.backupPool ?? null }],
      durationMs: 2 * S,
    };
  },
  'get-csservice': (s, spec) => {
    if (switchArg(spec, 'CentralManagement')) {
      // The CMS location is known to every replica, so this works while the CMS itself is down.
      return {
        output: [{ Identity: `CentralManagement:${s.cms.pool}`, PoolFqdn: s.cms.pool, SqlServer: s.cms.sqlServer, SqlInstance: s.cms.sqlInstance ?? null, Active: true, Reachable: cmsReachable(s) }],
        durationMs: 2 * S,
      };
    }
    requireCms(s, 'Get-CsService');
    const filter = stringArg(spec, 'PoolFqdn', false)?.toLowerCase();
    if (switchArg(spec, 'PersistentChatServer')) {
      const pc = s.pchat;
      if (!pc || (filter && filter !== pc.poolFqdn)) return { output: [], durationMs: 2 * S };
      return {
        output: [{
          Identity: pc.serviceIdentity, PoolFqdn: pc.poolFqdn, ActiveServerCollectionIdentity: pc.collectionIdentity,
          ActiveServers: pc.activeServers,
          InactiveServers: pc.servers.map((x) => x.fqdn).filter((f) => !pc.activeServers.includes(f)),
          Servers: pc.servers.map((x) => ({ Fqdn: x.fqdn, Site: `Site:${x.site}` })),
          PoolState: pc.state,
        }],
        durationMs: 2 * S,
      };
    }
    if (switchArg(spec, 'EdgeServer')) {
      const edges = Object.values(s.edges).filter((e) => !filter || e.fqdn === filter);
      return { output: edges.map((e) => ({ Identity: `EdgeServer:${e.fqdn}`, PoolFqdn: e.fqdn, Registrar: `Registrar:${e.nextHop}`, SiteId: `Site:${e.site}` })), durationMs: 2 * S };
    }
    throw new PreconditionError('The simulated estate answers Get-CsService only with -CentralManagement, -PersistentChatServer or -EdgeServer.', 'NotImplemented');
  },
  'set-csedgeserver': (s, spec) => {
    const identity = stringArg(spec, 'Identity')!;
    const edge = s.edges[afterColon(identity)];
    if (!edge) throw new PreconditionError(`Cannot find Edge pool "${identity}" in the topology.`, 'ObjectNotFound');
    requireCms(s, 'Set-CsEdgeServer');
    const registrar = afterColon(stringArg(spec, 'Registrar')!);
    pool(s, registrar);
    edge.nextHop = registrar;
    return nothing(15 * S);
  },
  'get-cspersistentchatstate': (s, spec) => {
    const { pchat } = needPchat(s);
    const identity = stringArg(spec, 'Identity')!;
    if (!sameText(identity, pchat.serviceIdentity)) throw new PreconditionError(`Cannot find "${identity}".`, 'ObjectNotFound');
    requireCms(s, 'Get-CsPersistentChatState');
    return { output: [{ Identity: pchat.serviceIdentity, PoolState: pchat.state }], durationMs: 2 * S };
  },
  'set-cspersistentchatstate': (s, spec) => {
    const { pchat, sql } = needPchat(s);
    const identity = stringArg(spec, 'Identity')!;
    if (!sameText(identity, pchat.serviceIdentity)) throw new PreconditionError(`Cannot find "${identity}".`, 'ObjectNotFound');
    requireCms(s, 'Set-CsPersistentChatState');
    const state = stringArg(spec, 'PoolState')!;
    if (state === 'FailedOver') {
      if (!sql.secondary.up || !siteUp(s, sql.secondary.site)) throw new PreconditionError(`The backup database server "${sql.secondary.server}" is unreachable.`, 'ConnectionError');
      if (sql.secondary.mgc !== 'ONLINE') {
        throw new PreconditionError(`The backup mgc database on "${sql.secondary.server}" is ${sql.secondary.mgc}, not online: restore the remaining logs and RESTORE DATABASE mgc WITH RECOVERY first.`);
      }
    } else if (state === 'Normal') {
      if (!sql.primary.up || !siteUp(s, sql.primary.site) || sql.primary.mgc !== 'ONLINE') {
        throw new PreconditionError(`The primary mgc database on "${sql.primary.server}" is not online: restore it before setting the pool state to Normal.`);
      }
    } else {
      throw new PreconditionError(`Cannot bind parameter 'PoolState': "${state}" is not one of Normal, FailedOver.`, 'InvalidArgument');
    }
    pchat.state = state;
    return nothing(20 * S);
  },
  'set-cspersistentchatactiveserver': (s, spec) => {
    const { pchat } = needPchat(s);
    const identity = stringArg(spec, 'Identity', false) ?? 'global';
    if (!sameText(identity, pchat.collectionIdentity)) throw new PreconditionError(`Cannot find active-server collection "${identity}" (this pool's is "${pchat.collectionIdentity}").`, 'ObjectNotFound');
    requireCms(s, 'Set-CsPersistentChatActiveServer');
    const a = argument(spec, 'ActiveServers');
    // Without -ActiveServers the real cmdlet changes nothing (it does not clear the list).
    if (!a) return nothing(5 * S);
    let next: string[];
    if (a.kind === 'null') next = [];
    else if (a.kind === 'listAdd') next = [...new Set([...pchat.activeServers, ...a.value.map((v) => v.toLowerCase())])];
    else if (a.kind === 'listRemove') next = pchat.activeServers.filter((x) => !a.value.map((v) => v.toLowerCase()).includes(x));
    else if (a.kind === 'value') next = (Array.isArray(a.value) ? a.value : [String(a.value)]).map((v) => v.toLowerCase());
    else throw new PreconditionError('Cannot bind parameter ActiveServers.', 'InvalidArgument');
    const members = new Map(pchat.servers.map((x) => [x.fqdn, x]));
    const foreign = next.filter((x) => !members.has(x));
    if (foreign.length) throw new PreconditionError(`Server(s) ${foreign.join(', ')} are not members of Persistent Chat pool "${pchat.poolFqdn}".`, 'InvalidArgument');
    if (next.length > 4) throw new PreconditionError(`At most 4 Persistent Chat servers can be active; ${next.length} were given.`, 'InvalidArgument');
    const down = next.filter((x) => !pchat.activeServers.includes(x)).filter((x) => { const m = members.get(x)!; return !m.up || !siteUp(s, m.site); });
    if (down.length) throw new PreconditionError(`Server(s) ${down.join(', ')} are not reachable and cannot be made active.`, 'ResourceUnavailable');
    pchat.activeServers = next;
    return nothing(10 * S);
  },
  'install-csmirrordatabase': (s, spec) => {
    needPchat(s);
    requireCms(s, 'Install-CsMirrorDatabase');
    const host = sqlHost(s, stringArg(spec, 'SqlServerFqdn')!, stringArg(spec, 'SqlInstanceName', false));
    if (!host.mirrorPartner) throw new PreconditionError(`The topology defines no mirror for the store on "${host.server}".`, 'ObjectNotFound');
    if (host.mgc !== 'ONLINE') throw new PreconditionError(`Install-CsMirrorDatabase: the principal mgc on "${host.server}" is ${host.mgc}, not online.`);
    if ((stringArg(spec, 'DatabaseType', false) ?? 'PersistentChat') === 'PersistentChat') {
      if (host.mirror) throw new PreconditionError(`mgc on "${host.server}" is already mirrored to "${host.mirrorPartner}".`, 'ResourceExists');
      host.mirror = true;
    }
    return nothing(6 * MIN);
  },
  'uninstall-csmirrordatabase': (s, spec) => {
    needPchat(s);
    requireCms(s, 'Uninstall-CsMirrorDatabase');
    const host = sqlHost(s, stringArg(spec, 'SqlServerFqdn')!, stringArg(spec, 'SqlInstanceName', false));
    if ((stringArg(spec, 'DatabaseType', false) ?? 'PersistentChat') === 'PersistentChat') {
      if (!host.mirror) throw new PreconditionError(`No mirror is installed for mgc on "${host.server}".`);
      host.mirror = false;
    }
    return nothing(2 * MIN);
  },
  'export-cspersistentchatdata': (s, spec, now) => {
    needPchat(s);
    const host = dbInstanceHost(s, stringArg(spec, 'DBInstance')!);
    if (host.mgc !== 'ONLINE') throw new PreconditionError(`Export-CsPersistentChatData: mgc on "${host.server}" is ${host.mgc}, not online.`);
    exportFile(s, stringArg(spec, 'FileName')!, 'pchat', host.server, now);
    return nothing(3 * MIN);
  },
  'import-cspersistentchatdata': (s, spec) => {
    needPchat(s);
    const host = dbInstanceHost(s, stringArg(spec, 'DBInstance')!);
    if (host.mgc !== 'ONLINE') throw new PreconditionError(`Import-CsPersistentChatData: mgc on "${host.server}" is ${host.mgc}, not online.`);
    requireFile(s, stringArg(spec, 'FileName')!, 'Import-CsPersistentChatData');
    return nothing(5 * MIN);
  },
  'get-csuser': (s, spec) => {
    requireCms(s, 'Get-CsUser');
    const identity = stringArg(spec, 'Identity', false);
    if (identity) {
      const home = userPool(s, identity);
      if (!home) throw new PreconditionError(`Management object not found for identity "${identity}".`, 'ObjectNotFound');
      const sip = identity.startsWith('sip:') ? identity.toLowerCase() : `sip:${identity.toLowerCase()}`;
      return { output: [userObject(sip, home)], durationMs: 1 * S };
    }
    const m = /^RegistrarPool -eq "([a-z0-9.-]+)"$/i.exec(stringArg(spec, 'Filter')!);
    if (!m) throw new PreconditionError('The simulated estate answers Get-CsUser -Filter only for RegistrarPool -eq "<pool>".', 'NotImplemented');
    const fqdn = m[1].toLowerCase();
    return { output: usersOn(s, fqdn).map((u) => userObject(u, fqdn)), durationMs: 5 * S };
  },
  'move-csuser': (s, spec) => {
    const target = stringArg(spec, 'Target')!.toLowerCase();
    pool(s, target);
    if (!poolUp(s, target)) throw new PreconditionError(`Target pool "${target}" is not available.`, 'ResourceUnavailable');
    requireCms(s, 'Move-CsUser');
    const users = (spec.pipeline?.values ?? [stringArg(spec, 'Identity')!]).map((u) => (u.startsWith('sip:') ? u.toLowerCase() : `sip:${u.toLowerCase()}`));
    for (const u of users) {
      const from = userPool(s, u);
      if (!from) throw new PreconditionError(`Management object not found for identity "${u}".`, 'ObjectNotFound');
      if (!poolUp(s, from) && !switchArg(spec, 'Force')) {
        throw new PreconditionError(`Cannot move "${u}": its pool "${from}" is unreachable. Use -Force (the user's contact list and meetings are lost).`, 'ResourceUnavailable');
      }
    }
    for (const u of users) {
      if (originalPool(s, u)?.fqdn === target) delete s.movedUsers[u];
      else s.movedUsers[u] = target;
    }
    return nothing(users.length * 2 * S);
  },
  'export-csuserdata': (s, spec, now) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    pool(s, fqdn);
    if (!poolUp(s, fqdn)) throw new PreconditionError(`Cannot connect to the user store of "${fqdn}".`, 'ConnectionError');
    exportFile(s, stringArg(spec, 'FileName')!, 'userdata', fqdn, now);
    return nothing(4 * MIN);
  },
  'import-csuserdata': (s, spec) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    pool(s, fqdn);
    if (!poolUp(s, fqdn)) throw new PreconditionError(`Cannot connect to the user store of "${fqdn}".`, 'ConnectionError');
    requireFile(s, stringArg(spec, 'FileName')!, 'Import-CsUserData');
    return nothing(6 * MIN);
  },
  'update-csuserdata': (s, spec) => {
    requireCms(s, 'Update-CsUserData');
    requireFile(s, stringArg(spec, 'FileName')!, 'Update-CsUserData');
    return nothing(3 * MIN);
  },
  'export-csrgsconfiguration': (s, spec, now) => {
    const source = afterColon(stringArg(spec, 'Source')!);
    pool(s, source);
    if (!poolUp(s, source)) throw new PreconditionError(`Cannot connect to the Response Group store of "${source}".`, 'ConnectionError');
    exportFile(s, stringArg(spec, 'FileName')!, 'rgs', source, now, true);
    return nothing(1 * MIN);
  },
  'import-csrgsconfiguration': (s, spec) => {
    const dest = afterColon(stringArg(spec, 'Destination')!);
    pool(s, dest);
    if (!poolUp(s, dest)) throw new PreconditionError(`Cannot connect to the Response Group store of "${dest}".`, 'ConnectionError');
    requireCms(s, 'Import-CsRgsConfiguration');
    requireFile(s, stringArg(spec, 'FileName')!, 'Import-CsRgsConfiguration');
    return nothing(2 * MIN);
  },
};

function ttlSeconds(spec: PowerShellSpec): number | undefined {
  const raw = stringArg(spec, 'TimeToLive', false);
  return raw ? raw.split(':').reduce((acc, part) => acc * 60 + Number(part), 0) : undefined;
}
const ttlObject = (seconds: number) => ({
  Days: Math.floor(seconds / 86_400), Hours: Math.floor((seconds % 86_400) / 3600), Minutes: Math.floor((seconds % 3600) / 60), Seconds: seconds % 60, TotalSeconds: seconds,
});
function recordData(type: 'A' | 'CNAME' | 'SRV', data: string): Record<string, unknown> {
  if (type === 'A') return { IPv4Address: data };
  if (type === 'CNAME') return { HostNameAlias: `${data}.` };
  const [priority, weight, port, target] = data.split(' ');
  return { DomainName: `${target}.`, Port: Number(port), Priority: Number(priority), Weight: Number(weight) };
}

function dnsCmdlet(s: EstateState, spec: PowerShellSpec): Applied {
  const zone = stringArg(spec, 'ZoneName')!.toLowerCase();
  const name = stringArg(spec, 'Name')!.toLowerCase();
  const owner = name === '@' ? zone : `${name}.${zone}`;
  const rec = s.dns[owner];
  const cmdlet = spec.cmdlet.toLowerCase();
  if (cmdlet === 'get-dnsserverresourcerecord') {
    const want = (stringArg(spec, 'RRType', false) ?? '').toUpperCase();
    if (!rec || (want && want !== rec.type)) {
      throw new PreconditionError(`Failed to get ${owner} record in ${zone} zone on server ${stringArg(spec, 'ComputerName', false) ?? 'localhost'}.`, 'ObjectNotFound');
    }
    return {
      output: rec.records.map((d) => ({ HostName: name, RecordType: rec.type, RecordClass: 'IN', TimeToLive: ttlObject(rec.ttl), RecordData: recordData(rec.type, d) })),
      durationMs: 1 * S,
    };
  }
  if (cmdlet === 'remove-dnsserverresourcerecord') {
    const type = stringArg(spec, 'RRType')!.toUpperCase();
    const data = stringArg(spec, 'RecordData')!.toLowerCase().replace(/\.$/, '');
    const i = rec && rec.type === type ? rec.records.findIndex((r) => r.toLowerCase() === data) : -1;
    if (!rec || i < 0) throw new PreconditionError(`Failed to remove ${owner}: no ${type} record with data ${data} exists in zone ${zone}.`, 'ObjectNotFound');
    rec.records.splice(i, 1);
    if (!rec.records.length) delete s.dns[owner];
    return nothing(2 * S);
  }
  const type = cmdlet === 'add-dnsserverresourcerecordcname' ? 'CNAME' : cmdlet === 'add-dnsserverresourcerecorda' ? 'A' : switchArg(spec, 'Srv') ? 'SRV' : undefined;
  if (!type) throw new PreconditionError(`${spec.cmdlet}: only A, CNAME and SRV records are modelled.`, 'NotImplemented');
  const data = type === 'A' ? stringArg(spec, 'IPv4Address')!
    : type === 'CNAME' ? stringArg(spec, 'HostNameAlias')!.toLowerCase()
      : ['Priority', 'Weight', 'Port'].map((p) => { const a = argument(spec, p); return a?.kind === 'value' ? String(a.value) : '0'; }).join(' ') + ` ${stringArg(spec, 'DomainName')!.toLowerCase()}`;
  const ttl = ttlSeconds(spec) ?? 3600;
  if (rec) {
    // A CNAME cannot share its name with any other record; other types add to the set (round robin).
    if (rec.type !== type || type === 'CNAME') {
      throw new PreconditionError(`Failed to create resource record ${owner} in zone ${zone}: a ${rec.type} record already exists at this name.`, 'ResourceExists');
    }
    if (rec.records.some((r) => r.toLowerCase() === data.toLowerCase())) {
      throw new PreconditionError(`Failed to create resource record ${owner} in zone ${zone}: the record already exists.`, 'ResourceExists');
    }
    rec.records.push(data);
    rec.ttl = ttl;
  } else {
    s.dns[owner] = { type, ttl, records: [data] };
  }
  return nothing(3 * S);
}

function runPowerShell(s: EstateState, spec: PowerShellSpec, now: Date): Applied {
  if (switchArg(spec, 'WhatIf')) {
    // -WhatIf: the cmdlet validates and describes, and changes nothing.
    const applied = applyPs(structuredClone(s), spec, now);
    return { output: { WhatIf: true, WouldReturn: applied.output }, durationMs: 2 * S };
  }
  return applyPs(s, spec, now);
}
function applyPs(s: EstateState, spec: PowerShellSpec, now: Date): Applied {
  if (/DnsServerResourceRecord/i.test(spec.cmdlet)) return dnsCmdlet(s, spec);
  const h = cmdlets[spec.cmdlet.toLowerCase()];
  if (!h) throw new PreconditionError(`The simulated estate does not implement ${spec.cmdlet}.`, 'NotImplemented');
  return h(s, spec, now);
}

// ---- SQL ---------------------------------------------------------------------------------------

function param(spec: SqlSpec, name: string): string | number | null | undefined {
  return spec.parameters.find((p) => p.name === name)?.value;
}
/** mssql's result shape: one recordset per SELECT, rows affected per statement. */
const recordsets = (...sets: unknown[][]) => ({ recordsets: sets, rowsAffected: sets.map((r) => r.length) });
const noRows = () => ({ recordsets: [], rowsAffected: [] });

/** Where a backup file named by a server-side path lives: the share (any server), or the secondary's copy folder. */
function logFileAt(sql: PchatSqlState, host: SqlHost, fullPath: string): LogBackupFile | undefined {
  const { folder, name } = splitWin(fullPath);
  const inFolder = (files: LogBackupFile[]) => files.find((f) => f.name.toLowerCase() === name.toLowerCase());
  if (normPath(folder) === normPath(sql.backupShare.path)) return inFolder(sql.backupShare.files);
  if (normPath(folder) === normPath(sql.copyFolder.path) && host === sql.secondary) return inFolder(sql.copyFolder.files);
  return undefined;
}
const cannotOpen = (p: string) => new PreconditionError(`Msg 3201: Cannot open backup device '${p}'. Operating system error 2 (The system cannot find the file specified.)`, 'ObjectNotFound', 3201);

/** Sessions on mgc: the active pChat servers' connections to the database pChat is using. */
function sessions(s: EstateState, host: SqlHost): Array<Record<string, unknown>> {
  const pc = s.pchat;
  const sql = s.pchatSql;
  if (!pc || !sql || host.mgc !== 'ONLINE') return [];
  const inUse = pc.state === 'Normal' ? sql.primary : sql.secondary;
  if (inUse !== host) return [];
  return pc.activeServers.filter((a) => { const m = pc.servers.find((x) => x.fqdn === a); return m && m.up && siteUp(s, m.site); })
    .map((srv, i) => ({ spid: 60 + i, loginame: 'CONTOSO\\RTCComponentUniversalServices', hostname: srv.split('.')[0].toUpperCase(), program_name: 'Persistent Chat', status: 'sleeping' }));
}

function runSql(s: EstateState, spec: SqlSpec, now: Date): Applied {
  const { sql } = needPchat(s);
  const host = sqlHost(s, spec.server, spec.instance);
  const text = spec.statement.replace(/\s+/g, ' ');
  const isSecondary = host === sql.secondary;
  const ls = sql.logShipping;
  const database = String(param(spec, 'database') ?? spec.identifiers.database ?? 'mgc');

  if (/log_shipping_monitor_secondary/i.test(text)) {
    // After sp_delete_log_shipping_secondary_database the monitor history is gone: no rows.
    const rows = isSecondary && ls.monitor && database === 'mgc'
      ? [{
        secondary_server: host.instance ? `${host.server}\\${host.instance}` : host.server, secondary_database: 'mgc', primary_server: sql.primary.instance ? `${sql.primary.server}\\${sql.primary.instance}` : sql.primary.server, primary_database: 'mgc', ...ls.monitor,
        // Minutes from the last restored backup's copy to its restore, and SQL's default alert threshold.
        last_restored_latency: ls.monitor.last_copied_date_utc && ls.monitor.last_restored_date_utc
          ? Math.max(0, Math.round((Date.parse(ls.monitor.last_restored_date_utc) - Date.parse(ls.monitor.last_copied_date_utc)) / 60_000)) : null,
        restore_threshold: 45,
      }]
      : [];
    return { output: recordsets(rows), durationMs: 1 * S };
  }
  if (/sp_help_log_shipping_secondary_database/i.test(text)) {
    const rows = isSecondary && ls.configured && ls.monitor
      ? [{ secondary_database: 'mgc', backup_source_directory: sql.backupShare.path, backup_destination_directory: sql.copyFolder.path, restore_mode: 0, disconnect_users: 0, ...ls.monitor }]
      : [];
    return { output: recordsets(rows), durationMs: 1 * S };
  }
  if (/sp_delete_log_shipping_secondary_database/i.test(text)) {
    if (!isSecondary || !ls.configured) throw new PreconditionError("Msg 32010: Database 'mgc' does not exist as a log-shipping secondary database on this server.", 'InvalidOperation', 32010);
    ls.configured = false;
    ls.monitor = null;
    return { output: noRows(), durationMs: 5 * S };
  }
  if (/restorehistory/i.test(text)) {
    const r = database === 'mgc' ? host.lastRestore : undefined;
    return {
      output: recordsets(r ? [{ restore_date: r.at, restore_type: r.type, first_lsn: r.firstLsn, last_lsn: r.lastLsn, physical_device_name: r.file }] : []),
      durationMs: 1 * S,
    };
  }
  if (/RESTORE HEADERONLY/i.test(text)) {
    const p = String(param(spec, 'path'));
    const log = logFileAt(sql, host, p);
    if (log) {
      return { output: recordsets([{ BackupName: null, BackupType: 2, DatabaseName: 'mgc', FirstLSN: lsn(log.seq), LastLSN: lsn(log.seq + 1), BackupFinishDate: log.createdAt, ServerName: sql.primary.server }]), durationMs: 2 * S };
    }
    const full = sql.fullBackups.find((b) => sameText(b.path, p));
    if (full) return { output: recordsets([{ BackupName: null, BackupType: 1, DatabaseName: full.database, BackupFinishDate: full.takenAt, ServerName: full.fromServer }]), durationMs: 2 * S };
    throw cannotOpen(p);
  }
  if (/\bRESTORE LOG\b/i.test(text)) {
    const p = String(param(spec, 'path'));
    if (!isSecondary) throw new PreconditionError(`Msg 4306: The preceding restore operation did not specify WITH NORECOVERY: mgc on ${host.server} is not restoring. RESTORE LOG is terminating abnormally.`, 'InvalidOperation', 4306);
    if (sql.secondary.recovered || sql.secondary.mgc === 'ONLINE') {
      throw new PreconditionError('Msg 3117: The log or differential backup cannot be restored because no files are ready to rollforward. RESTORE LOG is terminating abnormally.', 'InvalidOperation', 3117);
    }
    const f = logFileAt(sql, host, p);
    if (!f) throw cannotOpen(p);
    const next = sql.secondary.lastRestoredSeq + 1;
    if (f.seq > next) {
      throw new PreconditionError(`Msg 4305: The log in this backup set begins at LSN ${lsn(f.seq)}, which is too recent to apply to the database. An earlier log backup that includes LSN ${lsn(next)} can be restored.`, 'InvalidOperation', 4305);
    }
    if (f.seq < next) {
      throw new PreconditionError(`Msg 4326: The log in this backup set terminates at LSN ${lsn(f.seq + 1)}, which is too early to apply to the database. A more recent log backup that includes LSN ${lsn(next)} can be restored.`, 'InvalidOperation', 4326);
    }
    sql.secondary.lastRestoredSeq = f.seq;
    sql.secondary.lastRestore = { file: p, type: 'L', at: now.toISOString(), firstLsn: lsn(f.seq), lastLsn: lsn(f.seq + 1) };
    return { output: noRows(), durationMs: 30 * S };
  }
  if (/\bRESTORE DATABASE\b/i.test(text) && /\bFROM DISK\b/i.test(text)) {
    const p = String(param(spec, 'path'));
    if (database !== 'mgc') throw new PreconditionError(`Msg 3201: no backup of ${database} exists at '${p}'.`, 'ObjectNotFound', 3201);
    const backup = sql.fullBackups.find((b) => sameText(b.path, p));
    if (!backup) throw cannotOpen(p);
    if (host.mirror) throw new PreconditionError("Msg 3104: RESTORE cannot operate on database 'mgc' because it is configured for database mirroring. Remove mirroring first.", 'InvalidOperation', 3104);
    if (host.mgc === 'ONLINE' && !/\bREPLACE\b/i.test(text)) {
      throw new PreconditionError("Msg 3159: The tail of the log for the database 'mgc' has not been backed up. Use WITH REPLACE to overwrite it.", 'InvalidOperation', 3159);
    }
    if (host.mgc === 'ONLINE' && sessions(s, host).length) {
      throw new PreconditionError("Msg 3101: Exclusive access could not be obtained because the database is in use.", 'InvalidOperation', 3101);
    }
    host.mgc = /NORECOVERY/i.test(text) ? 'RESTORING' : 'ONLINE';
    host.lastRestore = { file: p, type: 'D', at: now.toISOString(), firstLsn: lsn(1), lastLsn: lsn(1) };
    if (isSecondary) sql.secondary.recovered = host.mgc === 'ONLINE';
    return { output: noRows(), durationMs: 3 * MIN };
  }
  if (/\bRESTORE DATABASE\b.*\bWITH RECOVERY\b/i.test(text)) {
    if (database !== 'mgc') {
      if (isSecondary) throw new PreconditionError(`Msg 3013: Database '${database}' does not exist on ${host.server} (only mgc is log shipped). RESTORE DATABASE is terminating abnormally.`, 'ObjectNotFound', 3013);
      throw new PreconditionError(`Msg 3101: The database '${database}' is already online. RESTORE DATABASE is terminating abnormally.`, 'InvalidOperation', 3101);
    }
    if (host.mgc === 'ONLINE') throw new PreconditionError("Msg 3101: The database 'mgc' is already online; it cannot be recovered again. RESTORE DATABASE is terminating abnormally.", 'InvalidOperation', 3101);
    host.mgc = 'ONLINE';
    if (isSecondary) sql.secondary.recovered = true;
    return { output: noRows(), durationMs: 20 * S };
  }
  if (/\bBACKUP DATABASE\b/i.test(text)) {
    if (database !== 'mgc') throw new PreconditionError('The simulated estate only backs up mgc.', 'NotImplemented');
    if (host.mgc !== 'ONLINE') throw new PreconditionError("Msg 927: Database 'mgc' cannot be opened. It is in the middle of a restore.", 'InvalidOperation', 927);
    const p = String(param(spec, 'path'));
    sql.fullBackups = sql.fullBackups.filter((b) => !sameText(b.path, p));
    sql.fullBackups.push({ path: p, database: 'mgc', takenAt: now.toISOString(), fromServer: host.server });
    return { output: noRows(), durationMs: 2 * MIN };
  }
  if (/SET PARTNER OFF/i.test(text)) {
    if (!host.mirror) throw new PreconditionError(`Msg 1416: Database '${database}' is not configured for database mirroring.`, 'InvalidOperation', 1416);
    if (database === 'mgc') host.mirror = false;
    return { output: noRows(), durationMs: 5 * S };
  }
  if (/sysprocesses|sp_who|dm_exec_sessions/i.test(text)) {
    return { output: recordsets(database === 'mgc' ? sessions(s, host) : []), durationMs: 1 * S };
  }
  if (/\bKILL\b/i.test(text)) {
    const id = Number(param(spec, 'session_id'));
    if (!sessions(s, host).some((x) => x.spid === id)) {
      throw new PreconditionError(`Msg 6106: Process ID ${id} is not an active process ID.`, 'ObjectNotFound', 6106);
    }
    // The pChat servers reconnect on their own; the session list is derived, not stored.
    return { output: noRows(), durationMs: 1 * S };
  }
  if (/SINGLE_USER|MULTI_USER/i.test(text)) {
    if (database === 'mgc' && host.mgc !== 'ONLINE') {
      throw new PreconditionError("Msg 5052: ALTER DATABASE is not permitted while a database is in the Restoring state.", 'InvalidOperation', 5052);
    }
    return { output: noRows(), durationMs: 2 * S };
  }
  throw new PreconditionError(`The simulated estate does not implement this statement: ${text.slice(0, 200)}`, 'NotImplemented');
}

// ---- files -------------------------------------------------------------------------------------

function runFile(s: EstateState, spec: FileSpec): Applied {
  const { sql } = needPchat(s);
  const folders: Record<string, { files: LogBackupFile[]; site?: string }> = {
    [normPath(sql.backupShare.path)]: { files: sql.backupShare.files },
    [normPath(sql.copyFolder.path)]: { files: sql.copyFolder.files, site: sql.secondary.site },
  };
  const folder = (p: string) => {
    const f = folders[normPath(p)];
    if (!f) throw new PreconditionError(`Cannot find path '${p}' because it does not exist.`, 'ObjectNotFound');
    if (f.site && !siteUp(s, f.site)) throw new PreconditionError(`The network path '${p}' was not found.`, 'ConnectionError');
    return f;
  };
  if (spec.operation === 'list') {
    const f = folder(spec.folder);
    const re = new RegExp(`^${spec.pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    return {
      output: f.files.filter((x) => re.test(x.name)).map((x) => ({ Name: x.name, FullName: joinWin(spec.folder, x.name), Length: 1_048_576, LastWriteTimeUtc: x.createdAt })),
      durationMs: 1 * S,
    };
  }
  const from = folder(spec.sourceFolder);
  const to = folder(spec.destinationFolder);
  const copied: Array<Record<string, unknown>> = [];
  for (const name of spec.files) {
    const f = from.files.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!f) throw new PreconditionError(`Cannot find path '${joinWin(spec.sourceFolder, name)}' because it does not exist.`, 'ObjectNotFound');
    const existing = to.files.findIndex((x) => x.name.toLowerCase() === f.name.toLowerCase());
    if (existing >= 0 && !spec.overwrite) continue;
    if (existing >= 0) to.files.splice(existing, 1);
    to.files.push({ ...f });
    copied.push({ Name: f.name, Source: joinWin(spec.sourceFolder, f.name), Destination: joinWin(spec.destinationFolder, f.name), Length: 1_048_576 });
  }
  to.files.sort((a, b) => a.seq - b.seq);
  return { output: copied, durationMs: Math.max(1, copied.length) * 5 * S };
}

// ---- DBImpExp.exe ------------------------------------------------------------------------------

function runExe(s: EstateState, spec: ExeSpec, now: Date): Applied {
  const opt = (name: string) => spec.args.find((a) => a.toLowerCase().startsWith(`/${name}:`))?.slice(name.length + 2);
  const file = opt('hrxmlfile');
  if (!file) throw new PreconditionError('DBImpExp.exe: /hrxmlfile is required.', 'InvalidArgument');
  const sqlServer = opt('sqlserver');
  const store = sqlServer ? Object.values(s.pools).find((p) => sameText(p.backEnd.instance ? `${p.backEnd.server}\\${p.backEnd.instance}` : p.backEnd.server, sqlServer)) : undefined;
  if (sqlServer && !store) throw new PreconditionError(`DBImpExp.exe: cannot connect to SQL Server "${sqlServer}".`, 'ConnectionError');
  if (store && !poolUp(s, store.fqdn)) throw new PreconditionError(`DBImpExp.exe: cannot connect to SQL Server "${sqlServer}": the pool "${store.fqdn}" is down.`, 'ConnectionError');
  if (spec.args.some((a) => a.toLowerCase() === '/import')) {
    requireFile(s, file, 'DBImpExp.exe /import');
    const n = store ? usersOn(s, store.fqdn).length : 0;
    return { output: null, stdout: `Importing user data from ${file}...\r\nImported contact lists for ${n} user(s).\r\n`, durationMs: 2 * MIN };
  }
  exportFile(s, file, 'contacts', store?.fqdn ?? 'local', now);
  const n = store ? usersOn(s, store.fqdn).length : 0;
  return { output: null, stdout: `Exporting user data to ${file}...\r\nExported ${n} user(s).\r\n`, durationMs: 2 * MIN };
}

/** Applies one spec to the state (mutating it). Throws PreconditionError when the estate refuses. */
export function applySpec(s: EstateState, spec: ExecutionSpec, now: Date): Applied {
  switch (spec.kind) {
    case 'powershell':
      return runPowerShell(s, spec, now);
    case 'sql':
      return runSql(s, spec, now);
    case 'file':
      return runFile(s, spec);
    case 'exe':
      return runExe(s, spec, now);
  }
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
