// The simulated Lync / SQL estate: interprets the same ExecutionSpec the PowerShell and SQL
// runners execute, against the state model, and enforces the preconditions the real products
// enforce. Pure with respect to I/O: `apply` mutates the given state and returns the cmdlet's
// output, so whatif runs it on a copy and the executor persists the result.
import type { ExecutionSpec, PowerShellSpec, PsArgument, SqlSpec, FileSpec } from '../../shared/commands/spec.js';
import type { EstateState, LogBackupFile } from './state.js';

/** The estate refused: the real cmdlet / statement would have failed the same way. */
export class PreconditionError extends Error {
  constructor(message: string, readonly category = 'InvalidOperation', readonly sqlError?: number) {
    super(message);
    this.name = 'PreconditionError';
  }
}

export interface Applied {
  /** What ConvertTo-Json of the real cmdlet's output (or the SQL result set) would look like. */
  output: unknown;
  /** Unscaled duration of the real operation, in ms. */
  durationMs: number;
}

const S = 1000;
const MIN = 60 * S;

// ---- helpers over the model ------------------------------------------------------------------

const siteUp = (s: EstateState, site: string) => s.sites[site]?.up ?? false;

function pool(s: EstateState, fqdn: string) {
  const p = s.pools[fqdn.toLowerCase()];
  if (!p) throw new PreconditionError(`Cannot find pool "${fqdn}" in the topology.`, 'ObjectNotFound');
  return p;
}
const poolUp = (s: EstateState, fqdn: string) => {
  const p = s.pools[fqdn];
  return Boolean(p && p.up && siteUp(s, p.site));
};
export const cmsReachable = (s: EstateState) => poolUp(s, s.cms.pool);

