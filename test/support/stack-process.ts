// Long-running child processes the tests start (npm start / drill stacks, hosts, workers, a CLI
// that watches): each is the leader of a process group of its own, so one kill of the group also
// reaches what it started (Azurite, the host and the workers under `npm start`). They are killed
// whole when the test that started them ends (test/support/file-hooks.ts), when its file ends,
// when this vitest worker exits or is signalled, and, should the worker die without a word
// (SIGKILL), by the global teardown from the list kept in the scratch folder. A failing or
// timed-out test leaves nothing running.
// No vitest import here: a plain node process (the proof in test/hygiene) uses it too.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface Group { child: ChildProcess; mark: number }
const groups = new Map<number, Group>();
let marks = 0;

/** Where the groups of every worker of this run are listed (one empty file per group id), when the global setup made a scratch folder. */
export function groupListDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.LYNCDR_TEST_SCRATCH ? path.join(env.LYNCDR_TEST_SCRATCH, 'stack-groups') : undefined;
}

/** spawn() with the child leading a new process group, remembered until its group is killed. */
export function spawnStack(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  installExitHandlers();
  const child = spawn(command, args, { ...options, detached: true });
  if (child.pid === undefined) return child; // spawn failed: the 'error' event says why, nothing runs
  groups.set(child.pid, { child, mark: marks });
  const list = groupListDir();
  if (list) {
    mkdirSync(list, { recursive: true });
    writeFileSync(path.join(list, String(child.pid)), '');
  }
  return child;
}

/** SIGKILL to the whole process group led by `pid` (gone already: nothing to do). */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  groups.delete(pid);
  const list = groupListDir();
  if (list) rmSync(path.join(list, String(pid)), { force: true });
}

/** Kills the group of `child` and resolves once the child itself has exited. */
export function killStack(child: ChildProcess): Promise<void> {
  const exited = child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.pid !== undefined) killGroup(child.pid);
  return exited;
}

/** A mark to pass to killStacksSince: the groups started after it belong to the test now starting. */
export function stackMark(): number {
  return ++marks;
}

/** Kills every group started since `mark` (the stacks of the test that just ended). */
export function killStacksSince(mark: number): void {
  for (const [pid, g] of [...groups]) if (g.mark >= mark) killGroup(pid);
}

/** Kills every group this process started. Synchronous, so it can run in an 'exit' handler. */
export function killAllStacks(): void {
  for (const pid of [...groups.keys()]) killGroup(pid);
}

/** The global teardown's last sweep: groups listed by a worker that died before it could kill them. */
export function killListedGroups(list: string): number[] {
  let pids: number[];
  try { pids = readdirSync(list).map(Number).filter((n) => Number.isInteger(n) && n > 1); } catch { return []; }
  const alive = pids.filter((pid) => {
    try { process.kill(-pid, 0); return true; } catch { return false; }
  });
  for (const pid of pids) killGroup(pid);
  return alive;
}

let installed = false;
/**
 * The worker's own end kills what it started. Detached children do not die with their parent,
 * and a terminal's Ctrl-C no longer reaches them (they left the foreground group), so SIGINT,
 * SIGTERM (vitest stops a worker with it) and SIGHUP kill them, then the signal takes its
 * default course unless someone else listens for it.
 */
function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllStacks);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAllStacks();
      process.off(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
