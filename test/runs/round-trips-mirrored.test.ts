// The Persistent Chat round trip on examples/estate.sample.yaml itself, whose primary mgc is
// mirrored (pchatsql-east-m): the primary SQL server is lost; pchat-pool-failover then
// pchat-pool-failback leave the estate exactly as it was, mirroring included (the failback ends
// the mirroring before restoring over the primary, Msg 3104, and installs it again after).
// The same round trip without the optional mirrors: round-trips.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drive, expectSucceeded } from './drive.js';
import { startRunsEnv, type RunsEnv } from './support.js';

describe('failover then failback leaves the estate as it was', () => {
  let env: RunsEnv;
  beforeAll(async () => { env = await startRunsEnv(); }, 60_000);
  afterAll(async () => { await env?.stop(); });

  it('pchat-pool-failover -> pchat-pool-failback (pChat SQL mirrored)', async () => {
    await env.sim.reset();
    const before = await env.sim.snapshot();
    expect(before.pchatSql).toMatchObject({ primary: { mirrored: true } });

    await env.sim.disaster('pchatsql-east.contoso.com');
    const id = await env.start('operator', 'pchat-pool-failover', { failedSite: 'East' });
    const over = await drive(env, id);
    expectSucceeded(over.run);
    expect((await env.sim.snapshot()).pchat?.state).toBe('FailedOver');

    await env.sim.disaster('pchatsql-east.contoso.com', true);
    const back = await env.start('operator', 'pchat-pool-failback', { fromRun: id });
    const fb = await drive(env, back, {
      approvers: ['carol', 'bob'],
      manual: async (step) => { if (step === 'pchat-recreate-log-shipping') await env.sim.reestablishLogShipping(); },
    });
    expectSucceeded(fb.run);
    expect(await env.sim.snapshot()).toEqual(before);
    expect((await env.trail.verify(id)).ok).toBe(true);
    expect((await env.trail.verify(back)).ok).toBe(true);
  }, 120_000);
});
