// Issue 14 §3: a stack a test starts is killed, with everything it started, when the test fails or
// times out, when its file ends, and when the vitest worker ends (exit, SIGTERM, or SIGKILL: then
// the global teardown's sweep). The toy stack is a leader with a grandchild in its process group.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { killListedGroups, killStack, spawnStack } from '../support/stack-process.js';
import { alive, ROOT, runVitest, stillRunning, type ToyStack } from './support.js';

const FIXTURE = path.join(ROOT, 'test/hygiene/fixtures/exit-with-stack.ts');

/** The fixture "worker" as a process, and the toy stack it started (its first line). */
async function worker(mode: 'throw' | 'wait', env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; stack: ToyStack; exited: Promise<{ code: number | null; signal: string | null }> }> {
  const child = spawnStack(process.execPath, ['--import', 'tsx', FIXTURE, mode], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let out = '';
  child.stderr!.on('data', (d) => { out += String(d); });
  const stack = await new Promise<ToyStack>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{"leader"'));
      if (line) resolve(JSON.parse(line) as ToyStack);
    });
    void exited.then(() => reject(new Error(`the fixture worker ended before its stack ran:\n${out}`)));
  });
  return { child, stack, exited };
}

describe('stacks started by tests are killed whole', () => {
  it('after a test that failed, one that timed out, and at the end of the file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-stacks-left-'));
    const stacksFile = path.join(dir, 'stacks.jsonl');
    const run = await runVitest('stacks.vitest.config.ts', { ...process.env, STACKS_FILE: stacksFile, TMPDIR: dir, LYNCDR_TEST_SCRATCH: dir });
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain('deliberate failure');
    expect(run.out).toMatch(/timed out in 1500ms/i);
    const lines = readFileSync(stacksFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ToyStack & { how: string; left?: string[] });
    // The next test found the failed and the timed-out test's stacks gone (killed when each ended).
    expect(lines.find((l) => l.how === 'checked by the next test')).toEqual({ how: 'checked by the next test', left: [] });
    const stacks = lines.filter((l) => l.left === undefined);
    expect(stacks.map((s) => s.how).sort()).toEqual(['left to the end of the file', 'test failed', 'test timed out']);
    for (const s of stacks) expect(await stillRunning(s), s.how).toEqual([]);
  }, 60_000);

  it('when the worker ends on an uncaught error (its exit handler)', async () => {
    const w = await worker('throw');
    expect(await w.exited).toMatchObject({ code: 1 });
    expect(await stillRunning(w.stack)).toEqual([]);
  }, 30_000);

  it('when the worker gets SIGTERM (how vitest stops a worker), which then ends as SIGTERM would', async () => {
    const w = await worker('wait');
    expect(alive(w.stack.grandchild)).toBe(true);
    w.child.kill('SIGTERM');
    expect(await w.exited).toMatchObject({ signal: 'SIGTERM' });
    expect(await stillRunning(w.stack)).toEqual([]);
  }, 30_000);

  it('when the worker is SIGKILLed, by the global teardown\'s sweep of the groups it listed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-stacks-listed-'));
    const w = await worker('wait', { ...process.env, LYNCDR_TEST_SCRATCH: dir });
    await killStack(w.child);
    // Nothing ran the worker's handlers: its stack (a group of its own) survived it.
    expect(await stillRunning(w.stack, 300)).toEqual([`leader ${w.stack.leader}`, `grandchild ${w.stack.grandchild}`, `group ${w.stack.leader}`]);
    expect(killListedGroups(path.join(dir, 'stack-groups'))).toEqual([w.stack.leader]);
    expect(await stillRunning(w.stack)).toEqual([]);
  }, 30_000);
});
