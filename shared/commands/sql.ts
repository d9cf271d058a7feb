// T-SQL for the Persistent Chat database failover and failback (runbooks 3-6).
// Values are bound as parameters. RESTORE and BACKUP accept a variable for the database
// name and the device, so they are fully parameterised. ALTER DATABASE and KILL cannot take
// a variable: ALTER DATABASE gets a bracket-quoted name from the mgc/mgccomp allow-list, and
// KILL is run through dynamic SQL built from an int-typed parameter.
import { z } from 'zod';
import { defineCommand } from './define.js';
import type { SqlSpec } from './spec.js';
import { backupDatabase, fileName, fqdn, logBackupFileName, logShippedDatabase, pchatDatabase, sqlInstance, uncPath, windowsPath, type SqlIdentifier } from './values.js';

const server = { sqlServerFqdn: fqdn, sqlInstanceName: sqlInstance.optional() };
const example = { sqlServerFqdn: 'pchatsql-west.contoso.com', sqlInstanceName: 'PCHAT' };

function sql(
  p: { sqlServerFqdn: string; sqlInstanceName?: string },
  database: SqlIdentifier,
  statement: string,
  parameters: SqlSpec['parameters'] = [],
  identifiers: SqlSpec['identifiers'] = {},
): SqlSpec {
  return { kind: 'sql', server: p.sqlServerFqdn, ...(p.sqlInstanceName ? { instance: p.sqlInstanceName } : {}), database, statement, identifiers, parameters };
}

function joinPath(folder: string, file: string): string {
  return `${folder.replace(/\\$/, '')}\\${file}`;
}

export const sqlLogShippingMonitor = defineCommand({
  name: 'sql.logShippingMonitor',
  kind: 'sql',
  summary: 'Last copied / restored log backup of mgc on the secondary: the Persistent Chat RPO. Read it before removing log shipping.',
  params: z.strictObject({ ...server, database: logShippedDatabase.default('mgc') }),
  effect: 'read-only',
  supportsWhatIf: false,
  example,
  build: (p) =>
    sql(p, 'msdb', `SELECT secondary_server, secondary_database, primary_server, primary_database,
       last_copied_file, last_copied_date_utc, last_restored_file, last_restored_date_utc,
       last_restored_latency, restore_threshold
FROM msdb.dbo.log_shipping_monitor_secondary WHERE secondary_database = @database;`, [{ name: 'database', type: 'sysname', value: p.database }]),
});

export const sqlLogShippingSecondary = defineCommand({
  name: 'sql.logShippingSecondary',
  kind: 'sql',
  summary: 'Log-shipping configuration of mgc on the secondary: backup share, copy folder, last files (sp_help_log_shipping_secondary_database).',
  params: z.strictObject({ ...server, database: logShippedDatabase.default('mgc') }),
  effect: 'read-only',
  supportsWhatIf: false,
  example,
  build: (p) =>
    sql(p, 'master', 'EXEC master.dbo.sp_help_log_shipping_secondary_database @secondary_database = @database;', [{ name: 'database', type: 'sysname', value: p.database }]),
});

export const sqlDeleteLogShippingSecondary = defineCommand({
  name: 'sql.deleteLogShippingSecondary',
  kind: 'sql',
  summary: 'Remove log shipping for mgc on the secondary; deletes its history and copy/restore jobs (sp_delete_log_shipping_secondary_database).',
  params: z.strictObject({ ...server, database: logShippedDatabase.default('mgc') }),
  effect: 'non-idempotent',
  supportsWhatIf: false,
  example,
  build: (p) =>
    sql(p, 'master', 'EXEC master.dbo.sp_delete_log_shipping_secondary_database @secondary_database = @database;', [{ name: 'database', type: 'sysname', value: p.database }]),
});

