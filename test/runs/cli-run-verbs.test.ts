// `lyncdr watch / reject / decide / confirm / cancel` as operators run them: the built CLI
// (dist/cli/lyncdr.js) as a child process against the real local host. Each: its exit code, what
// it prints, what it did to the run (status, audit trail), and one bad input (clear message,
// exit 1). LYNCDR_OPERATORS is set, so a non-operator is refused.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lyncdr, type CliResult } from '../support/cli.js';
import { ROOT } from '../support/host.js';
import { spawnStack } from '../support/stack-process.js';
import { finished, startRunsEnv, stepState, type RunsEnv } from './support.js';

let env: RunsEnv;
beforeAll(async () => { env = await startRunsEnv({ settings: { LYNCDR_OPERATORS: JSON.stringify(['operator', 'operator1', 'operator2']) } }); }, 60_000);
afterAll(async () => { await env?.stop(); });

const cli = (...args: string[]) => lyncdr([...args, '--url', env.host.url]);
const trailOf = (id: string) => env.trail.readRun(id);
const manualRun = (lock: string) => env.start('operator1', 'readiness', { fixture: 'manual', lock });

/** A child process that runs until the CLI exits, with what it printed so far readable meanwhile. */
function background(args: string[]): { output: () => string; done: Promise<CliResult> } {
  const child = spawnStack(process.execPath, [path.join(ROOT, 'dist/cli/lyncdr.js'), ...args, '--url', env.host.url], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += String(d); });
  child.stderr!.on('data', (d) => { stderr += String(d); });
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code: code ?? 2, stdout, stderr })));
  return { output: () => stdout, done };
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`not reached in ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('lyncdr watch and confirm', () => {
  it('watch follows a run step by step until it ends (exit 0); confirm finishes its manual step, recorded with its comment', async () => {
    const id = await manualRun('test:cli-watch');
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    const watch = background(['watch', id, '--as', 'carol', '--interval', '200']);
    await until('watch prints the waiting step', () => /\[\?\] recreate-log-shipping +waiting-confirmation/.test(watch.output()));

    const confirmed = await cli('confirm', id, 'recreate-log-shipping', '--as', 'operator2', '--comment', 'log shipping re-created in SSMS');
    expect(confirmed, confirmed.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(confirmed.stdout).toBe('recreate-log-shipping confirmed: its check runs now; `status` shows it waiting again if the check fails\n');

    const w = await watch.done;
    expect(w.code, w.stderr).toBe(0);
    // Each change of the steps is printed once, under the phase it was read in; then the run's summary.
    const changes = w.stdout.split(/^--- /m).slice(1).map((c) => c.split('\n').slice(1, 4).map((l) => l.replace(/\s+$/, '').replace(/ +/g, ' ')));
    expect(changes[0]).toEqual(['[+] read-pool succeeded', '[?] recreate-log-shipping waiting-confirmation', '[ ] after pending']);
    // Who confirmed is shown on the step's line (shared/identity/display.ts: a dev identity alone).
    expect(changes.at(-1)).toEqual(['[+] read-pool succeeded', '[+] recreate-log-shipping succeeded confirm by operator2', '[+] after succeeded']);
    expect(new Set(changes.map((c) => c.join('|'))).size).toBe(changes.length);
    expect(w.stdout).toMatch(new RegExp(`^${id} +readiness \\(drill\\) +succeeded +requested by operator1$`, 'm'));
    expect(w.stdout).toMatch(/^RTO: not measured/m);
    const done = await env.run(id);
    expect(done.status.steps['recreate-log-shipping']).toMatchObject({ state: 'succeeded', decisions: [{ decision: 'confirm', by: 'operator2' }] });
    const entry = (await trailOf(id)).find((e) => e.kind === 'manual-confirmed');
    expect(entry).toMatchObject({ actor: 'operator2', data: { stepId: 'recreate-log-shipping', comment: 'log shipping re-created in SSMS', channel: 'cli' } });
  }, 90_000);

  it('watch of a run that does not exist: exit 1, says so', async () => {
    const r = await cli('watch', 'run-nope-0000', '--as', 'carol');
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/^lyncdr: no run run-nope-0000/);
  }, 30_000);

  it('confirm of a step that is not waiting for one: exit 1, says why; nothing is recorded', async () => {
    const id = await manualRun('test:cli-confirm-refused');
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    const r = await cli('confirm', id, 'after', '--as', 'operator2', '--comment', 'too early');
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/^lyncdr: .*after.*(not waiting|pending)/);
    expect((await trailOf(id)).filter((e) => e.kind === 'manual-confirmed')).toEqual([]);
    expect((await cli('cancel', id, '--as', 'operator1', '--reason', 'test over')).code).toBe(0);
    await env.waitFor(id, finished);
  }, 60_000);
});

describe('lyncdr reject', () => {
  const gated = async (tag: string) => {
    const id = await env.start('operator1', 'readiness', { fixture: 'quick-gate', policy: 'default', tag });
    await env.waitFor(id, stepState('declare', 'waiting-approval'));
    return id;
  };

  it('rejects the open gate with a comment (exit 0): the run ends rejected, the vote is in the trail', async () => {
    const id = await gated('cli-reject');
    const r = await cli('reject', id, '--as', 'bob', '--comment', 'not a real disaster');
    expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^reject accepted for plan sha256:[0-9a-f]{64}; gate rejected \(no approvals of 2\)\n$/);
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('rejected');
    expect(done.status.steps['read-pool'].state).toBe('cancelled');
    const vote = (await trailOf(id)).find((e) => e.kind === 'vote');
    expect(vote).toMatchObject({ actor: 'bob', data: expect.objectContaining({ decision: 'reject', comment: 'not a real disaster', channel: 'cli' }) });
  }, 60_000);

  it('a rejection without --comment is refused (exit 1, says a rejection must say why); the gate stays open', async () => {
    const id = await gated('cli-reject-bare');
    const r = await cli('reject', id, '--as', 'bob');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('lyncdr: a rejection must say why: add a comment\n');
    expect((await env.run(id)).status.steps.declare.state).toBe('waiting-approval');
    expect((await cli('cancel', id, '--as', 'operator1', '--reason', 'test over')).code).toBe(0);
    await env.waitFor(id, finished);
  }, 60_000);
});

describe('lyncdr decide', () => {
  const failing = async (tag: string) => {
    await env.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: 2 });
    const id = await env.start('operator1', 'readiness', { fixture: 'faulty', tag });
    await env.waitFor(id, (r) => stepState('failing', 'waiting-decision')(r) && r.status.steps.failing.lastError !== undefined);
    return id;
  };

  it('skip (exit 0): the step is skipped, its dependant runs, the decision is in the trail with its comment', async () => {
    const id = await failing('cli-decide');
    const r = await cli('decide', id, 'failing', 'skip', '--as', 'operator2', '--comment', 'fabric state read by hand');
    expect(r, r.stderr).toMatchObject({ code: 0, stderr: '', stdout: 'skip sent for failing\n' });
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps.failing).toMatchObject({ state: 'skipped', decisions: [{ decision: 'skip', by: 'operator2' }] });
    expect(done.status.steps.after.state).toBe('succeeded');
    expect((await trailOf(id)).find((e) => e.key === 'step:failing:attempt:2:decision'))
      .toMatchObject({ kind: 'operator-decision', actor: 'operator2', data: { decision: 'skip', comment: 'fabric state read by hand', channel: 'cli' } });
  }, 60_000);

  it('by someone who is no operator: exit 1, names who may; the step keeps waiting', async () => {
    const id = await failing('cli-decide-refused');
    const r = await cli('decide', id, 'failing', 'retry', '--as', 'alice');
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/^lyncdr: alice .*operator/);
    expect((await env.run(id)).status.steps.failing.state).toBe('waiting-decision');
    expect((await trailOf(id)).filter((e) => e.kind === 'operator-decision')).toEqual([]);
    expect((await cli('decide', id, 'failing', 'abort', '--as', 'operator2', '--comment', 'test over')).code).toBe(0);
    expect((await env.waitFor(id, finished)).status.phase).toBe('aborted');
  }, 60_000);
});

describe('lyncdr cancel', () => {
  it('cancels a waiting run (exit 0): it ends cancelled, who and why are in the trail', async () => {
    const id = await manualRun('test:cli-cancel');
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    const r = await cli('cancel', id, '--as', 'operator1', '--reason', 'drill called off');
    expect(r, r.stderr).toMatchObject({ code: 0, stderr: '', stdout: `cancel requested for ${id}\n` });
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('cancelled');
    expect(done.status.steps['recreate-log-shipping'].state).toBe('cancelled');
    expect((await trailOf(id)).find((e) => e.key === 'run:cancel')).toMatchObject({ kind: 'operator-decision', actor: 'operator1', data: { decision: 'cancel', reason: 'drill called off', channel: 'cli' } });
  }, 60_000);

  it('with an empty --reason: exit 1, says the reason is needed; the run goes on', async () => {
    const id = await manualRun('test:cli-cancel-bare');
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    const r = await cli('cancel', id, '--as', 'operator1', '--reason', '  ');
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/^lyncdr: .*reason/);
    expect((await env.run(id)).status.cancelRequested).toBeUndefined();
    expect((await trailOf(id)).filter((e) => e.key === 'run:cancel')).toEqual([]);
    expect((await cli('cancel', id, '--as', 'operator1', '--reason', 'test over')).code).toBe(0);
    await env.waitFor(id, finished);
  }, 60_000);
});
