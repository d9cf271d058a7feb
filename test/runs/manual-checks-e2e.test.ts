// Issue 12 §6 at run time: a manual step is checked when it is confirmed. Through the real app,
// Azurite and the workers on the simulator: pchat-pool-failback's "re-create log shipping" is
// confirmed without doing it (the check reads sp_help_log_shipping_secondary_database on the
// secondary), which sends the step back to waiting with the check's finding; done and confirmed
// again, it goes on. An operator may confirm past a failing check only with an override, which
// the trail keeps as an operator-decision naming the finding it accepted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drive, expectSucceeded } from './drive.js';
import { finished, startRunsEnv, stepState, type RunsEnv } from './support.js';

const STEP = 'pchat-recreate-log-shipping';
let env: RunsEnv;
beforeAll(async () => { env = await startRunsEnv({ topology: 'test/runs/estate.no-pchat-mirror.yaml' }); }, 60_000);
afterAll(async () => { await env?.stop(); });

/** The pChat SQL primary was lost and failed over; it is back, and a failback waits at the manual step. */
async function failbackAtManualStep(): Promise<string> {
  await env.sim.reset();
  await env.sim.disaster('pchatsql-east.contoso.com');
  expectSucceeded((await drive(env, await env.start('operator', 'pchat-pool-failover', { failedSite: 'East' }))).run);
  await env.sim.disaster('pchatsql-east.contoso.com', true);
  const id = await env.start('operator', 'pchat-pool-failback', {});
  await env.waitFor(id, stepState('approve-failback', 'waiting-approval'), 60_000);
  for (const who of ['carol', 'bob']) expect((await env.vote(who, id, 'approve')).body?.outcome).toBe('accepted');
  await env.waitFor(id, stepState(STEP, 'waiting-confirmation'), 120_000);
  expect((await env.sim.snapshot()).pchatSql?.logShippingConfigured).toBe(false);
  return id;
}

const confirm = (id: string, body: Record<string, unknown>) => env.call('carol', 'POST', `runs/${id}/steps/${STEP}/confirm`, body);
const refusedAgain = (n: number) => (r: any) => stepState(STEP, 'waiting-confirmation')(r) && (r.status.steps[STEP].decisions ?? []).length === n && /refused: the check failed/.test(r.status.steps[STEP].lastError ?? '');

describe('a manual step is checked when it is confirmed', () => {
  it('confirmed without doing it: back to waiting with the finding and the run does not end; done and confirmed again, it succeeds', async () => {
    const id = await failbackAtManualStep();
    expect((await confirm(id, { comment: 'done (it was not)' })).status).toBe(202);
    const refused = await env.waitFor(id, refusedAgain(1), 60_000);
    expect(refused.status.steps[STEP].lastError).toMatch(/^confirmation by carol refused: the check failed: .*sp_help_log_shipping_secondary_database lists mgc/);
    expect(refused.status.steps[STEP].decisions).toEqual([expect.objectContaining({ decision: 'confirm', by: 'carol' })]);
    expect(finished(refused)).toBe(false);
    const trail = await env.trail.readRun(id);
    expect(trail.find((e) => e.key === `step:${STEP}:confirmation:1:confirmed`)).toMatchObject({ kind: 'manual-confirmed', actor: 'carol', data: { comment: 'done (it was not)' } });
    expect(trail.find((e) => e.key === `step:${STEP}:confirmation:1:verified`)).toMatchObject({ kind: 'postcondition-checked', actor: 'lyncdr', data: { ok: false, error: expect.stringMatching(/lists mgc/) } });

    // The DBA re-creates log shipping; the second confirmation's check holds.
    await env.sim.reestablishLogShipping();
    expect((await confirm(id, { comment: 'log shipping re-created with the wizard' })).status).toBe(202);
    const done = await env.waitFor(id, finished, 60_000);
    expectSucceeded(done);
    expect(done.status.steps[STEP]).toMatchObject({ state: 'succeeded', decisions: [{ decision: 'confirm' }, { decision: 'confirm' }] });
    expect(done.status.steps[STEP].lastError).toBeUndefined();
    const after = await env.trail.readRun(id);
    expect(after.find((e) => e.key === `step:${STEP}:confirmation:2:verified`)).toMatchObject({ data: { ok: true } });
    expect(after.some((e) => e.kind === 'operator-decision')).toBe(false);
    expect((await env.trail.verify(id)).ok).toBe(true);
  }, 240_000);

  it('an override confirms past the failing check: audited as an operator decision with the finding, and said in the step', async () => {
    const id = await failbackAtManualStep();
    const reason = 'log shipping will be set up by the DBA team tomorrow (change 4711)';
    expect((await confirm(id, { comment: 'not yet', override: { reason } })).status).toBe(202);
    const done = await env.waitFor(id, finished, 60_000);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps[STEP]).toMatchObject({ state: 'succeeded', decisions: [{ decision: 'override', by: 'carol' }] });
    expect(done.status.steps[STEP].lastError).toMatch(/^check overridden by carol \(log shipping will be set up/);
    const decision = (await env.trail.readRun(id)).find((e) => e.key === `step:${STEP}:confirmation:1:override`);
    expect(decision).toMatchObject({ kind: 'operator-decision', actor: 'carol', data: { decision: 'override', reason, finding: expect.stringMatching(/lists mgc/) } });
    expect((await env.sim.snapshot()).pchatSql?.logShippingConfigured).toBe(false);
  }, 240_000);
});
