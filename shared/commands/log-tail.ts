// The Persistent Chat log tail (issue 12 §2, §7): which log backups mgc's secondary has not
// restored, and restoring them, as steps taken from recorded results. The worker runs each as a
// sequence of catalog commands (worker/log-tail.ts): no file name travels in the plan.
import { z } from 'zod';
import { defineCommand } from './define.js';
import type { SqlSpec } from './spec.js';
import { fqdn, logShippedDatabase, recordedKey, sqlInstance, uncPath, windowsPath } from './values.js';

const where = {
  sqlServerFqdn: fqdn,
  sqlInstanceName: sqlInstance.optional(),
  database: logShippedDatabase.default('mgc'),
  /** The secondary's copy folder: restores read from here. */
  copyFolder: windowsPath,
  /** The log-shipping share, only when the plan knows it is reachable (not in the lost site). */
  backupShare: uncPath.optional(),
};
const example = { sqlServerFqdn: 'pchatsql-west.contoso.com', sqlInstanceName: 'PCHAT', copyFolder: 'D:\\LogShipping\\mgc', backupShare: '\\\\fs-east.contoso.com\\pchat-logship' };

const display = (p: { sqlServerFqdn: string; sqlInstanceName?: string | undefined }, statement: string, parameters: SqlSpec['parameters']): SqlSpec =>
  ({ kind: 'sql', server: p.sqlServerFqdn, ...(p.sqlInstanceName ? { instance: p.sqlInstanceName } : {}), database: 'master', statement, identifiers: {}, parameters });

export const sqlListUnappliedLogs = defineCommand({
  name: 'sql.listUnappliedLogs',
  kind: 'sql',
  summary: "The log backups mgc's secondary has not restored: the files in the copy folder (and on the share, when reachable) after the last one msdb's restore history shows applied, oldest first.",
  params: z.strictObject(where),
  effect: 'read-only',
  supportsWhatIf: false,
  example,
  // Display only: the worker reads the restore history and lists the folders (worker/log-tail.ts).
  build: (p) => display(p, 'SELECT <log backups in @folders> WHERE name > (msdb.dbo.restorehistory: last restored into @database);', [
    { name: 'database', type: 'sysname', value: p.database },
    { name: 'folders', type: 'nvarchar', value: [p.copyFolder, p.backupShare].filter(Boolean).join('; ') },
  ]),
});

export const sqlRestoreRecordedLogs = defineCommand({
  name: 'sql.restoreRecordedLogs',
  kind: 'sql',
  summary: 'Restore the log backups a sql.listUnappliedLogs step recorded, one at a time in order WITH NORECOVERY, copying those on the share first; files the restore history shows applied are skipped (safe to run again).',
  // The folder each file is copied from is in the kept list (the listing's own result).
  params: z.strictObject({ ...where, recorded: recordedKey }).omit({ backupShare: true }),
  effect: 'idempotent',
  supportsWhatIf: false,
  example: { sqlServerFqdn: example.sqlServerFqdn, sqlInstanceName: example.sqlInstanceName, copyFolder: example.copyFolder, recorded: 'pchat.unappliedLogs' },
  // Display only: the worker restores each recorded file through sql.restoreLog.
  build: (p) => display(p, 'RESTORE LOG @database FROM DISK = @path WITH NORECOVERY; -- for each recorded file, in order', [
    { name: 'database', type: 'sysname', value: p.database, display: 'identifier' },
    { name: 'path', type: 'nvarchar', value: `${p.copyFolder.replace(/\\$/, '')}\\<${p.recorded}[*].Name>` },
  ]),
});
