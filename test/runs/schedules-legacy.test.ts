// A nightly schedule on a Lync 2010 estate: legacy-nightly-export fires from LYNCDR_SCHEDULES on
// the local host, gets the occurrence's date, and writes that night's dated exports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/azurite.js';
import { ROOT } from '../support/host.js';
import { loadSimulatorTopology } from '../../worker/simulator/topology.js';
import { finished, startRunsEnv, type RunsEnv } from './support.js';

const TOPOLOGY = 'examples/estate.lync2010.yaml';
let env: RunsEnv;
let occurrence: Date;
const cronAt = (t: Date) => `${t.getUTCSeconds()} ${t.getUTCMinutes()} ${t.getUTCHours()} ${t.getUTCDate()} ${t.getUTCMonth() + 1} *`;

beforeAll(async () => {
  occurrence = new Date(Math.ceil((Date.now() + 8000) / 1000) * 1000);
  // Existing variables win over a host's values: the schedule is this process's setting.
  process.env.LYNCDR_SCHEDULES = JSON.stringify([{ name: 'legacy-nightly', runbook: 'legacy-nightly-export', cron: cronAt(occurrence) }]);
  env = await startRunsEnv({ topology: TOPOLOGY, settings: { LYNCDR_SCHEDULE_TICK: '* * * * * *', LYNCDR_SCHEDULE_GRACE_SECONDS: '60', LYNCDR_SCHEDULES_TABLE: uniqueName('Sched') } });
  await env.sim.reset(await loadSimulatorTopology(`${ROOT}/${TOPOLOGY}`));
}, 60_000);
afterAll(async () => {
  await env?.stop();
  delete process.env.LYNCDR_SCHEDULES;
});

describe('schedules on a Lync 2010 estate', () => {
  it('legacy-nightly-export runs at its occurrence with that night\'s date, requested by schedule:legacy-nightly', async () => {
    const compact = occurrence.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase();
    const runId = `run-${compact}-s-legacy-nightly`;
    const deadline = Date.now() + 90_000;
    let listed: any;
    while (Date.now() < deadline) {
      listed = (await env.call('operator', 'GET', 'schedules')).body.schedules[0];
      if (listed?.lastRun?.runId === runId) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(listed.lastRun?.runId).toBe(runId);
    const run = await env.waitFor(runId, finished, 90_000);
    const night = occurrence.toISOString().slice(0, 10);
    expect(run.status).toMatchObject({ runbook: 'legacy-nightly-export', requestedBy: 'schedule:legacy-nightly', phase: 'succeeded' });
    const exports = Object.values((await env.sim.state()).exports).map((e) => e.path).sort();
    expect(exports).toEqual([`\\\\fs-dr.contoso.com\\contacts\\pool1-contacts-${night}.xml`, `\\\\fs-dr.contoso.com\\rgs\\pool1-rgsconfig-${night}.bak`]);
  }, 150_000);
});
