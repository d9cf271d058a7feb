// LYNCDR_OPERATORS: with it set, only those identities may operate runs (start, confirm, decide,
// cancel, release a lock); approvers approve; anyone signed in may read. Over the real app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, startRunsEnv, stepState, type RunsEnv } from './support.js';

let env: RunsEnv;
beforeAll(async () => { env = await startRunsEnv({ settings: { LYNCDR_OPERATORS: '["operator1", "Operator2@Contoso.com"]' } }); }, 60_000);
afterAll(async () => { await env?.stop(); });

const refusal = (user: string, what: string) => `${user} may not ${what}: only operators may (LYNCDR_OPERATORS: operator1, operator2@contoso.com)`;

describe('operators', () => {
  it('a non-operator cannot start a run, and nothing is started', async () => {
    const r = await env.call('alice', 'POST', 'runs', { runbook: 'readiness', options: { fixture: 'manual', lock: 'test:ops-1' } });
    expect(r).toMatchObject({ status: 403, body: { error: refusal('alice', 'start a run') } });
    const runs = (await env.call('alice', 'GET', 'runs')).body.runs as Array<{ requestedBy?: string }>;
    expect(runs.filter((x) => x.requestedBy === 'alice')).toEqual([]);
  });

  it('confirm and cancel are for operators (identities compared as normalised); approvers and others may read', async () => {
    const id = await env.start('operator1', 'readiness', { fixture: 'manual', lock: 'test:ops-2' });
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    expect(await env.call('alice', 'POST', `runs/${id}/steps/recreate-log-shipping/confirm`, { comment: 'done' })).toMatchObject({ status: 403, body: { error: refusal('alice', 'confirm a manual step') } });
    expect(await env.call('mallory', 'POST', `runs/${id}/cancel`, { reason: 'x' })).toMatchObject({ status: 403, body: { error: refusal('mallory', 'cancel a run') } });
    expect((await env.call('mallory', 'GET', `runs/${id}`)).status).toBe(200);
    expect((await env.call('mallory', 'GET', 'locks')).status).toBe(200);
    // The refused requests changed nothing: still waiting for its confirmation.
    expect((await env.run(id)).status.steps['recreate-log-shipping'].state).toBe('waiting-confirmation');
    expect((await env.call('OPERATOR2@contoso.com', 'POST', `runs/${id}/steps/recreate-log-shipping/confirm`, { comment: 'done' })).status).toBe(202);
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps['recreate-log-shipping'].decisions).toEqual([expect.objectContaining({ decision: 'confirm', by: 'operator2@contoso.com' })]);
  }, 60_000);

  it('a decision on a failed step is for operators', async () => {
    await env.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: 2 });
    const id = await env.start('operator1', 'readiness', { fixture: 'faulty', tag: 'ops' });
    await env.waitFor(id, stepState('failing', 'waiting-decision'));
    expect(await env.call('bob', 'POST', `runs/${id}/steps/failing/decision`, { decision: 'skip' })).toMatchObject({ status: 403, body: { error: refusal('bob', 'decide on a failed step') } });
    expect((await env.call('operator1', 'POST', `runs/${id}/steps/failing/decision`, { decision: 'abort', comment: 'test' })).status).toBe(202);
    expect((await env.waitFor(id, finished)).status.phase).toBe('aborted');
  }, 60_000);

  it('releasing a lock is for operators (refused before anything is looked up)', async () => {
    expect(await env.call('carol', 'POST', 'locks/release', { lock: 'test:anything', reason: 'x' })).toMatchObject({ status: 403, body: { error: refusal('carol', 'release a lock') } });
  });
});
