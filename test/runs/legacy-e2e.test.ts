// The Lync 2010 runbooks (seed 002) as drills on the local stack, against
// examples/estate.lync2010.yaml: the host plans from it and the simulator starts from it, with a
// worker for each of its sites (Primary, DR). A file of its own: the local host keeps the first
// value of each app setting in process.env, so one process cannot host two topologies.
// legacy-site-dr lists pool1's 5,000 users: more than a queue message holds, so the worker sends
// a bounded result (truncated: true, with the count), keeps the whole list, and the ten move
// batches take their 500 users each from it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSimulatorTopology } from '../../worker/simulator/topology.js';
import { ROOT } from '../support/host.js';
import { drive, expectSucceeded, moveUsersByHand, removeSrvTarget } from './drive.js';
import { finished, startRunsEnv, stepState, type RunsEnv } from './support.js';

describe('the Lync 2010 runbooks (examples/estate.lync2010.yaml)', () => {
  let env: RunsEnv;
  const TOPOLOGY = 'examples/estate.lync2010.yaml';
  beforeAll(async () => {
    env = await startRunsEnv({ topology: TOPOLOGY });
    await env.sim.reset(await loadSimulatorTopology(`${ROOT}/${TOPOLOGY}`));
  }, 60_000);
  afterAll(async () => { await env?.stop(); });

  it('legacy-nightly-export writes the dated contact-list and Response Group exports to the DR share', async () => {
    const before = await env.sim.snapshot();
    const id = await env.start('operator', 'legacy-nightly-export', { date: '2026-11-20' });
    const { run, approved } = await drive(env, id);
    expectSucceeded(run);
    expect(approved).toEqual([]);
    const exports = Object.values((await env.sim.state()).exports).map((e) => [e.path, e.kind]).sort();
    expect(exports).toEqual([
      ['\\\\fs-dr.contoso.com\\contacts\\pool1-contacts-2026-11-20.xml', 'contacts'],
      // Lync 2010 has no Export-CsRgsConfiguration: a SQL backup of pool1's RgsConfig.
      ['\\\\fs-dr.contoso.com\\rgs\\pool1-rgsconfig-2026-11-20.bak', 'rgsconfig'],
    ]);
    expect(await env.sim.snapshot()).toEqual(before);
  }, 60_000);

  it('legacy-site-dr: more users on the pool than the topology counts are found before the gate, not left behind after the moves', async () => {
    // pool1 has grown by 600 users the topology file does not count yet (5,000 there): the plan's
    // 11 batches move 5,500.
    const topology = await loadSimulatorTopology(`${ROOT}/${TOPOLOGY}`);
    await env.sim.reset({ ...topology, frontEndPools: topology.frontEndPools.map((p) => (p.fqdn === 'pool1.contoso.com' ? { ...p, userCount: p.userCount + 600 } : p)) });
    try {
      await env.sim.disaster('pool1.contoso.com');
      const id = await env.start('operator', 'legacy-site-dr', { failedPool: 'pool1.contoso.com', exportDate: '2026-11-20' });
      const waiting = await env.waitFor(id, (r: any) => stepState('read-users-to-move', 'waiting-decision')(r) && r.status.steps['read-users-to-move'].lastError !== undefined, 90_000);
      expect(waiting.status.steps['read-users-to-move'].lastError).toMatch(/at most 5,500 users \(11 batches of 500\): more means the topology's userCount is out of date.*\(\. has at most 5500 items: got 5601\)/);
      expect(waiting.status.steps['declare-disaster'].state).toBe('pending');
      expect((await env.sim.state()).executions.filter((e) => e.name === 'users.moveRecorded' && e.commandId.startsWith(id))).toEqual([]);
      expect((await env.call('carol', 'POST', `runs/${id}/steps/read-users-to-move/decision`, { decision: 'abort', comment: 'userCount to be corrected' })).status).toBe(202);
      expect((await env.waitFor(id, finished, 30_000)).status.phase).toBe('aborted');
    } finally {
      await env.sim.reset(topology);
    }
  }, 120_000);

  it('legacy-site-dr: after the nightly export, pool1 is declared lost and its users are brought up on the DR pool', async () => {
    await env.start('operator', 'legacy-nightly-export', { date: '2026-11-21' }).then((id) => drive(env, id));
    await env.sim.disaster('pool1.contoso.com');
    const id = await env.start('operator', 'legacy-site-dr', { failedPool: 'pool1.contoso.com', exportDate: '2026-11-21' });
    const before = await env.sim.snapshot();
    // move-users is checked when confirmed (no user left on the failed pool): the administrator moves them first.
    const { run, approved } = await drive(env, id, { timeoutMs: 120_000, manual: async (step) => {
      if (step === 'move-users') await moveUsersByHand(env.sim, 'pool1.contoso.com', 'drse1.contoso.com');
      if (step.startsWith('dns-sipinternaltls')) await removeSrvTarget(env.sim, 'pool1.contoso.com');
      if (step === 'restore-response-groups') await env.sim.restoreRgsConfig();
    } });
    expectSucceeded(run);
    expect(approved.length).toBeGreaterThanOrEqual(1);
    const listed = run.report.records?.['legacy.usersToMove'];
    // pool1's 5,000 users and its test user.
    expect(listed).toMatchObject({ truncated: true, count: 5001 });
    const after = await env.sim.snapshot();
    // The users the pre-flight listed, and only they, were moved, and the count after says none is left.
    expect(Object.keys(after.movedUsers)).toHaveLength(5001);
    expect(new Set(Object.values(after.movedUsers))).toEqual(new Set(['drse1.contoso.com']));
    expect(run.status.order.filter((s: string) => /^move-users-\d+$/.test(s))).toHaveLength(11);
    expect(run.status.steps['check-users-moved'].state).toBe('succeeded');
    // The contact import was checked against the 5,000 users the pre-flight listed (executor
    // version 13 hands the run's records to a command's check), and the DBA's RgsConfig restore
    // (the DBA's step, done in the hook) was read back from msdb on drse1.
    expect(run.status.steps['restore-contacts'].state).toBe('succeeded');
    expect(run.status.steps['restore-response-groups'].state).toBe('succeeded');
    expect((await env.sim.state()).pools['drse1.contoso.com'].rgsConfigRestore?.file).toBe('\\\\fs-dr.contoso.com\\rgs\\pool1-rgsconfig-2026-11-21.bak');
    // sip and the SRV record now lead clients to the DR Standard Edition server.
    expect(before.dns['sip.contoso.com'].records).not.toEqual(['10.9.0.20']);
    expect(after.dns['sip.contoso.com'].records).toEqual(['10.9.0.20']);
    expect(after.dns['_sipinternaltls._tcp.contoso.com'].records).toContain('0 0 5061 drse1.contoso.com');
    expect((await env.trail.verify(id)).ok).toBe(true);
  }, 180_000);
});
