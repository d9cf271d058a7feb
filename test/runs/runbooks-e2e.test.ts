// The Lync 2013 runbooks as drills on the local stack: the real app on the local host with queue
// triggers, in-process workers executing on the simulated estate over Azurite. Each run is
// approved (2 of alice / bob / carol, requested by someone else), its manual steps are done and
// confirmed, it must succeed step by step, and its effect must show in the simulated estate.
// pchat-pool-failover / pchat-pool-failback: round-trips.test.ts; readiness, cms-failover,
// pchat-backup, fe-pool-failback and the site round trip: more-runbooks.test.ts; the Lync 2010
// runbooks: legacy-e2e.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drive, expectSucceeded, SRV, without } from './drive.js';
import { startRunsEnv, type RunsEnv } from './support.js';

const EAST_PCHAT = ['pchatserver1.contoso.com', 'pchatserver2.contoso.com', 'pchatserver3.contoso.com', 'pchatserver4.contoso.com'];
const WEST_PCHAT = ['pchatserver5.contoso.com', 'pchatserver6.contoso.com', 'pchatserver7.contoso.com', 'pchatserver8.contoso.com'];
const SHARE = '\\\\fs-east.contoso.com\\pchat-logship';

describe('the Lync 2013 runbooks, as drills', () => {
  let env: RunsEnv;
  beforeAll(async () => { env = await startRunsEnv(); }, 60_000);
  afterAll(async () => { await env?.stop(); });

  it('fe-pool-failover (eepool1 down): its users are served by eepool2; the CMS, Edge next hop and simple URLs move West', async () => {
    await env.sim.reset();
    const before = await env.sim.snapshot();
    await env.sim.disaster('eepool1.contoso.com');
    const id = await env.start('operator', 'fe-pool-failover', { pool: 'eepool1.contoso.com' });
    const { run, approved } = await drive(env, id);
    expectSucceeded(run);
    expect(approved).toEqual(['declare-disaster']);
    expect(run.status.steps['declare-disaster'].approvers).toEqual(['alice', 'bob']);
    const after = await env.sim.snapshot();
    expect(after.pools['eepool1.contoso.com']).toEqual({ up: false, failedOver: true, usersServedBy: 'eepool2.contoso.com', userCount: 20000 });
    expect(after.pools['eepool2.contoso.com']).toEqual(before.pools['eepool2.contoso.com']);
    expect(after.cms).toEqual({ pool: 'eepool2.contoso.com', sqlServer: 'eepool2-sql.contoso.com', sqlInstance: 'RTC' });
    expect(after.edgeNextHops).toEqual({ 'edgepool1.contoso.com': 'eepool2.contoso.com', 'edgepool2.contoso.com': 'eepool2.contoso.com' });
    for (const [name, west] of [['meet', '10.2.0.10'], ['dialin', '10.2.0.10'], ['admin', '10.2.0.11']]) {
      expect(after.dns[`${name}.contoso.com`].records).toEqual([west]);
    }
    // Only what a pool failover touches changed.
    expect(without(after, 'pools', 'cms', 'edgeNextHops', 'dns')).toEqual(without(before, 'pools', 'cms', 'edgeNextHops', 'dns'));
    expect({ ...after.dns, 'meet.contoso.com': null, 'dialin.contoso.com': null, 'admin.contoso.com': null })
      .toEqual({ ...before.dns, 'meet.contoso.com': null, 'dialin.contoso.com': null, 'admin.contoso.com': null });
    expect(run.report.rpo.minutes).not.toBeNull();
    expect((await env.trail.verify(id)).ok).toBe(true);

  }, 60_000);

  it('site-failover (East lost): the FE and pChat branches move everything East to West', async () => {
    await env.sim.reset();
    const before = await env.sim.snapshot();
    await env.sim.disaster('east');
    const id = await env.start('operator', 'site-failover', { failedSite: 'East' });
    const { run, approved, confirmed } = await drive(env, id, {
    });
    expectSucceeded(run);
    expect(approved).toEqual(['declare-disaster']);
    // The SRV record's old target is removed by hand; the log tail is the run's own work now.
    expect(confirmed.sort()).toEqual(['dns-sipinternaltls-remove']);
    const over = await env.sim.snapshot();
    expect(over).toMatchObject({
      sites: { east: { up: false }, west: { up: true } },
      pools: { 'eepool1.contoso.com': { failedOver: true, usersServedBy: 'eepool2.contoso.com' } },
      cms: { pool: 'eepool2.contoso.com', sqlServer: 'eepool2-sql.contoso.com' },
      edgeNextHops: { 'edgepool1.contoso.com': 'eepool2.contoso.com', 'edgepool2.contoso.com': 'eepool2.contoso.com' },
      pchat: { state: 'FailedOver', activeServers: WEST_PCHAT },
      pchatSql: { secondary: { mgc: 'ONLINE', mirrored: false }, logShippingConfigured: false },
    });
    for (const [name, west] of [['sip', '10.2.0.20'], ['meet', '10.2.0.10'], ['dialin', '10.2.0.10'], ['admin', '10.2.0.11'], ['lyncdiscover', 'rp-west.contoso.com']]) {
      expect(over.dns[`${name}.contoso.com`].records).toEqual([west]);
    }
    expect(over.dns[SRV].records).toEqual([expect.stringMatching(/ eepool2\.contoso\.com$/)]);
    expect(over.movedUsers).toEqual(before.movedUsers);
    expect(before.pchat?.activeServers).toEqual(EAST_PCHAT);
    expect(run.report.rpo.minutes).not.toBeNull();
    expect((await env.trail.verify(id)).ok).toBe(true);
  }, 90_000);

  it('pchat-restore: after approval the current data is kept beside the file, then the export is imported', async () => {
    await env.sim.reset();
    // Seed: last night's export (the nightly Export-CsPersistentChatData), run directly on the estate.
    const file = `${SHARE}\\pchat-2026-11-20.zip`;
    const seeded = await env.sim.execute({ name: 'pchat.exportData', params: { sqlServerFqdn: 'pchatsql-east.contoso.com', sqlInstanceName: 'PCHAT', fileName: file } }, { commandId: 'seed-export', timeoutMs: 10_000, whatIf: false });
    expect(seeded.status).toBe('succeeded');
    const before = await env.sim.snapshot();

    const id = await env.start('operator', 'pchat-restore', { file });
    const { run, approved } = await drive(env, id, { approvers: ['carol', 'alice'] });
    expectSucceeded(run);
    expect(approved).toEqual(['approve-restore']);
    expect(run.status.steps['approve-restore'].approvers).toEqual(['carol', 'alice']);
    const state = await env.sim.state();
    const ran = state.executions.filter((e) => e.commandId.startsWith(id)).map((e) => [e.name, e.outcome]);
    expect(ran).toEqual([['pchat.getState', 'succeeded'], ['pchat.exportData', 'succeeded'], ['pchat.importData', 'succeeded']]);
    expect(Object.values(state.exports).map((e) => e.path).sort()).toEqual([`${SHARE}\\before-restore-pchat-2026-11-20.zip`, file].sort());
    // An import overwrites chat content, not the topology: the estate's facts are as they were.
    expect(await env.sim.snapshot()).toEqual(before);
    expect((await env.trail.verify(id)).ok).toBe(true);
  }, 60_000);
});
