// File operations the worker performs itself (runbook 3: copy the log backups the copy job
// did not get to before log shipping was removed).
import { z } from 'zod';
import { defineCommand } from './define.js';
import { logBackupFileName, logShippedDatabase, uncPath, windowsPath } from './values.js';

export const fileListLogBackups = defineCommand({
  name: 'file.listLogBackups',
  kind: 'file',
  summary: 'Log backups of a database in a folder (<db>_*.trn); names sort by time but LSNs decide the order.',
  params: z.strictObject({ folder: windowsPath, database: logShippedDatabase.default('mgc') }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { folder: '\\\\fs-east.contoso.com\\pchat-logship' },
  build: (p) => ({ kind: 'file', operation: 'list', folder: p.folder, pattern: `${p.database}_*.trn` }),
});

export const fileCopyLogBackups = defineCommand({
  name: 'file.copyLogBackups',
  kind: 'file',
  summary: 'Copy not-yet-copied log backups from the backup share to the copy folder.',
  params: z.strictObject({ backupShare: uncPath, copyFolder: windowsPath, files: z.array(logBackupFileName).min(1).max(1000) }),
  // Same files, same bytes: copying again is harmless.
  effect: 'idempotent',
  supportsWhatIf: false,
  example: { backupShare: '\\\\fs-east.contoso.com\\pchat-logship', copyFolder: 'D:\\LogShipping\\mgc', files: ['mgc_20240101120000.trn'] },
  build: (p) => ({ kind: 'file', operation: 'copy', sourceFolder: p.backupShare, destinationFolder: p.copyFolder, files: p.files, overwrite: true }),
});
