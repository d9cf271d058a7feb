// The file runner: lists and copies log backup files, and prunes dated exports between the backup share and the copy
// folder (runbook 3: the backups the copy job did not get to before log shipping was removed).
// Node's fs does the work, no shell and no robocopy: every path is re-validated here, resolved
// through an explicit Windows-path -> local-directory map where one is configured, and must stay
// inside the folder it names. Copies go to a temporary name and are renamed into place, so a
// copy cut short by a timeout never leaves a truncated .trn where RESTORE LOG would read it.
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { validateInvocation, type CommandInvocation } from '../../shared/commands/invocation.js';
import type { FileSpec } from '../../shared/commands/spec.js';
import { fileName, windowsPath } from '../../shared/commands/values.js';
import { refused, type CommandExecutor, type ExecutionContext, type ExecutionErrorKind, type ExecutionResult } from './types.js';

export interface FileExecutorOptions {
  /**
   * Windows folder (UNC or drive path, as the catalog names it) -> local directory. A path is
   * resolved through the longest matching prefix. Without a match, a Windows worker uses the path
   * as it is; any other platform refuses (not-supported).
   */
  pathMap?: Record<string, string>;
  platform?: NodeJS.Platform;
}

class FileError extends Error {
  constructor(message: string, readonly kind: ExecutionErrorKind) {
    super(message);
  }
}

/** LYNCDR_FILE_PATH_MAP: a JSON object of Windows folder -> local directory. */
export function pathMapFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> | undefined {
  const raw = env.LYNCDR_FILE_PATH_MAP;
  if (!raw) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('LYNCDR_FILE_PATH_MAP must be a JSON object of Windows folder -> local directory');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new Error('LYNCDR_FILE_PATH_MAP must be a JSON object of Windows folder -> local directory');
  }
  return parsed as Record<string, string>;
}

const winSegments = (p: string) => p.replace(/^\\\\/, '').split('\\').filter(Boolean);

const GLOB = /^[A-Za-z0-9_.*?-]{1,128}$/;
function globToRegExp(pattern: string): RegExp {
  if (!GLOB.test(pattern)) throw new FileError(`file pattern "${pattern}" is not allowed (letters, digits, _ . - * ? only)`, 'precondition');
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
}

export class FileExecutor implements CommandExecutor {
  private readonly map: Array<{ prefix: string[]; root: string }>;
  private readonly platform: NodeJS.Platform;

