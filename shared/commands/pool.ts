// Front End pool, backup service and CMS commands (runbooks 1, 2, 8, 10).
import { z } from 'zod';
import { arg, defineCommand, ps } from './define.js';
import { fqdn, secretName, sipAddress, sqlInstance, timeSpan, waitSeconds } from './values.js';

export const poolFailover = defineCommand({
  name: 'pool.failover',
  kind: 'powershell',
  summary: 'Fail a Front End pool over to its paired backup pool (Invoke-CsPoolFailover).',
  params: z.strictObject({ poolFqdn: fqdn, disasterMode: z.boolean().default(true), waitSeconds: waitSeconds.optional() }),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: { poolFqdn: 'eepool1.contoso.com' },
  build: (p) =>
    ps('Invoke-CsPoolFailover', [
      arg.value('PoolFqdn', p.poolFqdn),
      p.disasterMode && arg.switch('DisasterMode'),
      p.waitSeconds !== undefined && arg.value('WaitTime', timeSpan(p.waitSeconds)),
      arg.noConfirm(),
    ]),
});

export const poolFailback = defineCommand({
  name: 'pool.failback',
  kind: 'powershell',
  summary: 'Fail a Front End pool back from its backup pool (Invoke-CsPoolFailback).',
  params: z.strictObject({ poolFqdn: fqdn, disasterMode: z.boolean().default(false), waitSeconds: waitSeconds.optional() }),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: { poolFqdn: 'eepool1.contoso.com' },
  build: (p) =>
    ps('Invoke-CsPoolFailback', [
      arg.value('PoolFqdn', p.poolFqdn),
      p.disasterMode && arg.switch('DisasterMode'),
      p.waitSeconds !== undefined && arg.value('WaitTime', timeSpan(p.waitSeconds)),
      arg.noConfirm(),
    ]),
});

