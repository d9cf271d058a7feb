// What a runner needs to execute a command, as data. The PowerShell runner splats
// `arguments` onto `cmdlet` inside a fixed script; the SQL runner binds `parameters` and
// substitutes `identifiers` (allow-listed, bracket-quoted) into the constant `statement`.
// Nothing here is script text built from values.
import { z } from 'zod';
import { secretName, SQL_IDENTIFIERS } from './values.js';

const parameterName = z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/);

export const PsArgument = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('value'), name: parameterName, value: z.union([z.string(), z.number(), z.array(z.string())]) }),
  z.object({ kind: z.literal('switch'), name: parameterName, value: z.boolean() }),
  z.object({ kind: z.literal('null'), name: parameterName }),
  // PSListModifier: @{Add=...} / @{Remove=...}
  z.object({ kind: z.literal('listAdd'), name: parameterName, value: z.array(z.string()).min(1) }),
  z.object({ kind: z.literal('listRemove'), name: parameterName, value: z.array(z.string()).min(1) }),
  // A PSCredential the worker's secret vault holds: only the secret's name travels, the worker's
  // PowerShell reads the credential itself (Get-Secret), so no password is in a plan or a message.
  z.object({ kind: z.literal('credential'), name: parameterName, secret: secretName }),
]);
export type PsArgument = z.infer<typeof PsArgument>;

export const PowerShellSpec = z.object({
  kind: z.literal('powershell'),
  cmdlet: z.string().regex(/^[A-Za-z]+-[A-Za-z]+$/),
  arguments: z.array(PsArgument),
  /** Values piped into the cmdlet, bound by value to `parameter` (e.g. Identity for Move-CsUser). */
  pipeline: z.object({ parameter: parameterName, values: z.array(z.string()).min(1) }).optional(),
});
export type PowerShellSpec = z.infer<typeof PowerShellSpec>;

export const SqlParameterType = z.enum(['nvarchar', 'sysname', 'int', 'bigint', 'decimal']);
export const SqlParameter = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/),
  type: SqlParameterType,
  value: z.union([z.string(), z.number(), z.null()]),
  /** Shown as [name] in the rendered line where T-SQL expects a database name (the runner still binds it). */
  display: z.literal('identifier').optional(),
});
export type SqlParameter = z.infer<typeof SqlParameter>;

export const SqlSpec = z.object({
  kind: z.literal('sql'),
  server: z.string(),
  instance: z.string().optional(),
  /** Database the connection opens in (USE is not part of the statement). */
  database: z.enum(SQL_IDENTIFIERS),
  /** Constant T-SQL with @parameters and {{identifier}} placeholders. */
  statement: z.string(),
  identifiers: z.record(z.string().regex(/^[a-z]+$/), z.enum(SQL_IDENTIFIERS)),
  parameters: z.array(SqlParameter),
});
export type SqlSpec = z.infer<typeof SqlSpec>;

export const FileSpec = z.discriminatedUnion('operation', [
  z.object({ kind: z.literal('file'), operation: z.literal('copy'), sourceFolder: z.string(), destinationFolder: z.string(), files: z.array(z.string()).min(1), overwrite: z.boolean() }),
  z.object({ kind: z.literal('file'), operation: z.literal('list'), folder: z.string(), pattern: z.string() }),
  /** Deletes <prefix>YYYY-MM-DD<extension> files whose date is before `before` (YYYY-MM-DD), only while `keep` exists. */
  z.object({ kind: z.literal('file'), operation: z.literal('prune'), folder: z.string(), prefix: z.string(), extension: z.string(), before: z.string(), keep: z.string() }),
]);
export type FileSpec = z.infer<typeof FileSpec>;

export const ExeSpec = z.object({
  kind: z.literal('exe'),
  executable: z.enum(['DBImpExp.exe']),
  /** argv entries, passed to the process without a shell. */
  args: z.array(z.string()),
});
export type ExeSpec = z.infer<typeof ExeSpec>;

export const ExecutionSpec = z.union([PowerShellSpec, SqlSpec, FileSpec, ExeSpec]);
export type ExecutionSpec = z.infer<typeof ExecutionSpec>;
