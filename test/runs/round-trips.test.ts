// Round trips on the local stack: a failover drill and then its failback leave the simulated
// estate exactly as it was (EstateSnapshot: its durable facts, deep equality). The operators'
// manual steps are done on the estate as they would do them: the unapplied mgc log backups are
// copied and restored by hand, and log shipping is re-created (sim.reestablishLogShipping) before
// its step is confirmed.
//
// This one runs on the sample estate without the optional pChat SQL mirrors; the mirrored case is
// round-trips-mirrored.test.ts, and site-failover -> site-failback is in more-runbooks.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drive, expectSucceeded, without } from './drive.js';
import { startRunsEnv, type RunsEnv } from './support.js';

describe('failover then failback leaves the estate as it was', () => {
  let env: RunsEnv;
  beforeAll(async () => { env = await startRunsEnv({ topology: 'test/runs/estate.no-pchat-mirror.yaml' }); }, 60_000);
  afterAll(async () => { await env?.stop(); });

  it('pchat-pool-failover -> pchat-pool-failback (pChat SQL not mirrored)', async () => {
    await env.sim.reset();
    const before = await env.sim.snapshot();
    expect(before.pchatSql).toMatchObject({ primary: { mirrored: false }, secondary: { mirrored: false } });
    expect(before.pchat?.state).toBe('Normal');
    expect(before.pchatSql?.logShippingConfigured).toBe(true);

    // The primary pChat SQL server is lost.
    await env.sim.disaster('pchatsql-east.contoso.com');
    // The log tail: what the share holds after the last file the secondary restored.
    const lost = (await env.sim.state()).pchatSql!;
    const tail = lost.backupShare.files.filter((f) => f.seq > lost.secondary.lastRestoredSeq).sort((a, b) => a.seq - b.seq).map((f) => f.name);
    expect(tail.length).toBeGreaterThan(0);
    const id = await env.start('operator', 'pchat-pool-failover', { failedSite: 'East' });
    const over = await drive(env, id);
    expectSucceeded(over.run);
    // Nothing is done by hand any more: the run found the tail and restored it, oldest first.
    expect(over.confirmed).toEqual([]);
    expect(over.run.report.records['pchat.unappliedLogs'].map((f: any) => f.Name)).toEqual(tail);
    expect(over.run.report.records['pchat.logTailRestored'].map((f: any) => [f.Name, f.Restored])).toEqual(tail.map((n) => [n, 'now']));
    expect((await env.sim.state()).pchatSql!.secondary.lastRestoredSeq).toBe(Math.max(...lost.backupShare.files.map((f) => f.seq)));
    expect(over.run.report.rpo.basis).toContain(`mgc newest restored log backup ${tail.at(-1)}`);
    const failedOver = await env.sim.snapshot();
    expect(failedOver.pchat).toEqual({ state: 'FailedOver', activeServers: ['pchatserver5.contoso.com', 'pchatserver6.contoso.com', 'pchatserver7.contoso.com', 'pchatserver8.contoso.com'] });
    expect(failedOver.pchatSql).toMatchObject({ primary: { up: false }, secondary: { mgc: 'ONLINE' }, logShippingConfigured: false });
    expect(without(failedOver, 'pchat', 'pchatSql')).toEqual(without(before, 'pchat', 'pchatSql'));
    // The failover recorded the active list the failback restores.
    expect(over.run.report.records['preFailover.activeServers']).toEqual([expect.objectContaining({ ActiveServers: before.pchat?.activeServers })]);

    // It is back; fail back, re-creating log shipping when the run asks for it.
    await env.sim.disaster('pchatsql-east.contoso.com', true);
    const back = await env.start('operator', 'pchat-pool-failback', {});
    const fb = await drive(env, back, {
      approvers: ['carol', 'bob'],
      manual: async (step) => { if (step === 'pchat-recreate-log-shipping') await env.sim.reestablishLogShipping(); },
    });
    expectSucceeded(fb.run);
    expect(fb.approved).toEqual(['approve-failback']);
    expect(fb.confirmed).toEqual(['pchat-recreate-log-shipping']);
    expect(await env.sim.snapshot()).toEqual(before);
    expect((await env.trail.verify(id)).ok).toBe(true);
    expect((await env.trail.verify(back)).ok).toBe(true);
  }, 120_000);
});
