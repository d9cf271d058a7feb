import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, startRunsEnv, stepState, type RunsEnv } from './support.js';

let env: RunsEnv;
beforeAll(async () => { env = await startRunsEnv(); }, 60_000);
afterAll(async () => { await env?.stop(); });

describe('runs end to end (real app, Azurite, in-process workers on the simulator)', () => {
  it('fe-pool-failover drill: two approvers reach the quorum, every step runs, RTO/RPO are measured and audited', async () => {
    const id = await env.start('operator1', 'fe-pool-failover', { pool: 'eepool1.contoso.com' });
    await env.waitFor(id, stepState('declare-disaster', 'waiting-approval'));
    const first = await env.vote('alice', id, 'approve');
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const second = await env.vote('bob', id, 'approve');
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.gate.status).toBe('approved');
    const done = await env.waitFor(id, finished, 60_000);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.status.phase, JSON.stringify(done.status, null, 1)).toBe('succeeded');
    expect(done.report.outcome).toBe('succeeded');
    expect(done.status.steps['declare-disaster'].approvers).toEqual(['alice', 'bob']);
    for (const s of Object.values<any>(done.status.steps)) expect(s.state).toBe('succeeded');
    expect(done.report.rto.minutes, JSON.stringify([done.report.rto, done.report.rpo, Object.keys(done.report.records)])).not.toBeNull();
    expect(done.report.rpo.minutes, JSON.stringify([done.report.rpo, done.report.records])).not.toBeNull();
    const entries = await env.trail.readRun(id);
    const kinds = entries.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['run-declared', 'plan', 'approval-requested', 'vote', 'gate-decided', 'step-dispatched', 'step-result', 'rto-rpo', 'run-completed']));
    expect((await env.trail.verify(id)).ok).toBe(true);
  }, 90_000);
});