function requireCms(s: EstateState, what: string): void {
  if (!cmsReachable(s)) {
    throw new PreconditionError(
      `${what}: cannot read or publish the topology: the Central Management Store on ${s.cms.pool} is unreachable. ` +
      'Fail the CMS over (Invoke-CsManagementServerFailover) first.', 'ConnectionError');
  }
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

function sqlHost(s: EstateState, server: string) {
  const sql = s.pchatSql;
  const host = [sql.primary, sql.secondary].find((h) => h.server === server.toLowerCase());
  if (!host) throw new PreconditionError(`A network-related or instance-specific error occurred while establishing a connection to SQL Server '${server}'. The server was not found.`, 'ConnectionError', 53);
  if (!host.up || !siteUp(s, host.site)) {
    throw new PreconditionError(`A network-related or instance-specific error occurred while establishing a connection to SQL Server '${server}'. The server was not accessible.`, 'ConnectionError', 53);
  }
  return host;
}

// ---- PowerShell ------------------------------------------------------------------------------

type PsHandler = (s: EstateState, spec: PowerShellSpec, now: Date) => Applied;

const cmdlets: Record<string, PsHandler> = {
  'invoke-cspoolfailover': (s, spec) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    const p = pool(s, fqdn);
    if (!p.backupPool) throw new PreconditionError(`Pool "${fqdn}" does not have a backup pool. Pool failover requires a paired backup pool.`);
    if (p.failedOver) throw new PreconditionError(`Pool "${fqdn}" is already failed over to "${p.backupPool}".`);
    if (!poolUp(s, p.backupPool)) throw new PreconditionError(`Backup pool "${p.backupPool}" is not available: cannot fail over "${fqdn}".`, 'ResourceUnavailable');
    requireCms(s, 'Invoke-CsPoolFailover');
    if (!poolUp(s, fqdn) && !switchArg(spec, 'DisasterMode')) {
      throw new PreconditionError(`Pool "${fqdn}" is unreachable. Use -DisasterMode to fail over a pool that is down.`, 'ResourceUnavailable');
    }
    p.failedOver = true;
    return {
      output: { PoolFqdn: fqdn, BackupPoolFqdn: p.backupPool, DisasterMode: switchArg(spec, 'DisasterMode'), FailoverStatus: 'FailedOver', UsersMoved: p.userCount },
      durationMs: 8 * MIN,
    };
  },
  'invoke-cspoolfailback': (s, spec) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    const p = pool(s, fqdn);
    if (!p.failedOver) throw new PreconditionError(`Pool "${fqdn}" is not failed over; there is nothing to fail back.`);
    if (!poolUp(s, fqdn)) throw new PreconditionError(`Pool "${fqdn}" is not available: bring it back online before failing back.`, 'ResourceUnavailable');
    requireCms(s, 'Invoke-CsPoolFailback');
    p.failedOver = false;
    return { output: { PoolFqdn: fqdn, BackupPoolFqdn: p.backupPool, FailoverStatus: 'Normal' }, durationMs: 10 * MIN };
  },
  'invoke-csmanagementserverfailover': (s, spec) => {
    const cmsPool = pool(s, s.cms.pool);
    const target = cmsPool.backupPool;
    if (!target) throw new PreconditionError(`The CMS pool "${s.cms.pool}" has no backup pool to fail over to.`);
    const server = stringArg(spec, 'BackupSqlServerFqdn', false)?.toLowerCase();
    const instance = stringArg(spec, 'BackupSqlInstanceName', false) ?? 'RTC';
    const disaster = !cmsReachable(s);
    if (disaster && !switchArg(spec, 'Force')) {
      throw new PreconditionError('The active Central Management Store is unreachable: -Force is required to fail over in disaster mode.');
    }
    if (!poolUp(s, target)) throw new PreconditionError(`Backup pool "${target}" is not available.`, 'ResourceUnavailable');
    const newSql = server ?? pool(s, target).frontEnds[0];
    const before = { ...s.cms };
    s.cms = { pool: target, sqlServer: newSql, sqlInstance: instance };
    return { output: { PreviousActiveCms: `${before.sqlServer}\\${before.sqlInstance}`, ActiveCms: `${newSql}\\${instance}`, Pool: target, DisasterMode: disaster }, durationMs: 4 * MIN };
  },
  'get-csmanagementstorereplicationstatus': (s, _spec, now) => {
    requireCms(s, 'Get-CsManagementStoreReplicationStatus');
    const replicas = Object.values(s.pools).flatMap((p) => p.frontEnds.map((fe) => ({
      ReplicaFqdn: fe, UpToDate: p.up && siteUp(s, p.site), LastStatusReport: now.toISOString(), LastUpdateCreation: now.toISOString(),
      ProductVersion: '5.0.8308.0',
    })));
    return { output: replicas, durationMs: 3 * S };
  },
  'invoke-csbackupservicesync': (s, spec, now) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    const p = pool(s, fqdn);
    if (!p.backupPool) throw new PreconditionError(`Pool "${fqdn}" has no backup relationship.`);
    if (!poolUp(s, fqdn) || !poolUp(s, p.backupPool)) throw new PreconditionError(`Backup service sync needs both "${fqdn}" and "${p.backupPool}" online.`, 'ResourceUnavailable');
    p.lastBackupSyncAt = now.toISOString();
    return { output: { PoolFqdn: fqdn, BackupPoolFqdn: p.backupPool, SyncCompletedAt: p.lastBackupSyncAt }, durationMs: 45 * S };
  },
  'get-csbackupservicestatus': (s, spec) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    const p = pool(s, fqdn);
    if (!p.backupPool) throw new PreconditionError(`Pool "${fqdn}" has no backup relationship.`);
    return {
      output: {
        PoolFqdn: fqdn, BackupPoolFqdn: p.backupPool,
        OverallExportStatus: poolUp(s, fqdn) ? 'FinalState' : 'Unknown',
        OverallImportStatus: poolUp(s, p.backupPool) ? 'FinalState' : 'Unknown',
        BackupModules: ['CentralMgmt.CMSMaster', 'ConfServices.DataConf', 'RGS.AppStore'].map((m) => ({
          ModuleName: m, ExportStatus: 'FinalState', LastExportTime: p.lastBackupSyncAt, ImportStatus: 'FinalState', LastImportTime: p.lastBackupSyncAt,
        })),
      },
      durationMs: 2 * S,
    };
  },
  'get-cspoolbackuprelationship': (s, spec) => {
    const fqdn = (stringArg(spec, 'PoolFqdn', false) ?? stringArg(spec, 'PoolFQDN')!).toLowerCase();
    const p = pool(s, fqdn);
    return { output: p.backupPool ? { PoolFqdn: fqdn, BackupPoolFqdn: p.backupPool } : null, durationMs: 1 * S };
  },
  'get-cspoolfabricstate': (s, spec) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    const p = pool(s, fqdn);
    if (!poolUp(s, fqdn)) throw new PreconditionError(`Cannot connect to pool "${fqdn}": no Front End server responded.`, 'ConnectionError');
    return {
      output: { PoolFqdn: fqdn, FrontEnds: p.frontEnds.map((fe) => ({ Fqdn: fe, State: 'Active' })), RoutingGroupsInQuorumLoss: 0, ServingUsersOf: Object.values(s.pools).filter((o) => o.failedOver && o.backupPool === fqdn).map((o) => o.fqdn) },
      durationMs: 5 * S,
    };
  },
  'test-csregistration': (s, spec) => {
    const target = stringArg(spec, 'TargetFqdn')!.toLowerCase();
    pool(s, target);
    const up = poolUp(s, target);
    if (!up) throw new PreconditionError(`Test-CsRegistration: registration against "${target}" failed: the pool is unreachable.`, 'ConnectionError');
    return { output: { TargetFqdn: target, Result: 'Success', Latency: '00:00:00.2150000', Error: null, Diagnosis: null }, durationMs: 8 * S };
  },
  'get-cspool': (s, spec) => {
    const identity = stringArg(spec, 'Identity', false);
    const pools = identity ? [pool(s, identity)] : Object.values(s.pools);
    return { output: pools.map((p) => ({ Identity: p.fqdn, Fqdn: p.fqdn, Site: `Site:${p.site}`, Computers: p.frontEnds })), durationMs: 2 * S };
  },
  'get-csservice': (s, spec) => {
    if (switchArg(spec, 'CentralManagement')) {
      // The CMS location is known to every replica, so this works while the CMS itself is down.
      return { output: [{ Identity: `CentralManagement:${s.cms.pool}`, PoolFqdn: s.cms.pool, SqlServer: s.cms.sqlServer, SqlInstance: s.cms.sqlInstance, Active: true, Reachable: cmsReachable(s) }], durationMs: 2 * S };
    }
    requireCms(s, 'Get-CsService');
    const services: unknown[] = [];
    if (switchArg(spec, 'PersistentChatServer') || !switchArg(spec, 'EdgeServer')) {
      services.push({
        Identity: s.pchat.serviceIdentity, PoolFqdn: s.pchat.poolFqdn, ActiveServers: s.pchat.activeServers,
        InactiveServers: s.pchat.servers.map((x) => x.fqdn).filter((f) => !s.pchat.activeServers.includes(f)),
        Servers: s.pchat.servers.map((x) => ({ Fqdn: x.fqdn, Site: `Site:${x.site}` })),
      });
    }
    if (switchArg(spec, 'EdgeServer') || !switchArg(spec, 'PersistentChatServer')) {
      for (const e of Object.values(s.edges)) services.push({ Identity: `EdgeServer:${e.fqdn}`, PoolFqdn: e.fqdn, Registrar: `Registrar:${e.nextHop}` });
    }
    return { output: services, durationMs: 2 * S };
  },
  'set-csedgeserver': (s, spec) => {
    const edge = s.edges[afterColon(stringArg(spec, 'Identity')!)];
    if (!edge) throw new PreconditionError(`Cannot find Edge pool "${stringArg(spec, 'Identity')}" in the topology.`, 'ObjectNotFound');
    requireCms(s, 'Set-CsEdgeServer');
    const registrar = afterColon(stringArg(spec, 'Registrar')!);
    pool(s, registrar);
    const previous = edge.nextHop;
    edge.nextHop = registrar;
    return { output: { Identity: `EdgeServer:${edge.fqdn}`, Registrar: `Registrar:${registrar}`, PreviousRegistrar: `Registrar:${previous}` }, durationMs: 15 * S };
  },
  'get-cspersistentchatstate': (s, spec) => {
    const identity = stringArg(spec, 'Identity')!;
    if (identity.toLowerCase() !== s.pchat.serviceIdentity.toLowerCase()) throw new PreconditionError(`Cannot find "${identity}".`, 'ObjectNotFound');
    return { output: { Identity: s.pchat.serviceIdentity, PoolState: s.pchat.state }, durationMs: 2 * S };
  },
  'set-cspersistentchatstate': (s, spec) => {
    const identity = stringArg(spec, 'Identity')!;
    if (identity.toLowerCase() !== s.pchat.serviceIdentity.toLowerCase()) throw new PreconditionError(`Cannot find "${identity}".`, 'ObjectNotFound');
    requireCms(s, 'Set-CsPersistentChatState');
    const state = stringArg(spec, 'PoolState')!;
    const sql = s.pchatSql;
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
    s.pchat.state = state;
    return { output: { Identity: s.pchat.serviceIdentity, PoolState: state }, durationMs: 20 * S };
  },
  'set-cspersistentchatactiveserver': (s, spec) => {
    requireCms(s, 'Set-CsPersistentChatActiveServer');
    const a = argument(spec, 'ActiveServers');
    let next: string[];
    if (!a || a.kind === 'null') next = [];
    else if (a.kind === 'listAdd') next = [...new Set([...s.pchat.activeServers, ...a.value.map((v) => v.toLowerCase())])];
    else if (a.kind === 'listRemove') next = s.pchat.activeServers.filter((x) => !a.value.map((v) => v.toLowerCase()).includes(x));
    else if (a.kind === 'value') next = (Array.isArray(a.value) ? a.value : [String(a.value)]).map((v) => v.toLowerCase());
    else throw new PreconditionError('Cannot bind parameter ActiveServers.', 'InvalidArgument');
    // Without -ActiveServers the real cmdlet changes nothing (it does not clear the list).
    if (!a) return { output: { Identity: s.pchat.collectionIdentity, ActiveServers: s.pchat.activeServers }, durationMs: 5 * S };
    const members = new Map(s.pchat.servers.map((x) => [x.fqdn, x]));
    const foreign = next.filter((x) => !members.has(x));
    if (foreign.length) throw new PreconditionError(`Server(s) ${foreign.join(', ')} are not members of Persistent Chat pool "${s.pchat.poolFqdn}".`, 'InvalidArgument');
    if (next.length > 4) throw new PreconditionError(`At most 4 Persistent Chat servers can be active; ${next.length} were given.`, 'InvalidArgument');
    const down = next.filter((x) => { const m = members.get(x)!; return !m.up || !siteUp(s, m.site); });
    if (down.length) throw new PreconditionError(`Server(s) ${down.join(', ')} are not reachable and cannot be made active.`, 'ResourceUnavailable');
    const previous = s.pchat.activeServers;
    s.pchat.activeServers = next;
    return { output: { Identity: s.pchat.collectionIdentity, ActiveServers: next, PreviousActiveServers: previous }, durationMs: 10 * S };
  },
  'install-csmirrordatabase': (s) => {
    const sec = sqlHost(s, s.pchatSql.secondary.server);
    if (sec.mgc !== 'ONLINE') throw new PreconditionError('Install-CsMirrorDatabase: the principal mgc is not online.');
    s.pchatSql.secondary.mirror = true;
    return { output: { Principal: sec.server, Databases: ['mgc', 'mgccomp'], Mirroring: 'Installed' }, durationMs: 6 * MIN };
  },
  'uninstall-csmirrordatabase': (s) => {
    if (!s.pchatSql.secondary.mirror) throw new PreconditionError('No mirror is installed for the Persistent Chat databases.');
    s.pchatSql.secondary.mirror = false;
    return { output: { Mirroring: 'Removed' }, durationMs: 2 * MIN };
  },
  'export-cspersistentchatdata': (s, spec, now) => {
    const online = [s.pchatSql.primary, s.pchatSql.secondary].find((h) => h.up && siteUp(s, h.site) && h.mgc === 'ONLINE');
    if (!online) throw new PreconditionError('Export-CsPersistentChatData: no online mgc database to export from.', 'ConnectionError');
    return { output: { FileName: stringArg(spec, 'FileName', false) ?? null, ExportedFrom: online.server, ExportedAt: now.toISOString(), SizeBytes: 153_600 }, durationMs: 3 * MIN };
  },
  'import-cspersistentchatdata': (s, spec) => {
    const online = [s.pchatSql.primary, s.pchatSql.secondary].find((h) => h.up && siteUp(s, h.site) && h.mgc === 'ONLINE');
    if (!online) throw new PreconditionError('Import-CsPersistentChatData: no online mgc database to import into.', 'ConnectionError');
    return { output: { FileName: stringArg(spec, 'FileName', false) ?? null, ImportedInto: online.server }, durationMs: 5 * MIN };
  },
  'move-csuser': (s, spec) => {
    const target = stringArg(spec, 'Target')!.toLowerCase();
    if (!poolUp(s, target)) throw new PreconditionError(`Target pool "${target}" is not available.`, 'ResourceUnavailable');
    requireCms(s, 'Move-CsUser');
    const users = spec.pipeline?.values ?? [stringArg(spec, 'Identity')!];
    return { output: users.map((u) => ({ Identity: u, RegistrarPool: target, ContactListPreserved: !switchArg(spec, 'Force') })), durationMs: users.length * 2 * S };
  },
};