  constructor(options: FileExecutorOptions = {}) {
    this.platform = options.platform ?? process.platform;
    this.map = Object.entries(options.pathMap ?? {}).map(([win, root]) => {
      if (!windowsPath.safeParse(win).success) throw new Error(`path map key "${win}" is not a Windows folder path`);
      return { prefix: winSegments(win).map((x) => x.toLowerCase()), root: path.resolve(root) };
    }).sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** A catalog folder (already validated by the catalog, checked again here) -> a local directory. */
  resolveFolder(folder: string): string {
    if (!windowsPath.safeParse(folder).success) throw new FileError(`"${folder}" is not a valid Windows folder path`, 'precondition');
    const segs = winSegments(folder);
    const hit = this.map.find((m) => m.prefix.every((p, i) => segs[i]?.toLowerCase() === p));
    if (!hit) {
      if (this.platform === 'win32') return folder;
      throw new FileError(`no local directory is mapped for "${folder}" (set LYNCDR_FILE_PATH_MAP on a non-Windows worker)`, 'not-supported');
    }
    const rest = segs.slice(hit.prefix.length);
    for (const seg of rest) {
      if (seg === '.' || seg === '..' || /[/\0:]/.test(seg)) throw new FileError(`"${folder}" has a segment that is not allowed`, 'precondition');
    }
    const local = path.resolve(hit.root, ...rest);
    const rel = path.relative(hit.root, local);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new FileError(`"${folder}" resolves outside its mapped directory`, 'precondition');
    return local;
  }

  private fileIn(dir: string, name: string): string {
    if (!fileName.safeParse(name).success) throw new FileError(`"${name}" is not a plain file name`, 'precondition');
    const p = path.join(dir, name);
    if (path.dirname(p) !== path.resolve(dir)) throw new FileError(`"${name}" leaves its folder`, 'precondition');
    return p;
  }

  private async list(spec: Extract<FileSpec, { operation: 'list' }>): Promise<unknown[]> {
    const dir = this.resolveFolder(spec.folder);
    const re = globToRegExp(spec.pattern);
    const entries = await readdir(dir, { withFileTypes: true });
    const out: Array<{ Name: string; FullName: string; Length: number; LastWriteTimeUtc: string }> = [];
    for (const e of entries) {
      if (!e.isFile() || !re.test(e.name)) continue;
      const st = await stat(path.join(dir, e.name));
      out.push({ Name: e.name, FullName: `${spec.folder.replace(/\\+$/, '')}\\${e.name}`, Length: st.size, LastWriteTimeUtc: st.mtime.toISOString() });
    }
    return out.sort((a, b) => a.Name.localeCompare(b.Name));
  }

  private async copy(spec: Extract<FileSpec, { operation: 'copy' }>, signal: AbortSignal): Promise<unknown[]> {
    const from = this.resolveFolder(spec.sourceFolder);
    const to = this.resolveFolder(spec.destinationFolder);
    if (!(await stat(to)).isDirectory()) throw new FileError(`"${spec.destinationFolder}" is not a folder`, 'precondition');
    const copied: unknown[] = [];
    for (const name of spec.files) {
      signal.throwIfAborted();
      const src = this.fileIn(from, name);
      const dest = this.fileIn(to, name);
      const st = await lstat(src);
      if (!st.isFile()) throw new FileError(`"${spec.sourceFolder}\\${name}" is not a regular file`, 'precondition');
      if (!spec.overwrite && (await lstat(dest).then(() => true, () => false))) continue;
      const tmp = `${dest}.lyncdr-partial`;
      try {
        await pipeline(createReadStream(src), createWriteStream(tmp, { flags: 'w' }), { signal });
        await rename(tmp, dest);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      copied.push({ Name: name, Source: `${spec.sourceFolder.replace(/\\+$/, '')}\\${name}`, Destination: `${spec.destinationFolder.replace(/\\+$/, '')}\\${name}`, Length: st.size });
    }
    return copied;
  }

  /** Deletes <prefix>YYYY-MM-DD<extension> files dated before `before`; files of any other name stay. */
  private async prune(spec: Extract<FileSpec, { operation: 'prune' }>, signal: AbortSignal): Promise<unknown[]> {
    const dir = this.resolveFolder(spec.folder);
    if (!/^[a-z-]{1,32}$/.test(spec.prefix) || !/^\.[a-z0-9]{1,8}$/.test(spec.extension) || !/^\d{4}-\d{2}-\d{2}$/.test(spec.before)) {
      throw new FileError('prune: prefix, extension or date is not allowed', 'precondition');
    }
    const named = new RegExp(`^${spec.prefix.replace(/-/g, '\\-')}(\\d{4}-\\d{2}-\\d{2})${spec.extension.replace('.', '\\.')}$`, 'i');
    // The night's export first: without it (the export failed and was skipped) nothing goes.
    const kept = await lstat(this.fileIn(dir, spec.keep)).then((st) => st.isFile(), () => false);
    if (!kept) throw new FileError(`${spec.folder.replace(/\\+$/, '')}\\${spec.keep} is not there: the exports are kept until a new one is`, 'precondition');
    const deleted: Array<{ Name: string; FullName: string; Date: string }> = [];
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const date = e.isFile() ? named.exec(e.name)?.[1] : undefined;
      if (!date || date >= spec.before || e.name.toLowerCase() === spec.keep.toLowerCase()) continue;
      signal.throwIfAborted();
      await rm(this.fileIn(dir, e.name));
      deleted.push({ Name: e.name, FullName: `${spec.folder.replace(/\\+$/, '')}\\${e.name}`, Date: date });
    }
    return deleted;
  }

  async execute(invocation: CommandInvocation, ctx: ExecutionContext): Promise<ExecutionResult> {
    const v = validateInvocation(invocation);
    if (!v.ok) return refused('', `invalid invocation: ${v.error}`, 0, 'precondition');
    if (v.spec.kind !== 'file') return refused(v.rendered, `${v.command.name} is a ${v.spec.kind} command, not a file operation`);
    const spec = v.spec;
    if (ctx.whatIf && v.command.effect !== 'read-only') {
      return { status: 'succeeded', exitCode: null, output: null, stderr: '', durationMs: 0, rendered: v.rendered, skipped: true };
    }
    const started = performance.now();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timeout')), ctx.timeoutMs);
    const onAbort = () => controller.abort(ctx.signal?.reason);
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const output = spec.operation === 'list' ? await this.list(spec) : spec.operation === 'prune' ? await this.prune(spec, controller.signal) : await this.copy(spec, controller.signal);
      return { status: 'succeeded', exitCode: null, output, stderr: '', durationMs: elapsed(), rendered: v.rendered };
    } catch (err) {
      const timedOut = controller.signal.aborted && !ctx.signal?.aborted;
      const code = (err as NodeJS.ErrnoException).code;
      const errorKind: ExecutionErrorKind = timedOut ? 'timeout'
        : err instanceof FileError ? err.kind
          : code === 'ENOENT' || code === 'ENOTDIR' ? 'precondition' : 'execution';
      const message = timedOut ? `timed out after ${ctx.timeoutMs} ms` : code === 'ENOENT' ? `cannot find path: ${(err as Error).message}` : (err as Error).message;
      return { status: timedOut ? 'timeout' : 'failed', exitCode: null, output: null, stderr: message, durationMs: elapsed(), rendered: v.rendered, errorKind };
    } finally {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
    }
  }
}
