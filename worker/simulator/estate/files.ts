// File operations on the log-backup folders, pruning dated exports, and DBImpExp.exe.
import { dbImpExpUserCount } from '../../../shared/commands/dbimpexp-output.js';
import type { ExeSpec, FileSpec } from '../../../shared/commands/spec.js';
import type { EstateState, LogBackupFile } from '../state.js';
import { exportFile, joinWin, MIN, needPchat, normPath, poolUp, PreconditionError, requireFile, requireShareReachable, S, sameText, siteUp, splitWin, type Applied } from './model.js';
import { originalPool, usersOn } from './users.js';

/** The dated exports of a folder that are older than `before`, deleted (the estate's exports are the files it wrote). */
function pruneExports(s: EstateState, spec: Extract<FileSpec, { operation: 'prune' }>): Applied {
  requireShareReachable(s, spec.folder);
  const named = new RegExp(`^${spec.prefix.replace(/-/g, '\\-')}(\\d{4}-\\d{2}-\\d{2})${spec.extension.replace('.', '\\.')}$`, 'i');
  const keep = joinWin(spec.folder, spec.keep);
  if (!s.exports[normPath(keep)]) throw new PreconditionError(`Cannot find path '${keep}' because it does not exist.`, 'ObjectNotFound');
  const deleted: Array<{ Name: string; FullName: string; Date: string }> = [];
  for (const [key, e] of Object.entries(s.exports).sort(([a], [b]) => a.localeCompare(b))) {
    const { folder, name } = splitWin(e.path);
    const date = named.exec(name)?.[1];
    if (normPath(folder) !== normPath(spec.folder) || !date || date >= spec.before || normPath(e.path) === normPath(keep)) continue;
    delete s.exports[key];
    deleted.push({ Name: name, FullName: joinWin(spec.folder, name), Date: date });
  }
  return { output: deleted, durationMs: 1 * S };
}

export function runFile(s: EstateState, spec: FileSpec): Applied {
  if (spec.operation === 'prune') return pruneExports(s, spec);
  const { sql } = needPchat(s);
  const folders: Record<string, { files: LogBackupFile[]; site?: string }> = {
    [normPath(sql.backupShare.path)]: { files: sql.backupShare.files },
    [normPath(sql.copyFolder.path)]: { files: sql.copyFolder.files, site: sql.secondary.site },
  };
  const folder = (p: string) => {
    // An unreachable server cannot say whether the path exists: the network error comes first.
    requireShareReachable(s, p);
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

/** DBImpExp.exe's console text, and the count the runner reads from it (worker/executors/exe.ts does the same). */
function dbImpExp(stdout: string): Applied {
  const users = dbImpExpUserCount(stdout);
  return { output: users === undefined ? null : { Users: users }, stdout, durationMs: 2 * MIN };
}

export function runExe(s: EstateState, spec: ExeSpec, now: Date): Applied {
  const opt = (name: string) => spec.args.find((a) => a.toLowerCase().startsWith(`/${name}:`))?.slice(name.length + 2);
  const file = opt('hrxmlfile');
  if (!file) throw new PreconditionError('DBImpExp.exe: /hrxmlfile is required.', 'InvalidArgument');
  const sqlServer = opt('sqlserver');
  const store = sqlServer ? Object.values(s.pools).find((p) => sameText(p.backEnd.instance ? `${p.backEnd.server}\\${p.backEnd.instance}` : p.backEnd.server, sqlServer)) : undefined;
  if (sqlServer && !store) throw new PreconditionError(`DBImpExp.exe: cannot connect to SQL Server "${sqlServer}".`, 'ConnectionError');
  if (store && !poolUp(s, store.fqdn)) throw new PreconditionError(`DBImpExp.exe: cannot connect to SQL Server "${sqlServer}": the pool "${store.fqdn}" is down.`, 'ConnectionError');
  if (spec.args.some((a) => a.toLowerCase() === '/import')) {
    requireFile(s, file, 'DBImpExp.exe /import');
    // A contact list is imported only for a user of the file who is homed on this store now:
    // before the users are moved there, the import restores nobody (and says so; it does not fail).
    const exported = s.exports[normPath(file)];
    const here = store ? usersOn(s, store.fqdn) : [];
    const n = exported && exported.kind === 'contacts'
      ? Math.min(exported.users ?? 0, here.filter((u) => originalPool(s, u)?.fqdn === exported.source || (!s.movedUsers[u] && store?.fqdn === exported.source)).length)
      : 0;
    return dbImpExp(`Importing user data from ${file}...\r\nImported contact lists for ${n} user(s).\r\n`);
  }
  const n = store ? usersOn(s, store.fqdn).length : 0;
  exportFile(s, file, 'contacts', store?.fqdn ?? 'local', now, false, n);
  return dbImpExp(`Exporting user data to ${file}...\r\nExported ${n} user(s).\r\n`);
}