export const poolGet = defineCommand({
  name: 'pool.get',
  kind: 'powershell',
  summary: 'Read a pool and its member computers (Get-CsPool).',
  params: z.strictObject({ poolFqdn: fqdn }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { poolFqdn: 'eepool2.contoso.com' },
  build: (p) => ps('Get-CsPool', [arg.value('Identity', p.poolFqdn)]),
});

export const poolBackupRelationship = defineCommand({
  name: 'pool.backupRelationship',
  kind: 'powershell',
  summary: 'Show the backup pool paired with a pool (Get-CsPoolBackupRelationship).',
  params: z.strictObject({ poolFqdn: fqdn, localStore: z.boolean().default(false) }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { poolFqdn: 'eepool1.contoso.com', localStore: true },
  build: (p) => ps('Get-CsPoolBackupRelationship', [arg.value('PoolFqdn', p.poolFqdn), p.localStore && arg.switch('LocalStore')]),
});

export const poolFabricState = defineCommand({
  name: 'pool.fabricState',
  kind: 'powershell',
  summary: 'Read the Windows Fabric state of a pool (Get-CsPoolFabricState).',
  params: z.strictObject({ poolFqdn: fqdn, type: z.enum(['All', 'MCUFactory', 'ConferenceDirectory', 'Routing', 'LYSS']).optional() }),
  effect: 'read-only',
  // It documents ShouldProcess although it only reads; we never pass -WhatIf to a read.
  supportsWhatIf: false,
  example: { poolFqdn: 'eepool2.contoso.com', type: 'Routing' },
  build: (p) => ps('Get-CsPoolFabricState', [arg.value('PoolFqdn', p.poolFqdn), p.type && arg.value('Type', p.type), arg.noConfirm()]),
});

export const poolTestRegistration = defineCommand({
  name: 'pool.testRegistration',
  kind: 'powershell',
  // The ClientPlatform set: one named test user signs in with its own credential, so a success
  // proves that this user's sign-in works on that pool. The ServerPlatform set (no user) signs in
  // the health-monitoring accounts, whatever pool they are homed on, and proves nothing of the kind.
  summary: "Synthetic sign-in of one test user against a pool, its credential read from the worker's secret vault (Test-CsRegistration -UserSipAddress -UserCredential).",
  params: z.strictObject({ targetFqdn: fqdn, userSipAddress: sipAddress, userCredential: secretName }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { targetFqdn: 'eepool2.contoso.com', userSipAddress: 'sip:lyncdr.test1@contoso.com', userCredential: 'lyncdr-test-eepool1' },
  build: (p) => ps('Test-CsRegistration', [
    arg.value('TargetFqdn', p.targetFqdn), arg.value('UserSipAddress', p.userSipAddress), arg.credential('UserCredential', p.userCredential),
  ]),
});

export const backupServiceStatus = defineCommand({
  name: 'backup.status',
  kind: 'powershell',
  summary: 'Backup service status and last sync for a paired pool (Get-CsBackupServiceStatus).',
  params: z.strictObject({ poolFqdn: fqdn, category: z.enum(['CMS', 'UserData', 'RGS']).optional() }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { poolFqdn: 'eepool1.contoso.com' },
  build: (p) => ps('Get-CsBackupServiceStatus', [arg.value('PoolFqdn', p.poolFqdn), p.category && arg.value('Category', p.category)]),
});

export const backupServiceSync = defineCommand({
  name: 'backup.sync',
  kind: 'powershell',
  summary: 'Force a backup service sync for a pool (Invoke-CsBackupServiceSync).',
  params: z.strictObject({
    poolFqdn: fqdn,
    backupModule: z.enum(['UserServices.PresenceFocus', 'ConfServices.DataConf', 'CentralMgmt.CMSMaster']).optional(),
  }),
  effect: 'idempotent',
  supportsWhatIf: false,
  example: { poolFqdn: 'eepool2.contoso.com' },
  build: (p) => ps('Invoke-CsBackupServiceSync', [arg.value('PoolFqdn', p.poolFqdn), p.backupModule && arg.value('BackupModule', p.backupModule)]),
});

export const cmsFailover = defineCommand({
  name: 'cms.failover',
  kind: 'powershell',
  summary: 'Fail the Central Management Store over to the backup pool SQL store (Invoke-CsManagementServerFailover, disaster mode).',
  params: z
    .strictObject({
      backupSqlServerFqdn: fqdn,
      backupSqlInstanceName: sqlInstance.optional(),
      backupMirrorSqlServerFqdn: fqdn.optional(),
      backupMirrorSqlInstanceName: sqlInstance.optional(),
    })
    .refine((p) => p.backupMirrorSqlInstanceName === undefined || p.backupMirrorSqlServerFqdn !== undefined, {
      path: ['backupMirrorSqlInstanceName'],
      message: 'needs backupMirrorSqlServerFqdn',
    }),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: { backupSqlServerFqdn: 'eepool2-sql.contoso.com', backupSqlInstanceName: 'RTC' },
  build: (p) =>
    ps('Invoke-CsManagementServerFailover', [
      arg.value('BackupSqlServerFqdn', p.backupSqlServerFqdn),
      p.backupSqlInstanceName && arg.value('BackupSqlInstanceName', p.backupSqlInstanceName),
      p.backupMirrorSqlServerFqdn && arg.value('BackupMirrorSqlServerFqdn', p.backupMirrorSqlServerFqdn),
      p.backupMirrorSqlInstanceName && arg.value('BackupMirrorSqlInstanceName', p.backupMirrorSqlInstanceName),
      // Required in the DisasterRecovery parameter set (skips the replication wait); not a prompt bypass.
      arg.switch('Force'),
      arg.noConfirm(),
    ]),
});

/**
 * The Normal parameter set: the CMS is healthy, so nothing names the target (it is the other
 * database the topology defines) and there is no -Force: the cmdlet waits for replication, then
 * makes the source read-only. For a failback and a planned move; cms.failover is for a lost CMS.
 */
export const cmsMove = defineCommand({
  name: 'cms.move',
  kind: 'powershell',
  summary: 'Move a healthy Central Management Store to the other store the topology defines (Invoke-CsManagementServerFailover, Normal parameter set: waits for replication).',
  params: z.strictObject({}),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: {},
  build: () => ps('Invoke-CsManagementServerFailover', [arg.noConfirm()]),
});

export const cmsReplicationStatus = defineCommand({
  name: 'cms.replicationStatus',
  kind: 'powershell',
  summary: 'CMS replication state, or with centralManagementStoreStatus the active master location (Get-CsManagementStoreReplicationStatus).',
  params: z.strictObject({ centralManagementStoreStatus: z.boolean().default(false), replicaFqdn: fqdn.optional() }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { centralManagementStoreStatus: true },
  build: (p) =>
    ps('Get-CsManagementStoreReplicationStatus', [
      p.replicaFqdn && arg.value('ReplicaFqdn', p.replicaFqdn),
      p.centralManagementStoreStatus && arg.switch('CentralManagementStoreStatus'),
    ]),
});

export const cmsLocate = defineCommand({
  name: 'cms.locate',
  kind: 'powershell',
  summary: 'Which pool hosts the active CMS (Get-CsService -CentralManagement).',
  params: z.strictObject({}),
  effect: 'read-only',
  supportsWhatIf: false,
  example: {},
  build: () => ps('Get-CsService', [arg.switch('CentralManagement')]),
});