function dnsCmdlet(s: EstateState, spec: PowerShellSpec): Applied {
  const zone = (stringArg(spec, 'ZoneName', false) ?? '').toLowerCase();
  const name = (stringArg(spec, 'Name', false) ?? '@').toLowerCase();
  const owner = name === '@' ? zone : zone ? `${name}.${zone}` : name;
  const rec = s.dns[owner];
  if (/^get-/i.test(spec.cmdlet)) {
    if (!rec) throw new PreconditionError(`Failed to get ${owner} record in ${zone} zone: the record was not found.`, 'ObjectNotFound');
    return { output: { HostName: name, RecordType: rec.type, RecordData: rec.target, TimeToLive: rec.ttl }, durationMs: 1 * S };
  }
  if (/^remove-/i.test(spec.cmdlet)) {
    const data = stringArg(spec, 'RecordData', false);
    if (!rec || (data && data.toLowerCase() !== rec.target.toLowerCase())) {
      throw new PreconditionError(`Failed to remove ${owner}: no record with data ${data ?? '(any)'} exists.`, 'ObjectNotFound');
    }
    delete s.dns[owner];
    return { output: { HostName: owner, RemovedRecordData: rec.target }, durationMs: 2 * S };
  }
  const srvTarget = stringArg(spec, 'DomainName', false);
  const port = argument(spec, 'Port');
  const target = stringArg(spec, 'IPv4Address', false) ?? stringArg(spec, 'HostNameAlias', false)
    ?? (srvTarget ? `${srvTarget}:${port?.kind === 'value' ? String(port.value) : '5061'}` : undefined);
  if (!target) throw new PreconditionError('DNS record change without record data.', 'InvalidArgument');
  // One record per name in this model: a repoint is remove + add, as on a real DNS server.
  if (rec) throw new PreconditionError(`Failed to create resource record ${owner} in zone ${zone}: the record already exists (${rec.target}). Remove it first.`, 'ResourceExists');
  const type = /CName$/i.test(spec.cmdlet) ? 'CNAME' : /Srv$/i.test(spec.cmdlet) ? 'SRV' : 'A';
  const ttlArg = stringArg(spec, 'TimeToLive', false);
  const ttl = ttlArg ? ttlArg.split(':').reduce((acc, part) => acc * 60 + Number(part), 0) : 300;
  s.dns[owner] = { type, target, ttl };
  return { output: { HostName: owner, RecordType: type, RecordData: target, TimeToLive: ttl }, durationMs: 3 * S };
}

