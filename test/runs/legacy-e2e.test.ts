// The Lync 2010 runbooks (seed 002) as drills on the local stack, against
// examples/estate.lync2010.yaml: the host plans from it and the simulator starts from it, with a
// worker for each of its sites (Primary, DR). A file of its own: the local host keeps the first
// value of each app setting in process.env, so one process cannot host two topologies.
// legacy-site-dr is not here: its read-users-to-move step (Get-CsUser for pool1's 5,000 users)
// returns a result far larger than a storage queue message (64 KB), so the worker cannot send it
// and the run never gets past its pre-flight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSimulatorTopology } from '../../worker/simulator/topology.js';
import { ROOT } from '../support/host.js';
import { drive, expectSucceeded } from './drive.js';
import { startRunsEnv, type RunsEnv } from './support.js';

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
      ['\\\\fs-dr.contoso.com\\rgs\\pool1-rgs-2026-11-20.zip', 'rgs'],
    ]);
    expect(await env.sim.snapshot()).toEqual(before);
  }, 60_000);
});
