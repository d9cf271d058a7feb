// Locks that outlive their run: a run terminated through the Durable API never releases them.
// Over the real app: the next run takes a stale lock by itself when the old run had nothing in
// flight; when a step was in flight it is refused with what to do, an operator releases the lock
// (recorded in the old run's trail), and the next run goes ahead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lyncdr } from '../support/cli.js';
import { appSettings, runConfigFrom } from '../../shared/config/index.js';
import { ORCHESTRATION } from '../../shared/runs/contract.js';
import { seal } from '../../functions/runs/signing.js';
import { DECISION_KEY, finished, startRunsEnv, stepState, type RunsEnv } from './support.js';

let env: RunsEnv;
beforeAll(async () => { env = await startRunsEnv(); }, 60_000);
afterAll(async () => { await env?.stop(); });

async function terminate(id: string): Promise<void> {
  const res = await fetch(`${env.host.url}/runtime/webhooks/durabletask/instances/${id}/terminate?reason=${encodeURIComponent('stopped by an administrator')}`, { method: 'POST' });
  expect(res.status).toBe(202);
  await expect.poll(async () => (await env.run(id)).runtimeStatus, { timeout: 10_000 }).toBe('Terminated');
}

const lockOf = async (lock: string) => ((await env.call('operator1', 'GET', 'locks')).body.locks as any[]).find((l) => l.lock === lock);

/** The CLI as an operator runs it, against this host. */
const cli = (...args: string[]) => lyncdr([...args, '--url', env.host.url, '--as', 'operator2']);