function runPowerShell(s: EstateState, spec: PowerShellSpec, now: Date): Applied {
  if (argument(spec, 'WhatIf') && switchArg(spec, 'WhatIf')) {
    // -WhatIf: the cmdlet validates and describes, and changes nothing.
    const copy = structuredClone(s);
    const applied = applyPs(copy, spec, now);
    return { output: { WhatIf: true, WouldReturn: applied.output }, durationMs: 2 * S };
  }
  return applyPs(s, spec, now);
}
function applyPs(s: EstateState, spec: PowerShellSpec, now: Date): Applied {
  if (/DnsServerResourceRecord/i.test(spec.cmdlet)) return dnsCmdlet(s, spec);
  const h = cmdlets[spec.cmdlet.toLowerCase()];
  if (!h) throw new PreconditionError(`The term '${spec.cmdlet}' is not recognized as the name of a cmdlet in the simulated estate.`, 'ObjectNotFound');
  return h(s, spec, now);
}

// ---- SQL ---------------------------------------------------------------------------------------

function fileParam(spec: SqlSpec): string | undefined {
  const p = spec.parameters.find((x) => typeof x.value === 'string' && /\.(trn|bak)$/i.test(x.value));
  return p?.value as string | undefined;
}
const baseName = (p: string) => p.split('\\').pop()!.toLowerCase();

