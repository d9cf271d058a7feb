// Overlapping starts over the real app: the API reserves a run's locks when it accepts the run, so
// of simultaneous starts that need the same lock one is accepted and the rest get 409 naming the
// holder; a reservation whose run never came to exist is released after
// LYNCDR_LOCK_RESERVATION_SECONDS; readiness takes a shared lock that does not exclude another
// readiness run or a failover.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunLocks } from '../../shared/runs/locks.js';
import { azurite } from '../support/azurite.js';
import { finished, startRunsEnv, stepState, type RunsEnv } from './support.js';

const RESERVATION_SECONDS = 60;
let env: RunsEnv;
let locks: RunLocks;
beforeAll(async () => {
  env = await startRunsEnv({ settings: { LYNCDR_LOCK_RESERVATION_SECONDS: String(RESERVATION_SECONDS) } });
  locks = new RunLocks(azurite(), env.values.LYNCDR_LOCK_TABLE);
}, 60_000);
afterAll(async () => { await env?.stop(); });

const cancel = async (id: string) => {
  expect((await env.call('operator', 'POST', `runs/${id}/cancel`, { reason: 'test over' })).status).toBe(202);
  await env.waitFor(id, finished);
};

describe('concurrent starts', () => {
  it('20 simultaneous starts on one lock: exactly one 202, 19 × 409 naming the holder', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () =>
      env.call('operator', 'POST', 'runs', { runbook: 'readiness', options: { fixture: 'manual', lock: 'test:race' } })));
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 409);
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(19);
    const winner = accepted[0].body.runId as string;
    for (const r of refused) {
      expect(r.body).toMatchObject({ lock: 'test:race', heldBy: winner, error: expect.stringMatching(new RegExp(`^lock test:race is (held|reserved) by run ${winner}`)) });
    }
    // The accepted run takes its reservation as its own lock, and runs.
    await env.waitFor(winner, stepState('recreate-log-shipping', 'waiting-confirmation'));
    expect(await locks.holders(['test:race'])).toEqual([{ lock: 'test:race', runId: winner, since: expect.any(String) }]);
    await cancel(winner);
    expect(await locks.holders(['test:race'])).toEqual([]);
  }, 90_000);

  it('a reservation whose run never started is released once older than LYNCDR_LOCK_RESERVATION_SECONDS, not before', async () => {
    const old = new Date(Date.now() - 2 * RESERVATION_SECONDS * 1000).toISOString();
    expect(await locks.acquire('run-never-started-old', ['test:ghost-old'], old, { reserved: true })).toEqual({ ok: true });
    expect(await locks.acquire('run-never-started-new', ['test:ghost-new'], new Date().toISOString(), { reserved: true })).toEqual({ ok: true });

    const fresh = await env.call('operator', 'POST', 'runs', { runbook: 'readiness', options: { fixture: 'manual', lock: 'test:ghost-new' } });
    expect(fresh).toMatchObject({ status: 409, body: { heldBy: 'run-never-started-new', error: expect.stringMatching(/^lock test:ghost-new is reserved by run run-never-started-new since .*, which is starting/) } });

    const id = await env.start('operator', 'readiness', { fixture: 'manual', lock: 'test:ghost-old' });
    await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    expect(await locks.holders(['test:ghost-old'])).toEqual([{ lock: 'test:ghost-old', runId: id, since: expect.any(String) }]);
    await cancel(id);
  }, 90_000);

  it('readiness holds a shared lock: a second readiness run and a failover start and run beside it', async () => {
    // A readiness-shaped run that holds the shared readiness lock while it waits for a person.
    const holding = await env.start('operator', 'readiness', { fixture: 'manual', lock: 'readiness' });
    await env.waitFor(holding, stepState('recreate-log-shipping', 'waiting-confirmation'));
    const second = await env.start('operator', 'readiness');
    const done = await env.waitFor(second, finished, 60_000);
    expect(done.status.phase).toBe('succeeded');
    const failover = await env.start('operator', 'fe-pool-failover', { pool: 'eepool1.contoso.com' });
    await env.waitFor(failover, (r) => r?.status?.phase === 'running');
    expect((await locks.holders(['readiness'])).map((h) => h.runId)).toEqual([holding]);
    await cancel(failover);
    await cancel(holding);
  }, 120_000);
});
