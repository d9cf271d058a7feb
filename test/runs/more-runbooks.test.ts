// The remaining Lync 2013 runbooks as drills on the local stack (readiness, cms-failover,
// pchat-backup, fe-pool-failback) and the site round trip: site-failover then site-failback
// leaves the simulated estate exactly as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lyncdr } from '../support/cli.js';
import { drive, expectSucceeded, removeSrvTarget } from './drive.js';
import { startRunsEnv, stepState, type RunsEnv } from './support.js';

describe('more runbooks, as drills', () => {
  let env: RunsEnv;
  beforeAll(async () => { env = await startRunsEnv(); }, 60_000);
  afterAll(async () => { await env?.stop(); });

  it('readiness reads everything and changes nothing', async () => {
    await env.sim.reset();
    const before = await env.sim.snapshot();
    const id = await env.start('operator', 'readiness', {});
    const { run, approved } = await drive(env, id);
    expectSucceeded(run);
    expect(approved).toEqual([]);
    const ran = (await env.sim.state()).executions.filter((e) => e.commandId.startsWith(id));
    expect(ran.length).toBeGreaterThan(5);
    expect(await env.sim.snapshot()).toEqual(before);
    expect((await env.trail.verify(id)).ok).toBe(true);
  }, 60_000);

  it('cms-failover moves the Central Management Store to the backup pool (planned: both pools up)', async () => {
    await env.sim.reset();
    const id = await env.start('operator', 'cms-failover', { targetPool: 'eepool2.contoso.com', planned: true });
    const { run } = await drive(env, id, {});
    expectSucceeded(run);
    expect((await env.sim.snapshot()).cms.pool).toBe('eepool2.contoso.com');
    // The Normal set (no target, no -Force), after the replicas were read current; both pools synced.
    expect(run.status.steps['cms-move'].rendered).toBe('Invoke-CsManagementServerFailover -Confirm:$false');
    expect(run.status.steps['verify-cms-replication'].state).toBe('succeeded');
    expect(['backup-sync-eepool1', 'backup-sync-eepool2'].map((s) => run.status.steps[s].state)).toEqual(['succeeded', 'succeeded']);
  }, 60_000);

  it('pchat-backup writes the dated export', async () => {
    await env.sim.reset();
    const id = await env.start('operator', 'pchat-backup', { date: '2026-11-21' });
    const { run } = await drive(env, id);
    expectSucceeded(run);
    const exports = Object.values((await env.sim.state()).exports).map((e) => e.path);
    expect(exports.some((p) => p.includes('2026-11-21'))).toBe(true);
  }, 60_000);

  it('fe-pool-failover then fe-pool-failback: users come home, the CMS may stay where it is', async () => {
    await env.sim.reset();
    const before = await env.sim.snapshot();
    await env.sim.disaster('eepool1.contoso.com');
    const failoverId = await env.start('operator', 'fe-pool-failover', { pool: 'eepool1.contoso.com' });
    expectSucceeded((await drive(env, failoverId)).run);
    await env.sim.disaster('eepool1.contoso.com', true);
    // The failback restores what that failover recorded, not what the topology file says.
    const wrong = await env.call('operator', 'POST', 'runs', { runbook: 'site-failback', options: { failedSite: 'East', fromRun: failoverId } });
    expect(wrong.status).toBe(400);
    const back = await drive(env, await env.start('operator', 'fe-pool-failback', { pool: 'eepool1.contoso.com', fromRun: failoverId }));
    expectSucceeded(back.run);
    const titles = Object.values<any>(back.run.status.steps).map((st) => st.title).join('\n');
    expect(titles).toMatch(/recorded/);
    expect(titles).not.toMatch(/configured/);
    const after = await env.sim.snapshot();
    expect(after.pools).toEqual(before.pools);
    expect(after.edgeNextHops).toEqual(before.edgeNextHops);
    expect(after.dns).toEqual(before.dns);
  }, 90_000);

  it('fe-pool-failback while the pool is still down: its Front Ends do not read current, nothing is failed back until they do', async () => {
    await env.sim.reset();
    await env.sim.disaster('eepool1.contoso.com');
    const failoverId = await env.start('operator', 'fe-pool-failover', { pool: 'eepool1.contoso.com' });
    expectSucceeded((await drive(env, failoverId)).run);
    // eepool1 is not back yet, and someone starts the failback.
    const id = await env.start('operator', 'fe-pool-failback', { pool: 'eepool1.contoso.com', fromRun: failoverId });
    const reads = ['fe1a', 'fe1b', 'fe1c'].map((fe) => `read-replica-${fe}`);
    const waiting = await env.waitFor(id, (r: any) => reads.every((st) => stepState(st, 'waiting-decision')(r) && r.status.steps[st].lastError !== undefined), 120_000);
    expect(waiting.status.steps['read-replica-fe1b'].rendered).toBe("Get-CsManagementStoreReplicationStatus -ReplicaFqdn 'fe1b.contoso.com'");
    expect(waiting.status.steps['read-replica-fe1b'].lastError).toMatch(/fe1b\.contoso\.com's replica is up to date \(UpToDate equals true: got false\)/);
    expect(waiting.status.steps['approve-failback'].state).toBe('pending');
    const failbacks = async () => (await env.sim.state()).executions.filter((e) => e.name === 'pool.failback' && e.commandId.startsWith(id));
    expect(await failbacks()).toEqual([]);
    // Its servers come back; each read is retried, and the failback goes on.
    await env.sim.disaster('eepool1.contoso.com', true);
    for (const st of reads) expect((await env.call('carol', 'POST', `runs/${id}/steps/${st}/decision`, { decision: 'retry', comment: 'the Front Ends are up' })).status).toBe(202);
    // The decisions are taken (each read is on its next attempt) before the drive, which aborts a step it sees waiting.
    await env.waitFor(id, (r: any) => reads.every((st) => r.status.steps[st].attempt > waiting.status.steps[st].attempt), 60_000);
    const back = await drive(env, id);
    expectSucceeded(back.run);
    expect(reads.map((st) => back.run.status.steps[st].state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(await failbacks()).toHaveLength(1);
  }, 240_000);

  it('site-failover then site-failback leave the estate exactly as it was', async () => {
    await env.sim.reset();
    const before = await env.sim.snapshot();
    await env.sim.disaster('east');
    const overId = await env.start('operator', 'site-failover', { failedSite: 'East' });
    const over = await drive(env, overId, {
      manual: async (step) => {
        if (step === 'dns-sipinternaltls-remove') await removeSrvTarget(env.sim, 'eepool1.contoso.com');
      },
    });
    expectSucceeded(over.run);
    await env.sim.disaster('east', true);
    // The what-if an approver reads first: the CLI asks for the failover's records and builds the
    // very plan the run will build (same hash), each restored value marked where it came from.
    const whatIf = await lyncdr(['plan', 'site-failback', '--option', 'failedSite=East', '--from-run', overId, '--url', env.host.url, '--as', 'operator', '--json']);
    expect(whatIf.code, whatIf.stderr).toBe(0);
    const planned = JSON.parse(whatIf.stdout) as { hash: string; plan: { steps: Array<{ title: string }> } };
    const marked = planned.plan.steps.map((st) => st.title).filter((t) => /\((recorded|configured)\)$/.test(t));
    expect(marked.length).toBeGreaterThanOrEqual(8); // Edge next hop, six DNS targets, active servers
    expect(marked.every((t) => t.endsWith('(recorded)'))).toBe(true);
    const wrongRun = await lyncdr(['plan', 'site-failback', '--option', 'failedSite=East', '--from-run', 'run-nope', '--url', env.host.url, '--as', 'operator']);
    expect(wrongRun).toMatchObject({ code: 2, stderr: expect.stringMatching(/--from-run run-nope: no run run-nope/) });
    const backId = await env.start('operator', 'site-failback', { failedSite: 'East', fromRun: overId });
    await env.waitFor(backId, (r) => Boolean(r.status?.planHash));
    expect((await env.run(backId)).status.planHash).toBe(planned.hash);
    const back = await drive(env, backId, {
      manual: async (step) => {
        if (step === 'pchat-recreate-log-shipping') await env.sim.reestablishLogShipping();
        if (step.startsWith('dns-sipinternaltls')) await removeSrvTarget(env.sim, 'eepool2.contoso.com');
      },
      timeoutMs: 120_000,
    });
    expectSucceeded(back.run);
    const after = await env.sim.snapshot();
    expect(after).toEqual(before);
  }, 240_000);

  it('refuses what cannot be planned before a run exists (bad options, an unknown site)', async () => {
    const before = (await env.call('alice', 'GET', 'runs')).body.runs.length;
    const nowhere = await env.call('operator', 'POST', 'runs', { runbook: 'site-failover', options: { failedSite: 'Nowhere' } });
    expect(nowhere.status).toBe(400);
    const notList = await env.call('operator', 'POST', 'runs', { runbook: 'site-failover', options: { failedSite: 'East', logBackups: 'mgc_1.trn' } });
    expect(notList.status).toBe(400);
    expect(JSON.stringify(notList.body)).toMatch(/logBackups/);
    const unknown = await env.call('operator', 'POST', 'runs', { runbook: 'fe-pool-failover', options: { pool: 'eepool1.contoso.com', colour: 'red' } });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toMatch(/unknown option\(s\) colour/);
    expect((await env.call('alice', 'GET', 'runs')).body.runs.length).toBe(before);
  });
});
