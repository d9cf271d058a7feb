// Persistent Chat commands (runbooks 3-7). Get-CsPersistentChatActiveServer does not exist:
// the active list and the collection identity are read through Get-CsService.
import { z } from 'zod';
import { arg, defineCommand, ps } from './define.js';
import { activeServerCollectionIdentity, fqdn, localPath, pchatServiceIdentity, sqlInstance, sqlServerInstance, uncPath, windowsPath } from './values.js';

export const pchatGetState = defineCommand({
  name: 'pchat.getState',
  kind: 'powershell',
  summary: 'Read the Persistent Chat pool state, Normal or FailedOver (Get-CsPersistentChatState).',
  params: z.strictObject({ identity: pchatServiceIdentity }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { identity: 'PersistentChatServer:pchatpool1.contoso.com' },
  build: (p) => ps('Get-CsPersistentChatState', [arg.value('Identity', p.identity)]),
});

export const pchatSetState = defineCommand({
  name: 'pchat.setState',
  kind: 'powershell',
  summary: 'Set the Persistent Chat pool state (Set-CsPersistentChatState).',
  params: z.strictObject({ identity: pchatServiceIdentity, poolState: z.enum(['FailedOver', 'Normal']) }),
  effect: 'idempotent',
  supportsWhatIf: true,
  example: { identity: 'PersistentChatServer:pchatpool1.contoso.com', poolState: 'FailedOver' },
  build: (p) => ps('Set-CsPersistentChatState', [arg.value('Identity', p.identity), arg.value('PoolState', p.poolState), arg.noConfirm()]),
});

export const pchatGetServices = defineCommand({
  name: 'pchat.getServices',
  kind: 'powershell',
  summary: 'Persistent Chat services, their active servers and collection identity (Get-CsService -PersistentChatServer).',
  params: z.strictObject({ poolFqdn: fqdn.optional() }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { poolFqdn: 'pchatpool1.contoso.com' },
  build: (p) => ps('Get-CsService', [arg.switch('PersistentChatServer'), p.poolFqdn && arg.value('PoolFqdn', p.poolFqdn)]),
});

export const pchatAddActiveServers = defineCommand({
  name: 'pchat.addActiveServers',
  kind: 'powershell',
  summary: 'Add servers to the Persistent Chat active-server list (Set-CsPersistentChatActiveServer -ActiveServers @{Add=...}).',
  params: z.strictObject({
    identity: activeServerCollectionIdentity,
    servers: z.array(fqdn).min(1).max(4, 'at most 4 Persistent Chat servers can be active'),
  }),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: { identity: 'global', servers: ['pchat5.contoso.com', 'pchat6.contoso.com'] },
  build: (p) => ps('Set-CsPersistentChatActiveServer', [arg.value('Identity', p.identity), arg.listAdd('ActiveServers', p.servers), arg.noConfirm()]),
});

export const pchatClearActiveServers = defineCommand({
  name: 'pchat.clearActiveServers',
  kind: 'powershell',
  // Running the cmdlet with no parameters does not clear the list; $null does.
  summary: 'Empty the Persistent Chat active-server list (Set-CsPersistentChatActiveServer -ActiveServers $null).',
  params: z.strictObject({ identity: activeServerCollectionIdentity }),
  effect: 'idempotent',
  supportsWhatIf: true,
  example: { identity: 'global' },
  build: (p) => ps('Set-CsPersistentChatActiveServer', [arg.value('Identity', p.identity), arg.null('ActiveServers'), arg.noConfirm()]),
});

const mirrorDatabaseType = z.enum(['PersistentChat', 'PersistentChatCompliance']);

export const pchatInstallMirror = defineCommand({
  name: 'pchat.installMirror',
  kind: 'powershell',
  summary: 'Mirror a Persistent Chat database on its (new) primary SQL server (Install-CsMirrorDatabase).',
  params: z.strictObject({
    sqlServerFqdn: fqdn,
    sqlInstanceName: sqlInstance.optional(),
    databaseType: mirrorDatabaseType.default('PersistentChat'),
    fileShare: uncPath,
    dropExistingDatabasesOnMirror: z.boolean().default(false),
  }),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: { sqlServerFqdn: 'pchatsql-west.contoso.com', sqlInstanceName: 'PCHAT', fileShare: '\\\\fs-west.contoso.com\\mirror' },
  build: (p) =>
    ps('Install-CsMirrorDatabase', [
      arg.value('DatabaseType', p.databaseType),
      arg.value('FileShare', p.fileShare),
      arg.value('SqlServerFqdn', p.sqlServerFqdn),
      p.sqlInstanceName && arg.value('SqlInstanceName', p.sqlInstanceName),
      p.dropExistingDatabasesOnMirror && arg.switch('DropExistingDatabasesOnMirror'),
      arg.noConfirm(),
    ]),
});

export const pchatUninstallMirror = defineCommand({
  name: 'pchat.uninstallMirror',
  kind: 'powershell',
  summary: 'Remove the mirror of a Persistent Chat database from the topology (Uninstall-CsMirrorDatabase).',
  params: z.strictObject({
    sqlServerFqdn: fqdn,
    sqlInstanceName: sqlInstance.optional(),
    databaseType: mirrorDatabaseType.default('PersistentChat'),
    dropExistingDatabasesOnMirror: z.boolean().default(false),
  }),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: { sqlServerFqdn: 'pchatsql-west.contoso.com', sqlInstanceName: 'PCHAT' },
  build: (p) =>
    ps('Uninstall-CsMirrorDatabase', [
      arg.value('DatabaseType', p.databaseType),
      arg.value('SqlServerFqdn', p.sqlServerFqdn),
      p.sqlInstanceName && arg.value('SqlInstanceName', p.sqlInstanceName),
      p.dropExistingDatabasesOnMirror && arg.switch('DropExistingDatabasesOnMirror'),
      arg.noConfirm(),
    ]),
});

const zipPath = windowsPath.refine((s) => /\.zip$/i.test(s), 'must name a .zip file');

export const pchatExportData = defineCommand({
  name: 'pchat.exportData',
  kind: 'powershell',
  summary: 'Export Persistent Chat data to a .zip (Export-CsPersistentChatData); about 20x smaller than a SQL backup.',
  params: z.strictObject({
    sqlServerFqdn: fqdn,
    sqlInstanceName: sqlInstance.optional(),
    fileName: zipPath,
    level: z.enum(['All', 'User', 'Category', 'RoomDirectory', 'Content']).optional(),
  }),
  effect: 'non-idempotent',
  supportsWhatIf: false,
  example: { sqlServerFqdn: 'pchatsql-east.contoso.com', sqlInstanceName: 'PCHAT', fileName: '\\\\fs-west.contoso.com\\pchat-export\\pchat-2024-01-01.zip' },
  build: (p) =>
    ps('Export-CsPersistentChatData', [
      arg.value('DBInstance', sqlServerInstance(p.sqlServerFqdn, p.sqlInstanceName)),
      arg.value('FileName', p.fileName),
      p.level && arg.value('Level', p.level),
    ]),
});

export const pchatImportData = defineCommand({
  name: 'pchat.importData',
  kind: 'powershell',
  summary: 'Import a Persistent Chat export, overwriting what it contains (Import-CsPersistentChatData).',
  params: z.strictObject({ sqlServerFqdn: fqdn, sqlInstanceName: sqlInstance.optional(), fileName: zipPath, report: localPath.optional() }),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: { sqlServerFqdn: 'pchatsql-east.contoso.com', sqlInstanceName: 'PCHAT', fileName: '\\\\fs-west.contoso.com\\pchat-export\\pchat-2024-01-01.zip' },
  build: (p) =>
    ps('Import-CsPersistentChatData', [
      arg.value('DBInstance', sqlServerInstance(p.sqlServerFqdn, p.sqlInstanceName)),
      arg.value('FileName', p.fileName),
      p.report && arg.value('Report', p.report),
      arg.noConfirm(),
    ]),
});
