// A legacy-site-dr that moves 40,000 users in batches (test/runs/estate.lync2010-40k.yaml) runs to
// its end inside every limit Azure sets. The users are the ones its pre-flight listed: the worker
// keeps that list and each of the 81 batches names a range of it, so neither the run's input nor its
// plan carries a user (they once carried all 40,000: 1.3 MB of input, replayed by every episode);
// its custom status stays a summary. A file of its own: one process hosts one topology.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSimulatorTopology } from '../../worker/simulator/topology.js';
import { loadTopologyFile } from '../../shared/topology/index.js';
import { buildLegacySiteDr, LegacySiteDrOptions } from '../../orchestrations/runbooks/legacy-site-dr.js';
import { ROOT } from '../support/host.js';
import { drive, expectSucceeded } from './drive.js';
import { CUSTOM_STATUS_MAX_CHARS, limitFigures, MAX_ENTITY_BYTES } from './limits.js';
import { startRunsEnv, type RunsEnv } from './support.js';

const TOPOLOGY = 'test/runs/estate.lync2010-40k.yaml';
export const USERS = 40_000;
/** Get-CsUser lists the pool's test user with its users: it moves with them. */
const LISTED = USERS + 1;

describe('a legacy-site-dr of 40,000 users fits every Azure limit', () => {
  let env: RunsEnv;
  beforeAll(async () => {
    // Simulated durations at 1/20,000: what is measured here is size, not time.
    env = await startRunsEnv({ topology: TOPOLOGY, timeFactor: 0.00005 });
    await env.sim.reset(await loadSimulatorTopology(`${ROOT}/${TOPOLOGY}`));
  }, 60_000);
  afterAll(async () => { await env?.stop(); });

  it('moves every user (40,000 and the test user) in 81 batches of 500, with a small custom status', async () => {
    await env.start('operator', 'legacy-nightly-export', { date: '2026-11-30' }).then((id) => drive(env, id));
    await env.sim.disaster('pool1.contoso.com');
    const options = { failedPool: 'pool1.contoso.com', exportDate: '2026-11-30' };
    const id = await env.start('operator', 'legacy-site-dr', options);
    // 81 batches and their reads: 114 s on an idle 2-core box, 231-254 s beside a mutation run.
    // The bound is for a run that hangs, not a speed target (bench:limits measures).
    const { run } = await drive(env, id, { timeoutMs: 600_000 });
    expectSucceeded(run);
    const batches = run.status.order.filter((s: string) => /^move-users-\d+$/.test(s));
    expect(batches.length).toBe(Math.ceil(LISTED / 500));
    const snap = await env.sim.snapshot();
    expect(snap.pools['drse1.contoso.com'].usersServedBy).toBe('drse1.contoso.com');
    // Every user the pre-flight listed now lives on the DR pool, and the plan names none of them.
    expect(Object.values(snap.movedUsers).filter((p) => p === 'drse1.contoso.com')).toHaveLength(LISTED);
    expect(run.report.records?.['legacy.usersToMove']).toMatchObject({ truncated: true, count: LISTED });
    expect(run.status.steps['check-users-moved'].state).toBe('succeeded');
    const topology = await loadTopologyFile(`${ROOT}/${TOPOLOGY}`);
    if (!topology.ok) throw new Error('the 40k topology is invalid');
    const planBytes = JSON.stringify(buildLegacySiteDr(topology.topology, LegacySiteDrOptions.parse(options))).length;
    expect(planBytes).toBeLessThan(100_000);
    expect(JSON.stringify(run.summary).length).toBeLessThan(CUSTOM_STATUS_MAX_CHARS);
    const f = limitFigures(env.host);
    expect(f.customStatusChars).toBeLessThanOrEqual(CUSTOM_STATUS_MAX_CHARS);
    expect(f.entityBytes).toBeLessThanOrEqual(MAX_ENTITY_BYTES);
    expect((await env.trail.verify(id)).ok).toBe(true);
    console.log(`[limits] legacy-site-dr, ${USERS} users: ${run.status.order.length} steps; largest custom status ${f.customStatusChars} characters (${f.customStatusOf}); largest entity ${f.entityBytes} bytes (${f.entityOf}); options ${JSON.stringify(options).length} characters, plan ${planBytes}`);
  }, 660_000);
});
