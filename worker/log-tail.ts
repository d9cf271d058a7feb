// The log tail of mgc (issue 12 §2, §7), run by the worker as a sequence of catalog commands on
// its own executor (the real runners or the simulator alike): sql.listUnappliedLogs lists what the
// secondary has not restored (the worker keeps that list, as it keeps users.moveRecorded's), and
// sql.restoreRecordedLogs restores the kept list in order WITH NORECOVERY. Restore history decides
// what is applied, so a resumed or repeated restore skips the files already in.
import type { CommandInvocation } from '../shared/commands/invocation.js';
import { sqlListUnappliedLogs, sqlRestoreRecordedLogs } from '../shared/commands/log-tail.js';
import type { WorkerExecutor } from './execution.js';
import { refused, type ExecutionContext, type ExecutionResult } from './executors/types.js';

export const LOG_TAIL_COMMANDS: ReadonlySet<string> = new Set([sqlListUnappliedLogs.name, sqlRestoreRecordedLogs.name]);

export interface LogBackup { Name: string; Folder: string; LastWriteTimeUtc?: string }
/** What the worker kept for this run under a records key; undefined when nothing was kept. */
export type KeptList = (key: string) => Promise<unknown[] | undefined>;

const fileOf = (p: unknown) => (typeof p === 'string' ? p.slice(p.lastIndexOf('\\') + 1) : '');
/** Log backup names are <db>_<yyyyMMddHHmmss>.trn: they sort as they were taken. */
const byName = (a: { Name: string }, b: { Name: string }) => a.Name.toLowerCase().localeCompare(b.Name.toLowerCase());
const after = (name: string, last: string) => name.toLowerCase() > last.toLowerCase();

export async function runLogTail(exec: WorkerExecutor, invocation: CommandInvocation, ctx: ExecutionContext, kept: KeptList): Promise<ExecutionResult> {
  const started = Date.now();
  const listing = invocation.name === sqlListUnappliedLogs.name;
  const def = listing ? sqlListUnappliedLogs : sqlRestoreRecordedLogs;
  const parsed = def.params.safeParse(invocation.params);
  if (!parsed.success) return refused('', `${def.name}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 0, 'precondition');
  const p: { sqlServerFqdn: string; sqlInstanceName?: string | undefined; database: string; copyFolder: string; backupShare?: string | undefined; recorded?: string } = parsed.data;
  const rendered = listing ? sqlListUnappliedLogs.render(parsed.data) : sqlRestoreRecordedLogs.render(parsed.data as ReturnType<typeof sqlRestoreRecordedLogs.params.parse>);
  const server = { sqlServerFqdn: p.sqlServerFqdn, ...(p.sqlInstanceName ? { sqlInstanceName: p.sqlInstanceName } : {}) };
  // Each part has an id of its own, derived from the step's: the executions log shows what one
  // step ran, and a part run twice for one command shows up as the same id twice.
  const sub = async (name: string, params: Record<string, unknown>, label: string) =>
    exec.execute({ name, params }, { ...ctx, commandId: `${ctx.commandId}/${label}` });
  const fail = (r: ExecutionResult, what: string, output: unknown = null): ExecutionResult =>
    ({ ...r, status: r.status, output, rendered, stderr: `${what}: ${r.stderr}`, durationMs: Date.now() - started });

  const history = await sub('sql.lastRestoredBackup', { ...server, database: p.database }, 'history');
  if (history.status !== 'succeeded') return fail(history, 'reading the restore history');
  const row = (history.output as { recordsets?: Array<Array<{ physical_device_name?: unknown }>> }).recordsets?.[0]?.[0];
  const lastApplied = fileOf(row?.physical_device_name);

  if (listing) {
    const found = new Map<string, LogBackup>();
    // The copy folder first: a file in both is restored from there, without a copy.
    for (const [i, folder] of [p.copyFolder, ...(p.backupShare ? [p.backupShare] : [])].entries()) {
      const r = await sub('file.listLogBackups', { folder, database: p.database }, `list-${i + 1}`);
      if (r.status !== 'succeeded') return fail(r, `listing ${folder}`);
      for (const f of r.output as Array<{ Name: string; LastWriteTimeUtc?: string }>) {
        if (!found.has(f.Name.toLowerCase())) found.set(f.Name.toLowerCase(), { Name: f.Name, Folder: folder, ...(f.LastWriteTimeUtc ? { LastWriteTimeUtc: f.LastWriteTimeUtc } : {}) });
      }
    }
    const unapplied = [...found.values()].filter((f) => after(f.Name, lastApplied)).sort(byName);
    return { status: 'succeeded', exitCode: null, output: unapplied, stderr: '', rendered, durationMs: Date.now() - started };
  }

  const list = await kept(p.recorded!);
  if (!list) return refused(rendered, `${def.name}: this worker kept no list ${p.recorded} for the run (the step that records it ran elsewhere, or not at all)`, 0, 'precondition');
  const done: Array<LogBackup & { Restored: 'now' | 'already' }> = [];
  for (const item of list as LogBackup[]) {
    if (!after(item.Name, lastApplied)) { done.push({ ...item, Restored: 'already' }); continue; }
    if (item.Folder.toLowerCase() !== p.copyFolder.toLowerCase()) {
      const copy = await sub('file.copyLogBackups', { backupShare: item.Folder, copyFolder: p.copyFolder, files: [item.Name] }, `copy-${item.Name}`);
      if (copy.status !== 'succeeded') return fail(copy, `copying ${item.Name}`, done);
    }
    const restore = await sub('sql.restoreLog', { ...server, database: p.database, folder: p.copyFolder, file: item.Name }, `restore-${item.Name}`);
    if (restore.status !== 'succeeded') return fail(restore, `restoring ${item.Name}`, done);
    done.push({ ...item, Restored: 'now' });
  }
  return { status: 'succeeded', exitCode: null, output: done, stderr: '', rendered, durationMs: Date.now() - started };
}
