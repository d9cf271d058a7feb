// File operations the worker performs itself (runbook 3: copy the log backups the copy job
// did not get to before log shipping was removed).
import { z } from 'zod';
import { defineCommand } from './define.js';
import { fileName, logBackupFileName, logShippedDatabase, uncPath, windowsPath } from './values.js';

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

const day = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'must be a date such as 2026-11-21');

export const filePruneExports = defineCommand({
  name: 'file.pruneExports',
  kind: 'file',
  summary: 'Delete the dated exports (<prefix>YYYY-MM-DD<extension>) older than a date from a folder; lists what it deleted.',
  // Only names of exactly that form are touched, and only by the date in the name: a file someone
  // copied in, renamed or touched is never deleted by its timestamp.
  // `keep`: the export this run just wrote. The prune refuses unless it is there (an export that
  // failed and was skipped must not cost the old ones) and never deletes it.
  params: z.strictObject({ folder: windowsPath, prefix: z.enum(['pchat-']), extension: z.enum(['.zip']), before: day, keep: fileName }),
  // Deleting what is older than a date a second time deletes nothing more.
  effect: 'idempotent',
  supportsWhatIf: false,
  example: { folder: '\\\\fs-east.contoso.com\\pchat-logship', prefix: 'pchat-', extension: '.zip', before: '2024-01-01', keep: 'pchat-2024-01-14.zip' },
  build: (p) => ({ kind: 'file', operation: 'prune', folder: p.folder, prefix: p.prefix, extension: p.extension, before: p.before, keep: p.keep }),
});