function runSql(s: EstateState, spec: SqlSpec, now: Date): Applied {
  const host = sqlHost(s, spec.server);
  const text = spec.statement.replace(/\s+/g, ' ');
  const sql = s.pchatSql;
  const isSecondary = host === sql.secondary;
  const ls = sql.logShipping;

  if (/log_shipping_monitor_secondary|sp_help_log_shipping/i.test(text)) {
    // After sp_delete_log_shipping_secondary_database the monitor history is gone: empty result.
    const rows = isSecondary && ls.monitor
      ? [{ secondary_server: sql.secondary.server, secondary_database: 'mgc', primary_server: sql.primary.server, primary_database: 'mgc', ...ls.monitor }]
      : [];
    return { output: rows, durationMs: 1 * S };
  }
  if (/sp_delete_log_shipping_secondary_database/i.test(text)) {
    if (!isSecondary) throw new PreconditionError('sp_delete_log_shipping_secondary_database must run on the secondary server.', 'InvalidOperation', 32010);
    if (!ls.configured) throw new PreconditionError("Database 'mgc' does not exist as a log-shipping secondary database.", 'InvalidOperation', 32010);
    ls.configured = false;
    ls.monitor = null;
    return { output: { returnValue: 0 }, durationMs: 5 * S };
  }
  if (/\bRESTORE\s+LOG\b/i.test(text)) {
    if (!isSecondary) throw new PreconditionError('The simulated estate only restores logs on the log-shipping secondary.', 'InvalidOperation', 3013);
    const file = fileParam(spec);
    if (!file) throw new PreconditionError('RESTORE LOG without a backup file.', 'InvalidArgument', 3013);
    if (sql.secondary.recovered || sql.secondary.mgc === 'ONLINE') {
      throw new PreconditionError('Msg 3117: The log or differential backup cannot be restored because no files are ready to rollforward. RESTORE LOG is terminating abnormally.', 'InvalidOperation', 3117);
    }
    const f = sql.copyFolder.files.find((x) => x.name.toLowerCase() === baseName(file));
    if (!f) throw new PreconditionError(`Msg 3201: Cannot open backup device '${file}'. Operating system error 2 (The system cannot find the file specified.)`, 'ObjectNotFound', 3201);
    const next = sql.secondary.lastRestoredSeq + 1;
    if (f.seq > next) {
      throw new PreconditionError(`Msg 4305: The log in this backup set begins at LSN ${f.seq}00000000100001, which is too recent to apply to the database. An earlier log backup that includes LSN ${next}00000000100001 can be restored.`, 'InvalidOperation', 4305);
    }
    if (f.seq < next) {
      throw new PreconditionError(`Msg 4326: The log in this backup set terminates at LSN ${f.seq + 1}00000000100001, which is too early to apply to the database. A more recent log backup that includes LSN ${next}00000000100001 can be restored.`, 'InvalidOperation', 4326);
    }
    const recovery = /WITH\s+(?:.*,\s*)?RECOVERY\b/i.test(text) && !/NORECOVERY/i.test(text);
    sql.secondary.lastRestoredSeq = f.seq;
    if (recovery) { sql.secondary.recovered = true; sql.secondary.mgc = 'ONLINE'; }
    return { output: { file: f.name, pagesProcessed: 1200 + f.seq * 37, recovered: recovery }, durationMs: 30 * S };
  }
  if (/\bRESTORE\s+DATABASE\b/i.test(text) && /\bFROM\s+DISK\b/i.test(text)) {
    const file = fileParam(spec);
    const backup = sql.fullBackups.find((b) => file && b.path.toLowerCase() === file.toLowerCase());
    if (!backup) throw new PreconditionError(`Msg 3201: Cannot open backup device '${file ?? ''}'. Operating system error 2 (The system cannot find the file specified.)`, 'ObjectNotFound', 3201);
    if (host.mgc === 'ONLINE' && !/\bREPLACE\b/i.test(text) && host.server !== backup.fromServer) {
      throw new PreconditionError("Msg 3159: The tail of the log for the database 'mgc' has not been backed up. Use WITH REPLACE to overwrite it.", 'InvalidOperation', 3159);
    }
    host.mgc = /NORECOVERY/i.test(text) ? 'RESTORING' : 'ONLINE';
    return { output: { restoredFrom: backup.path, server: host.server, state: host.mgc }, durationMs: 3 * MIN };
  }
  if (/\bRESTORE\s+DATABASE\b.*\bWITH\s+RECOVERY\b/i.test(text)) {
    if (host.mgc === 'ONLINE') throw new PreconditionError("Msg 3101: Exclusive access could not be obtained because the database is in use / the database 'mgc' is already online.", 'InvalidOperation', 3101);
    host.mgc = 'ONLINE';
    if (isSecondary) sql.secondary.recovered = true;
    return { output: { database: 'mgc', server: host.server, state: 'ONLINE' }, durationMs: 20 * S };
  }
  if (/\bBACKUP\s+DATABASE\b/i.test(text)) {
    if (host.mgc !== 'ONLINE') throw new PreconditionError("Msg 927: Database 'mgc' cannot be opened. It is in the middle of a restore.", 'InvalidOperation', 927);
    const file = fileParam(spec);
    if (!file) throw new PreconditionError('BACKUP DATABASE without a destination file.', 'InvalidArgument', 3013);
    sql.fullBackups = sql.fullBackups.filter((b) => b.path.toLowerCase() !== file.toLowerCase());
    sql.fullBackups.push({ path: file, database: 'mgc', takenAt: now.toISOString(), fromServer: host.server });
    return { output: { file, server: host.server, pages: 48_211 }, durationMs: 2 * MIN };
  }
  if (/SET\s+PARTNER\s+OFF/i.test(text)) {
    if (!sql.secondary.mirror) throw new PreconditionError("Msg 1416: Database is not configured for database mirroring.", 'InvalidOperation', 1416);
    sql.secondary.mirror = false;
    return { output: { mirroring: 'removed' }, durationMs: 5 * S };
  }
  if (/sp_who|dm_exec_sessions/i.test(text)) {
    // A RESTORING database has no user sessions; an online one has the pChat servers' sessions.
    const sessions = host.mgc === 'ONLINE' ? s.pchat.activeServers.map((srv, i) => ({ spid: 60 + i, status: 'sleeping', loginame: 'CONTOSO\\RTCComponentUniversalServices', hostname: srv.split('.')[0], dbname: 'mgc' })) : [];
    return { output: sessions, durationMs: 1 * S };
  }
  if (/\bKILL\b|SINGLE_USER|MULTI_USER/i.test(text)) return { output: { ok: true }, durationMs: 1 * S };
  throw new PreconditionError(`The simulated estate does not implement this statement: ${text.slice(0, 200)}`, 'NotImplemented');
}

