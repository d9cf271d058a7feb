// Runs the local host as a real child process (so it can be killed with SIGKILL), loading a
// TypeScript test app through tsx.
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './host.js';
import { killStack, spawnStack } from './stack-process.js';

/**
 * A root folder with the project's host.json and no local.settings.json: a developer's (made by
 * `npm start` or `npm run drill`, e.g. with LYNCDR_OPERATORS) must not leak into the tests' hosts,
 * which get their settings from the test alone, as startTestHost's do.
 */
function isolatedRoot(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-host-root-'));
  copyFileSync(path.join(ROOT, 'host.json'), path.join(dir, 'host.json'));
  return dir;
}

export interface HostProcess { child: ChildProcess; url: string; resumed: number; output: () => string; stop(): Promise<void> }

export async function spawnHost(opts: { hub: string; entry: string; connectionString: string; env?: Record<string, string>; triggers?: boolean }): Promise<HostProcess> {
  const args = ['--import', 'tsx', path.join(ROOT, 'local/host-main.ts'), '--entry', opts.entry, '--root', isolatedRoot(), '--port', '0', '--hub', opts.hub];
  if (!opts.triggers) args.push('--no-triggers');
  const child = spawnStack(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, AzureWebJobsStorage: opts.connectionString, LYNCDR_TASK_HUB: opts.hub, LYNCDR_QUIET: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += String(d); });
  child.stderr!.on('data', (d) => { out += String(d); });
  const listening = await new Promise<{ url: string; resumed: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start in 30 s:\n${out}`)), 30_000);
    const onData = () => {
      const line = out.split('\n').find((l) => l.startsWith('{"event":"listening"'));
      if (line) { clearTimeout(timer); child.stdout!.off('data', onData); resolve(JSON.parse(line)); }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`host exited with ${code}:\n${out}`)); });
  });
  return {
    child, url: listening.url, resumed: listening.resumed, output: () => out,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => void killStack(child), 5000).unref();
    }),
  };
}

/** kill -9 of the host, and of anything it started (its whole process group). */
export function kill9(h: HostProcess): Promise<void> {
  return killStack(h.child);
}