export const sqlLastRestoredBackup = defineCommand({
  name: 'sql.lastRestoredBackup',
  kind: 'sql',
  summary: 'The backup most recently restored into a database and its LSN range; survives the removal of log shipping.',
  params: z.strictObject({ ...server, database: backupDatabase.default('mgc') }),
  effect: 'read-only',
  supportsWhatIf: false,
  example,
  build: (p) =>
    sql(p, 'msdb', `SELECT TOP (1) rh.restore_date, rh.restore_type, bs.first_lsn, bs.last_lsn, bmf.physical_device_name
FROM msdb.dbo.restorehistory AS rh
JOIN msdb.dbo.backupset AS bs ON bs.backup_set_id = rh.backup_set_id
JOIN msdb.dbo.backupmediafamily AS bmf ON bmf.media_set_id = bs.media_set_id
WHERE rh.destination_database_name = @database
ORDER BY rh.restore_date DESC;`, [{ name: 'database', type: 'sysname', value: p.database }]),
});

export const sqlReadBackupHeader = defineCommand({
  name: 'sql.readBackupHeader',
  kind: 'sql',
  summary: 'LSN range of one backup file (RESTORE HEADERONLY); decides which log backups are unapplied and their order.',
  params: z.strictObject({ ...server, folder: windowsPath, file: fileName }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { ...example, folder: 'D:\\LogShipping\\mgc', file: 'mgc_20240101120000.trn' },
  build: (p) => sql(p, 'master', 'RESTORE HEADERONLY FROM DISK = @path;', [{ name: 'path', type: 'nvarchar', value: joinPath(p.folder, p.file) }]),
});

export const sqlRestoreLog = defineCommand({
  name: 'sql.restoreLog',
  kind: 'sql',
  summary: 'Apply one log backup, leaving the database restoring (RESTORE LOG ... WITH NORECOVERY).',
  params: z.strictObject({ ...server, database: logShippedDatabase.default('mgc'), folder: windowsPath, file: logBackupFileName }),
  effect: 'non-idempotent',
  supportsWhatIf: false,
  example: { ...example, folder: 'D:\\LogShipping\\mgc', file: 'mgc_20240101120000.trn' },
  build: (p) =>
    sql(p, 'master', 'RESTORE LOG @database FROM DISK = @path WITH NORECOVERY;', [
      { name: 'database', type: 'sysname', value: p.database, display: 'identifier' },
      { name: 'path', type: 'nvarchar', value: joinPath(p.folder, p.file) },
    ]),
});

export const sqlListSessions = defineCommand({
  name: 'sql.listSessions',
  kind: 'sql',
  // The rows sp_who / sp_who2 show, filtered to one database on the server.
  summary: 'Sessions connected to a database (the sp_who data, filtered by database).',
  params: z.strictObject({ ...server, database: pchatDatabase.default('mgc') }),
  effect: 'read-only',
  supportsWhatIf: false,
  example,
  build: (p) =>
    sql(p, 'master', `SELECT spid, RTRIM(loginame) AS loginame, RTRIM(hostname) AS hostname, RTRIM(program_name) AS program_name, RTRIM(status) AS status
FROM sys.sysprocesses WHERE dbid = DB_ID(@database) AND spid <> @@SPID;`, [{ name: 'database', type: 'sysname', value: p.database }]),
});

export const sqlKillSession = defineCommand({
  name: 'sql.killSession',
  kind: 'sql',
  summary: 'End one session (KILL).',
  // Session ids up to 50 are system sessions.
  params: z.strictObject({ ...server, sessionId: z.number().int().min(51, 'session ids up to 50 are system sessions').max(32_767) }),
  effect: 'non-idempotent',
  supportsWhatIf: false,
  example: { ...example, sessionId: 87 },
  build: (p) =>
    sql(p, 'master', "DECLARE @kill nvarchar(32) = N'KILL ' + CONVERT(nvarchar(11), @session_id); EXEC (@kill);", [
      { name: 'session_id', type: 'int', value: p.sessionId },
    ]),
});

export const sqlSetSingleUser = defineCommand({
  name: 'sql.setSingleUser',
  kind: 'sql',
  summary: 'End every other connection to an online database and keep new ones out (SET SINGLE_USER WITH ROLLBACK IMMEDIATE). Not valid on a restoring database.',
  params: z.strictObject({ ...server, database: pchatDatabase.default('mgc') }),
  effect: 'idempotent',
  supportsWhatIf: false,
  example,
  build: (p) => sql(p, 'master', 'ALTER DATABASE {{database}} SET SINGLE_USER WITH ROLLBACK IMMEDIATE;', [], { database: p.database }),
});

export const sqlSetMultiUser = defineCommand({
  name: 'sql.setMultiUser',
  kind: 'sql',
  summary: 'Undo SINGLE_USER (SET MULTI_USER).',
  params: z.strictObject({ ...server, database: pchatDatabase.default('mgc') }),
  effect: 'idempotent',
  supportsWhatIf: false,
  example,
  build: (p) => sql(p, 'master', 'ALTER DATABASE {{database}} SET MULTI_USER;', [], { database: p.database }),
});

export const sqlRecoverDatabase = defineCommand({
  name: 'sql.recoverDatabase',
  kind: 'sql',
  summary: 'Bring the restored database online (RESTORE DATABASE ... WITH RECOVERY); no more logs can be applied afterwards.',
  params: z.strictObject({ ...server, database: pchatDatabase.default('mgc') }),
  effect: 'non-idempotent',
  supportsWhatIf: false,
  example,
  build: (p) => sql(p, 'master', 'RESTORE DATABASE @database WITH RECOVERY;', [{ name: 'database', type: 'sysname', value: p.database, display: 'identifier' }]),
});

const bakFile = fileName.refine((s) => /\.bak$/i.test(s), 'must name a .bak file');

export const sqlBackupDatabase = defineCommand({
  name: 'sql.backupDatabase',
  kind: 'sql',
  summary: 'Full backup to a share, overwriting the file (BACKUP DATABASE ... WITH INIT): mgc to the log-shipping share, or a pool store\'s rgsconfig (Lync 2010 Response Groups).',
  params: z.strictObject({ ...server, database: backupDatabase.default('mgc'), folder: uncPath, file: bakFile }),
  effect: 'idempotent',
  supportsWhatIf: false,
  example: { ...example, folder: '\\\\fs-east.contoso.com\\pchat-logship', file: 'mgc_failback.bak' },
  build: (p) =>
    sql(p, 'master', 'BACKUP DATABASE @database TO DISK = @path WITH INIT, CHECKSUM;', [
      { name: 'database', type: 'sysname', value: p.database, display: 'identifier' },
      { name: 'path', type: 'nvarchar', value: joinPath(p.folder, p.file) },
    ]),
});

export const sqlRestoreDatabaseReplace = defineCommand({
  name: 'sql.restoreDatabaseReplace',
  kind: 'sql',
  summary: 'Overwrite a database from a full backup and leave it ready to use (RESTORE DATABASE ... WITH REPLACE, RECOVERY).',
  params: z.strictObject({ ...server, database: backupDatabase.default('mgc'), folder: uncPath, file: bakFile }),
  effect: 'idempotent',
  supportsWhatIf: false,
  example: { sqlServerFqdn: 'pchatsql-east.contoso.com', sqlInstanceName: 'PCHAT', folder: '\\\\fs-east.contoso.com\\pchat-logship', file: 'mgc_failback.bak' },
  build: (p) =>
    sql(p, 'master', 'RESTORE DATABASE @database FROM DISK = @path WITH REPLACE, RECOVERY;', [
      { name: 'database', type: 'sysname', value: p.database, display: 'identifier' },
      { name: 'path', type: 'nvarchar', value: joinPath(p.folder, p.file) },
    ]),
});

export const sqlRemoveMirroring = defineCommand({
  name: 'sql.removeMirroring',
  kind: 'sql',
  summary: 'End database mirroring for one database (ALTER DATABASE ... SET PARTNER OFF); run for mgc and mgccomp.',
  params: z.strictObject({ ...server, database: pchatDatabase }),
  effect: 'non-idempotent',
  supportsWhatIf: false,
  example: { ...example, database: 'mgc' },
  build: (p) => sql(p, 'master', 'ALTER DATABASE {{database}} SET PARTNER OFF;', [], { database: p.database }),
});