describe('a lock whose run was terminated', () => {
  it('with nothing in flight: listed as stale, then taken over by the next run and recorded in both trails', async () => {
    const lock = 'test:terminated-idle';
    const old = await env.start('operator1', 'readiness', { fixture: 'manual', lock });
    await env.waitFor(old, stepState('recreate-log-shipping', 'waiting-confirmation'));
    expect(await lockOf(lock)).toMatchObject({ runId: old, runtimeStatus: 'Running', active: true, inFlight: [] });
    await terminate(old);
    expect(await lockOf(lock)).toMatchObject({ runId: old, runtimeStatus: 'Terminated', active: false, inFlight: [] });

    const next = await env.start('operator1', 'readiness', { fixture: 'manual', lock });
    await env.waitFor(next, stepState('recreate-log-shipping', 'waiting-confirmation'));
    expect(await lockOf(lock)).toMatchObject({ runId: next, active: true });

    const nextTrail = await env.trail.readRun(next);
    expect(nextTrail.find((e) => e.key === 'run:locks-taken-over')).toMatchObject({ kind: 'lock-released', data: { tookOver: [{ lock, from: old, fromStatus: 'Terminated' }] } });
    const oldTrail = await env.trail.readRun(old);
    expect(oldTrail.at(-1)).toMatchObject({ key: `lock:${lock}:released-for:${next}`, kind: 'lock-released', actor: 'lyncdr', data: { lock, runtimeStatus: 'Terminated', inFlight: [], reason: `released for run ${next}` } });
    expect((await env.trail.verify(old)).ok).toBe(true);
    expect((await env.trail.verify(next)).ok).toBe(true);

    await env.call('operator1', 'POST', `runs/${next}/cancel`, { reason: 'done' });
    expect((await env.waitFor(next, finished)).status.phase).toBe('cancelled');
    expect(await lockOf(lock)).toBeUndefined();
  }, 90_000);

  it('two runs racing for the same stale lock: one takes it, the other is refused naming the winner', async () => {
    const lock = 'test:terminated-race';
    const old = await env.start('operator1', 'readiness', { fixture: 'manual', lock });
    await env.waitFor(old, stepState('recreate-log-shipping', 'waiting-confirmation'));
    await terminate(old);
    // Both pass the start's check (the holder has ended, nothing in flight) or the second meets
    // the winner there (409); either way exactly one run gets the lock.
    const starts = await Promise.all([1, 2].map(() => env.call('operator1', 'POST', 'runs', { runbook: 'readiness', options: { fixture: 'manual', lock } })));
    const started = starts.filter((x) => x.status === 202).map((x) => x.body.runId as string);
    const ends = await Promise.all(started.map((id) => env.waitFor(id, (r) => r.status?.steps?.['recreate-log-shipping']?.state === 'waiting-confirmation' || finished(r))));
    const winners = ends.filter((r) => r.runtimeStatus === 'Running');
    expect(winners).toHaveLength(1);
    const winner = winners[0].runId as string;
    const refusals = [
      ...starts.filter((x) => x.status === 409).map((x) => x.body.error as string),
      ...ends.filter((r) => r.runtimeStatus !== 'Running').map((r) => r.status.error as string),
    ];
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatch(new RegExp(`^lock ${lock} is held by run ${winner} since .*: only one run may act on it at a time$`));
    expect(await lockOf(lock)).toMatchObject({ runId: winner, active: true });
    // The old run's trail records the one release that happened, and stays intact.
    expect((await env.trail.readRun(old)).filter((e) => e.kind === 'lock-released')).toHaveLength(1);
    expect((await env.trail.verify(old)).ok).toBe(true);
    await env.call('operator1', 'POST', `runs/${winner}/cancel`, { reason: 'done' });
    await env.waitFor(winner, finished);
  }, 90_000);

  it('with a step in flight: the next run is refused with the reason; an operator releases the lock from the CLI; then a run goes ahead', async () => {
    const tag = 'inflight';
    const lock = `test:faulty:${tag}`;
    // The worker hangs on the step's command: dispatched, no result, when the run is terminated.
    await env.sim.faults.add({ command: 'pool.fabricState', kind: 'hang', remaining: 1 });
    const old = await env.start('operator1', 'readiness', { fixture: 'faulty', tag });
    await env.waitFor(old, stepState('failing', 'running'));
    await expect.poll(async () => (await env.sim.state()).executions.some((e) => e.commandId.startsWith(`${old}:failing`)), { timeout: 10_000 }).toBe(true);
    await terminate(old);
    expect(await lockOf(lock)).toMatchObject({ runId: old, runtimeStatus: 'Terminated', active: false, inFlight: ['failing'] });

    const refused = await env.call('operator1', 'POST', 'runs', { runbook: 'readiness', options: { fixture: 'faulty', tag } });
    expect(refused).toMatchObject({ status: 409, body: { lock, heldBy: old } });
    expect(refused.body.error).toBe(`lock ${lock} is held by run ${old} since ${(await lockOf(lock)).since}, which ended Terminated with failing in flight (its command may still be running on the worker): check the estate, then release it with: lyncdr locks release ${lock} --reason "..."`);

    const listed = await cli('locks');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${lock}\\s+${old}  Terminated \\(ended\\)  in flight: failing`));
    const noReason = await cli('locks', 'release', lock);
    expect(noReason.code).not.toBe(0);
    expect(noReason.stderr).toMatch(/--reason/);
    const released = await cli('locks', 'release', lock, '--reason', 'Get-CsPoolFabricState is read-only; nothing to undo', '--json');
    expect(released.code, released.stderr).toBe(0);
    expect(JSON.parse(released.stdout)).toMatchObject({ lock, releasedFrom: old, runtimeStatus: 'Terminated', inFlight: ['failing'], by: 'operator2' });
    expect((await env.trail.readRun(old)).at(-1)).toMatchObject({
      key: expect.stringMatching(new RegExp(`^lock:${lock}:released:\\d+$`)), actor: 'operator2', data: { reason: 'Get-CsPoolFabricState is read-only; nothing to undo', inFlight: ['failing'] },
    });
    expect(await lockOf(lock)).toBeUndefined();

    const next = await env.start('operator1', 'readiness', { fixture: 'faulty', tag });
    expect((await env.waitFor(next, finished)).status.phase).toBe('succeeded');
  }, 120_000);

  it('refuses to release the lock of a run that is still running, an unknown lock, and a release without a reason', async () => {
    const lock = 'test:still-running';
    const id = await env.start('operator1', 'readiness', { fixture: 'manual', lock });
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    const running = await env.call('operator2', 'POST', 'locks/release', { lock, reason: 'I want it' });
    expect(running.status).toBe(409);
    expect(running.body.error).toMatch(new RegExp(`run ${id} is Running and holds ${lock}: cancel the run`));
    expect((await env.call('operator2', 'POST', 'locks/release', { lock: 'test:nobody', reason: 'x' })).status).toBe(404);
    expect((await env.call('operator2', 'POST', 'locks/release', { lock })).status).toBe(400);
    expect((await env.call(undefined, 'GET', 'locks')).status).toBe(401);
    expect(await lockOf(lock)).toMatchObject({ runId: id, active: true });
    // Past the start's check (started straight through the Durable API, with an input signed as
    // the API signs it), the run's own lock acquisition still refuses it: failed with the holder
    // named, nothing run.
    const other = `run-bypass-${Date.now().toString(36)}`;
    const input = seal(DECISION_KEY, { kind: 'run', runId: other, target: 'run' }, { runId: other, runbook: 'readiness', options: { fixture: 'manual', lock }, mode: 'drill', requestedBy: 'operator1', requestedAt: new Date().toISOString(),
      config: runConfigFrom(appSettings({ ...process.env, ...env.values })) });
    const res = await fetch(`${env.host.url}/runtime/webhooks/durabletask/orchestrators/${ORCHESTRATION.runPlan}/${other}`, { method: 'POST', body: JSON.stringify(input), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(202);
    const refused = await env.waitFor(other, finished);
    expect(refused.status.phase).toBe('failed');
    expect(refused.status.error).toMatch(new RegExp(`^lock ${lock} is held by run ${id} since .*: only one run may act on it at a time$`));
    expect(Object.values<any>(refused.status.steps).map((st) => st.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect((await env.sim.state()).executions.filter((e) => e.commandId.startsWith(other))).toEqual([]);
    await env.call('operator1', 'POST', `runs/${id}/cancel`, { reason: 'done' });
    await env.waitFor(id, finished);
  }, 60_000);
});
