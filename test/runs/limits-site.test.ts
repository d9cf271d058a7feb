// A site failover on an estate of twenty pools (examples/estate.twenty-pools.yaml: ten per site,
// each East pool paired with a West one) runs to its end inside every limit Azure sets: its
// custom status (16 KB of UTF-16, enforced by the local host as by the extension), Table entities
// (1 MiB, 32K characters a property: enforced in code), orchestration input and output and
// history (offloaded to blobs above 45 KB). A file of its own: one process hosts one topology.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSimulatorTopology } from '../../worker/simulator/topology.js';
import { ROOT } from '../support/host.js';
import { drive, expectSucceeded } from './drive.js';
import { CUSTOM_STATUS_MAX_CHARS, limitFigures, MAX_ENTITY_BYTES } from './limits.js';
import { startRunsEnv, type RunsEnv } from './support.js';

const TOPOLOGY = 'examples/estate.twenty-pools.yaml';

describe('a site failover of twenty pools fits every Azure limit', () => {
  let env: RunsEnv;
  beforeAll(async () => {
    env = await startRunsEnv({ topology: TOPOLOGY });
    await env.sim.reset(await loadSimulatorTopology(`${ROOT}/${TOPOLOGY}`));
  }, 60_000);
  afterAll(async () => { await env?.stop(); });

  it('fails ten pools over, with a small custom status and every step in the run-steps table', async () => {
    await env.sim.disaster('east');
    const id = await env.start('operator', 'site-failover', { failedSite: 'East' });
    const { run } = await drive(env, id, { timeoutMs: 300_000 });
    expectSucceeded(run);
    const failedOver = run.status.order.filter((s: string) => /^pool-failover-/.test(s));
    expect(failedOver.length, run.status.order.join(', ')).toBe(10);
    // The API's view is whole although the customStatus holds only the summary.
    expect(JSON.stringify(run.summary).length).toBeLessThan(CUSTOM_STATUS_MAX_CHARS);
    expect(run.summary.total).toBe(run.status.order.length);
    expect(JSON.stringify(run.status).length).toBeGreaterThan(CUSTOM_STATUS_MAX_CHARS);
    const rows = await stepRows(env, id);
    expect(rows.map((r) => r.stepId)).toEqual(run.status.order);
    expect(rows.every((r) => r.state === 'succeeded')).toBe(true);
    const f = limitFigures(env.host);
    expect(f.customStatusChars).toBeGreaterThan(0);
    expect(f.customStatusChars).toBeLessThanOrEqual(CUSTOM_STATUS_MAX_CHARS);
    expect(f.entityBytes).toBeLessThanOrEqual(MAX_ENTITY_BYTES);
    expect((await env.trail.verify(id)).ok).toBe(true);
    console.log(`[limits] site-failover, 20 pools: ${run.status.order.length} steps; largest custom status ${f.customStatusChars} characters (${f.customStatusOf}); largest entity ${f.entityBytes} bytes (${f.entityOf})`);
  }, 360_000);
});

async function stepRows(env: RunsEnv, id: string) {
  const { RunStepsTable } = await import('../../shared/runs/step-rows.js');
  return new RunStepsTable(env.values.AzureWebJobsStorage ?? process.env.AzureWebJobsStorage!, env.values.LYNCDR_RUN_STEPS_TABLE ?? 'LyncdrRunSteps').read(id);
}
