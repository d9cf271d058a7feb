// A legacy-site-dr that moves 40,000 users in batches (test/runs/estate.lync2010-40k.yaml) runs to
// its end inside every limit Azure sets: its input (the 40,000 users, over a megabyte) and its plan
// (80 batches of 500) are far above a queue message, a Table property and the 45 KB offload
// threshold; its custom status stays a summary. A file of its own: one process hosts one topology.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSimulatorTopology } from '../../worker/simulator/topology.js';
import { ROOT } from '../support/host.js';
import { drive, expectSucceeded } from './drive.js';
import { CUSTOM_STATUS_MAX_CHARS, limitFigures, MAX_ENTITY_BYTES } from './limits.js';
import { startRunsEnv, type RunsEnv } from './support.js';

const TOPOLOGY = 'test/runs/estate.lync2010-40k.yaml';
export const USERS = 40_000;
export const users40k = () => Array.from({ length: USERS }, (_, i) => `sip:pool1user${String(i + 1).padStart(5, '0')}@contoso.com`);

describe('a legacy-site-dr of 40,000 users fits every Azure limit', () => {
  let env: RunsEnv;
  beforeAll(async () => {
    // Simulated durations at 1/20,000: what is measured here is size, not time.
    env = await startRunsEnv({ topology: TOPOLOGY, timeFactor: 0.00005 });
    await env.sim.reset(await loadSimulatorTopology(`${ROOT}/${TOPOLOGY}`));
  }, 60_000);
  afterAll(async () => { await env?.stop(); });

  it('moves every user in 80 batches of 500, with a small custom status', async () => {
    await env.start('operator', 'legacy-nightly-export', { date: '2026-11-30' }).then((id) => drive(env, id));
    await env.sim.disaster('pool1.contoso.com');
    const id = await env.start('operator', 'legacy-site-dr', { failedPool: 'pool1.contoso.com', exportDate: '2026-11-30', users: users40k() });
    const { run } = await drive(env, id, { timeoutMs: 240_000 });
    expectSucceeded(run);
    const batches = run.status.order.filter((s: string) => /^move-users-\d+$/.test(s));
    expect(batches.length).toBe(USERS / 500);
    const snap = await env.sim.snapshot();
    expect(snap.pools['drse1.contoso.com'].usersServedBy).toBe('drse1.contoso.com');
    expect(JSON.stringify(run.summary).length).toBeLessThan(CUSTOM_STATUS_MAX_CHARS);
    const f = limitFigures(env.host);
    expect(f.customStatusChars).toBeLessThanOrEqual(CUSTOM_STATUS_MAX_CHARS);
    expect(f.entityBytes).toBeLessThanOrEqual(MAX_ENTITY_BYTES);
    expect((await env.trail.verify(id)).ok).toBe(true);
    console.log(`[limits] legacy-site-dr, ${USERS} users: ${run.status.order.length} steps; largest custom status ${f.customStatusChars} characters (${f.customStatusOf}); largest entity ${f.entityBytes} bytes (${f.entityOf})`);
  }, 300_000);
});
