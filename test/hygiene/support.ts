// A toy stack for the hygiene tests: a leader process that starts a grandchild (in its group, as
// `npm start` starts Azurite, the host and the workers) and both run until killed; and checks, by
// pid and by process group, that they are gone.
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnStack } from '../support/stack-process.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const LEADER = `
const { spawn } = require('node:child_process');
const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
console.log(JSON.stringify({ leader: process.pid, grandchild: g.pid }));
setInterval(() => {}, 1000);
`;

export interface ToyStack { leader: number; grandchild: number }

/** Starts the toy stack through spawnStack and resolves once the grandchild runs. */
export function startToyStack(): Promise<ToyStack> {
  const child = spawnStack(process.execPath, ['-e', LEADER], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as ToyStack);
    });
    child.once('exit', (code) => reject(new Error(`the toy stack exited (${code}) before it ran`)));
  });
}

/** A zombie (killed, not yet reaped by whoever its parent is now) runs nothing: it counts as gone. */
function zombie(pid: number): boolean {
  const s = procStat(pid);
  return !s || s.state === 'Z';
}

function procStat(pid: number | string): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, pgrp: Number(pgrp) };
  } catch { return undefined; }
}

export function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  return !zombie(pid);
}

/** Some process of group `pgid` still runs (process.kill(-pgid, 0) answers for zombies too, so /proc decides then). */
export function groupAlive(pgid: number): boolean {
  try { process.kill(-pgid, 0); } catch { return false; }
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).some((pid) => {
    const s = procStat(pid);
    return s?.pgrp === pgid && s.state !== 'Z';
  });
}

/** Waits up to `ms` for the stack's leader, grandchild and group to be gone; says which still runs. */
export async function stillRunning(s: ToyStack, ms = 5000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = [
      ...(alive(s.leader) ? [`leader ${s.leader}`] : []),
      ...(alive(s.grandchild) ? [`grandchild ${s.grandchild}`] : []),
      ...(groupAlive(s.leader) ? [`group ${s.leader}`] : []),
    ];
    if (!left.length || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs vitest once more, in a process of its own, with `config` (a file under test/hygiene/fixtures). */
export function runVitest(config: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const vitest = path.join(ROOT, 'node_modules/vitest/vitest.mjs');
  return new Promise((resolve) => {
    execFile(process.execPath, [vitest, 'run', '--config', path.join(ROOT, 'test/hygiene/fixtures', config)], { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, out: `${stdout}${stderr}` });
    });
  });
}
