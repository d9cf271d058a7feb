import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, startRunsEnv, stepState, type RunsEnv } from './support.js';
import { lyncdr } from '../support/cli.js';
import { removeSrvTarget } from './drive.js';

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
    // The host anchored the run outside its partition: at its declaration, its gate's decision and its end.
    const end = entries.find((e) => e.kind === 'run-completed')!;
    expect(await env.trail.verify(id)).toMatchObject({ ok: true, anchor: { ended: true, last: { seq: end.seq, kind: 'run-completed' } } });
    expect(end.seq).toBe(entries.length);
  }, 90_000);
});

describe('site-failover drill', () => {
  it('runs the FE and pChat branches to the end with two approvers, confirming its manual steps', async () => {
    await env.sim.reset();
    const id = await env.start('operator1', 'site-failover', { failedSite: 'East' });
    await env.waitFor(id, stepState('declare-disaster', 'waiting-approval'));
    expect((await env.vote('carol', id, 'approve')).body.outcome).toBe('accepted');
    expect((await env.vote('alice', id, 'approve')).body.gate.status).toBe('approved');
    const deadline = Date.now() + 90_000;
    const done: string[] = [];
    let r: any;
    while (Date.now() < deadline) {
      r = await env.run(id);
      if (finished(r)) break;
      for (const [step, st] of Object.entries<any>(r.status?.steps ?? {})) {
        if (st.state !== 'waiting-confirmation' || done.includes(step)) continue;
        // Each manual step is checked when confirmed: do it on the simulated estate first.
        await removeSrvTarget(env.sim, 'eepool1.contoso.com');
        done.push(step);
        await env.call('bob', 'POST', `runs/${id}/steps/${step}/confirm`, { comment: 'done by hand' });
      }
      await new Promise((res) => setTimeout(res, 150));
    }
    expect(r.status.phase, JSON.stringify(r.status, null, 1)).toBe('succeeded');
    expect(r.report.rpo.minutes).not.toBeNull();
    expect((await env.trail.verify(id)).ok).toBe(true);
  }, 120_000);
});

describe('the CLI as a child process', () => {
  const cli = (...args: string[]) => lyncdr([...args, '--url', env.host.url]);
  it('start, approve (twice), status --json, runs', async () => {
    await env.sim.reset();
    const started = await cli('start', 'fe-pool-failover', '--option', 'pool=eepool1.contoso.com', '--as', 'operator1', '--json');
    expect(started.code, started.stderr).toBe(0);
    const id = JSON.parse(started.stdout).runId as string;
    await env.waitFor(id, stepState('declare-disaster', 'waiting-approval'));

    const self = await cli('approve', id, '--as', 'operator1', '--json');
    expect(self.code).toBe(1);
    expect(JSON.parse(self.stdout)).toMatchObject({ outcome: 'refused', code: 'self-approval' });
    const a = await cli('approve', id, '--as', 'alice', '--comment', 'go');
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/approve accepted/);
    const b = await cli('approve', id, '--as', 'bob', '--json');
    expect(JSON.parse(b.stdout).gate.status).toBe('approved');

    await env.waitFor(id, finished, 60_000);
    const status = await cli('status', id, '--as', 'carol', '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).status).toMatchObject({ phase: 'succeeded', steps: { 'declare-disaster': { approvers: ['alice', 'bob'] } } });
    const text = await cli('status', id, '--as', 'carol');
    expect(text.stdout).toMatch(/\[\+\] pool-failover-eepool1/);
    // The report says what each figure measures and whether it met its target.
    expect(text.stdout).toMatch(/^RTO [\d.]+ min \(target \d+ min: (met|missed)\) - \S.*$/m);
    expect(text.stdout).toMatch(/^RPO [\d.]+ min \(target \d+ min: (met|missed)\) - \S.*$/m);
    const runs = await cli('runs', '--as', 'carol');
    expect(runs.stdout).toContain(id);
    const missing = await cli('status', 'run-missing', '--as', 'carol');
    expect(missing.code).toBe(1);
  }, 120_000);
});