// ---- files -------------------------------------------------------------------------------------

function runFile(s: EstateState, spec: FileSpec): Applied {
  const sql = s.pchatSql;
  const folders: Record<string, { files: LogBackupFile[]; site: string }> = {
    [sql.backupShare.path.toLowerCase()]: { files: sql.backupShare.files, site: sql.backupShare.site },
    [sql.copyFolder.path.toLowerCase()]: { files: sql.copyFolder.files, site: sql.secondary.site },
  };
  const folder = (p: string) => {
    const f = folders[p.replace(/\\$/, '').toLowerCase()];
    if (!f) throw new PreconditionError(`Cannot find path '${p}' because it does not exist.`, 'ObjectNotFound');
    if (!siteUp(s, f.site)) throw new PreconditionError(`The network path '${p}' was not found.`, 'ConnectionError');
    return f;
  };
  if (spec.operation === 'list') {
    const f = folder(spec.folder);
    const re = new RegExp(`^${spec.pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    return { output: f.files.filter((x) => re.test(x.name)).map((x) => ({ Name: x.name, Length: 1_048_576, LastWriteTimeUtc: x.createdAt })), durationMs: 1 * S };
  }
  const from = folder(spec.sourceFolder);
  const to = folder(spec.destinationFolder);
  const copied: string[] = [];
  for (const name of spec.files) {
    const f = from.files.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!f) throw new PreconditionError(`Cannot find path '${spec.sourceFolder}\\${name}' because it does not exist.`, 'ObjectNotFound');
    const existing = to.files.findIndex((x) => x.name.toLowerCase() === f.name.toLowerCase());
    if (existing >= 0 && !spec.overwrite) continue;
    if (existing >= 0) to.files.splice(existing, 1);
    to.files.push({ ...f });
    copied.push(f.name);
  }
  to.files.sort((a, b) => a.seq - b.seq);
  return { output: copied.map((n) => ({ Name: n, Destination: spec.destinationFolder })), durationMs: Math.max(1, copied.length) * 5 * S };
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
      return { output: { exitCode: 0, args: spec.args }, durationMs: 2 * MIN };
  }
}

/** Takes a site or a pool (FQDN) down, as a disaster would; `recover` brings it back. */
export function setDown(s: EstateState, target: string, down = true): string {
  const t = target.toLowerCase();
  if (s.sites[t]) {
    s.sites[t].up = !down;
    return `site ${t}`;
  }
  if (s.pools[t]) {
    s.pools[t].up = !down;
    return `pool ${t}`;
  }
  const host = [s.pchatSql.primary, s.pchatSql.secondary].find((h) => h.server === t);
  if (host) {
    host.up = !down;
    return `SQL server ${t}`;
  }
  throw new PreconditionError(`"${target}" is neither a site (${Object.keys(s.sites).join(', ')}) nor a pool (${Object.keys(s.pools).join(', ')}).`, 'ObjectNotFound');
}
