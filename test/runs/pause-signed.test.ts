// Issue 13 §1: a pause is signed (executor version 8). Over the real app, the local host on
// Azurite and the workers: pause and resume through the API and the CLI are signed events the run
// takes at a step boundary (what is in flight finishes, nothing new starts, signals are refused
// with who paused); a pause or resume raised straight through the Durable API is refused, audited,
// and changes nothing. No Durable suspend is involved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lyncdr } from '../support/cli.js';
import { api, type Api } from '../support/host.js';
import { finished, startRunsEnv, stepState, trailUntil as trailUntilIn, type RunsEnv } from './support.js';

let env: RunsEnv;
let durable: Api;
beforeAll(async () => {
  env = await startRunsEnv({ settings: { LYNCDR_OPERATORS: '["operator1", "operator2"]' } });
  durable = api(env.host);
}, 180_000);
afterAll(async () => { await env?.stop(); });

const cli = (...args: string[]) => lyncdr([...args, '--url', env.host.url]);
const trailOf = (id: string) => env.trail.readRun(id);
const trailUntil = (id: string, pred: (e: Awaited<ReturnType<typeof trailOf>>) => boolean) => trailUntilIn(env.trail, id, pred);
const refusals = (t: Awaited<ReturnType<typeof trailOf>>, kind: string) => t.filter((e) => /^run:refused:/.test(e.key) && (e.data as { refused?: string }).refused === kind);

describe('a signed pause (executor version 8)', () => {
  it('pause and resume through the API: what is in flight finishes, nothing new starts, signals are refused; unsigned ones raised straight in are refused and audited', async () => {
    // The first command runs a few seconds: long enough to pause the run while it is on the worker.
    await env.sim.faults.add({ command: 'pool.get', kind: 'slow', remaining: 1, factor: 20000 });
    const id = await env.start('operator1', 'readiness', { fixture: 'manual', lock: 'test:signed-pause' });
    await env.waitFor(id, stepState('read-pool', 'running'));

    const paused = await cli('pause', id, '--reason', 'change freeze & DBA check #1', '--as', 'operator1');
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toBe(`${id} paused; recorded in its audit trail\n`);
    const p = await env.run(id);
    expect([p.runtimeStatus, p.status.paused, p.status.steps['read-pool'].state]).toEqual(['Running', expect.objectContaining({ by: 'operator1', reason: 'change freeze & DBA check #1' }), 'running']);
    // The command in flight finishes; the manual step after it does not start.
    // An unsigned pause raised straight into the run: refused (its signature is checked first), audited.
    expect(await durable.raise(id, 'pause', { by: 'operator2', reason: 'forged' })).toBe(202);
    const forged = await trailUntil(id, (e) => refusals(e, 'pause').length === 1);
    expect(refusals(forged, 'pause')[0]).toMatchObject({ actor: 'lyncdr', data: { claimedBy: 'operator2', target: 'run', code: 'bad-signature', reason: expect.stringMatching(/not signed/) } });
    expect(forged.filter((e) => e.kind === 'run-paused').map((e) => e.actor)).toEqual(['operator1']);
    const held = await env.waitFor(id, stepState('read-pool', 'succeeded'), 60_000);
    expect(held.status.steps['recreate-log-shipping'].state).toBe('pending');
    expect((await cli('status', id, '--as', 'carol')).stdout).toMatch(new RegExp(`running, PAUSED by operator1[\\s\\S]*paused by operator1 at \\S+: change freeze & DBA check #1; no new step starts until an operator runs lyncdr resume ${id}`));

    // Signals to the paused run: 409 with who paused it.
    const confirm = await env.call('operator2', 'POST', `runs/${id}/steps/recreate-log-shipping/confirm`, {});
    expect(confirm).toMatchObject({ status: 409, body: { code: 'paused', paused: { by: 'operator1', reason: 'change freeze & DBA check #1' } } });
    expect(await env.call('operator2', 'POST', `runs/${id}/pause`, { reason: 'again' })).toMatchObject({ status: 409, body: { error: expect.stringMatching(/is already paused \(by operator1/) } });

    // An unsigned resume raised straight in: refused, audited, the run stays paused.
    expect(await durable.raise(id, 'resume', { by: 'operator2', reason: 'forged' })).toBe(202);
    await trailUntil(id, (e) => refusals(e, 'resume').length === 1);
    const still = await env.run(id);
    expect([still.status.paused?.by, still.status.steps['recreate-log-shipping'].state]).toEqual(['operator1', 'pending']);

    const resumed = await cli('resume', id, '--reason', 'DBA confirmed', '--as', 'operator2');
    expect(resumed.code, resumed.stderr).toBe(0);
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    expect((await env.run(id)).status.paused).toBeUndefined();
    expect((await env.call('operator2', 'POST', `runs/${id}/steps/recreate-log-shipping/confirm`, { comment: 'done' })).status).toBe(202);
    expect((await env.waitFor(id, finished)).status.phase).toBe('succeeded');

    // Who and why, recorded by the run itself, in order; no Durable suspend was used.
    const t = await trailOf(id);
    expect(t.filter((e) => e.kind === 'run-paused' || e.kind === 'run-resumed').map((e) => [e.kind, e.actor, (e.data as { reason: string }).reason])).toEqual([
      ['run-paused', 'operator1', 'change freeze & DBA check #1'], ['run-resumed', 'operator2', 'DBA confirmed'],
    ]);
    expect(refusals(t, 'resume')[0].data).toMatchObject({ claimedBy: 'operator2', code: 'bad-signature' });
    expect((await env.trail.verify(id)).ok).toBe(true);
    const turns = (await durable.status(id, '?showHistory=true')).historyEvents.filter((e: any) => /^Execution(Suspended|Resumed)$/.test(e.EventType));
    expect(turns).toEqual([]);
  }, 120_000);
});
