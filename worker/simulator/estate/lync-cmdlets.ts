// Pools, the CMS, the Backup Service, registration, Edge next hops and Response Groups.
import { refusePoolFailoverWhileEdgeRoutesTo } from '../edge-next-hop.js';
import { afterColon, cmsReachable, credentialArg, exportFile, lastBackupSync, MIN, nothing, pool, poolUp, PreconditionError, requireCms, requireFile, S, sameText, servingPool, stringArg, switchArg, type PsHandler } from './model.js';
import { userPool } from './users.js';

export const lyncCmdlets: Record<string, PsHandler> = {
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
    const server = stringArg(spec, 'BackupSqlServerFqdn', false)?.toLowerCase();
    if (server === undefined) {
      // The Normal set: no target, no -Force. It reads the active store and waits for every replica
      // of the target to be current before it makes the source read-only, so it needs both.
      if (switchArg(spec, 'Force')) throw new PreconditionError('Parameter set cannot be resolved using the specified named parameters: -Force belongs to the DisasterRecovery set, which needs -BackupSqlServerFqdn.', 'InvalidArgument');
      if (!cmsReachable(s)) throw new PreconditionError(`The active Central Management Store on "${s.cms.pool}" is unreachable: the Normal parameter set cannot wait for its replication. Use -BackupSqlServerFqdn and -Force (DisasterRecovery) for a lost CMS.`, 'ResourceUnavailable');
      if (!poolUp(s, target)) throw new PreconditionError(`Backup pool "${target}" is not available: its replicas cannot be brought up to date.`, 'ResourceUnavailable');
      s.cms = { pool: target, sqlServer: tp.backEnd.server, ...(tp.backEnd.instance ? { sqlInstance: tp.backEnd.instance } : {}) };
      return nothing(5 * MIN);
    }
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
    // The docs define no output objects for this cmdlet, so lyncdr checks nothing in it and the
    // simulator invents no properties to check: a text report, kept only for the reader.
    return {
      output: [`Pool ${fqdn}: ${p.frontEnds.length} Front End(s) responding (${stringArg(spec, 'Type', false) ?? 'All'})`],
      durationMs: 5 * S,
    };
  },
  'test-csregistration': (s, spec, _now, workerSite) => {
    const target = stringArg(spec, 'TargetFqdn')!.toLowerCase();
    pool(s, target);
    const user = stringArg(spec, 'UserSipAddress', false)?.toLowerCase();
    const credential = credentialArg(s, spec, 'UserCredential', workerSite);
    if (!user || !credential) {
      // The ServerPlatform set signs in the health-monitoring accounts (New-CsHealthMonitoringConfiguration),
      // which this estate, like many, has none of; and they prove nothing of any one pool's users.
      throw new PreconditionError(
        `Test-CsRegistration: no health monitoring configuration was found for "${target}": without -UserCredential the cmdlet signs in ` +
        'the health-monitoring test users, and there are none. Give the test user with -UserSipAddress and -UserCredential.', 'ObjectNotFound');
    }
    if (!poolUp(s, target)) throw new PreconditionError(`Test-CsRegistration: registration against "${target}" failed: the pool is unreachable.`, 'ConnectionError');
    const account = s.accounts[user];
    const fail = (error: string, diagnosis: string) => ({ output: [{ TargetFqdn: target, Result: 'Failure', Latency: '00:00:00', Error: error, Diagnosis: diagnosis }], durationMs: 8 * S });
    // -UserSipAddress must match -UserCredential: the registrar authenticates the credential's account.
    if (!account || !sameText(account.userName, credential.userName) || account.password !== credential.password) {
      return fail(`401, Unauthorized: the credential of ${credential.userName} was refused for ${user}.`, 'ErrorCode=4001,Source=' + target + ',Reason=Authentication failed');
    }
    const home = userPool(s, user);
    if (!home) throw new PreconditionError(`User "${user}" was not found.`, 'ObjectNotFound');
    const serving = servingPool(pool(s, home));
    if (serving !== target) return fail(`User ${user} is served by ${serving}, not ${target}.`, 'ErrorCode=4005');
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
