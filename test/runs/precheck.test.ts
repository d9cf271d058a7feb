// Issue 12 §5 "preconditions checked before a step runs, from reads, not prose", through the real
// app, Azurite and the workers on the simulator. A step's precheck reads the state its command
// needs on the step's site before the command is sent (executor 15). While the read does not hold,
// the command is not sent and the step waits for an operator's decision with the finding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, startRunsEnv, stepState, type RunsEnv } from './support.js';
import { expectSucceeded } from './drive.js';

let env: RunsEnv;
beforeAll(async () => { env = await startRunsEnv(); }, 60_000);
afterAll(async () => { await env?.stop(); });

const STEP = 'cms-failover';
const byHand = { commandId: 'by-hand-cms-failover', timeoutMs: 10_000, whatIf: false };
const cmsFailoversOf = async (id: string) => (await env.sim.state()).executions.filter((e) => e.name === 'cms.failover' && e.commandId.startsWith(id));

async function declared(): Promise<string> {
  await env.sim.reset();
  await env.sim.disaster('eepool1.contoso.com');
  const id = await env.start('operator1', 'cms-failover', { targetPool: 'eepool2.contoso.com' });
  await env.waitFor(id, stepState('declare-disaster', 'waiting-approval'));
  return id;
}

describe('a precheck reads the estate before the command is sent', () => {
  it("the CMS moved by hand while the gate waited: the disaster set is not sent; the step waits with the read's finding, and a skip goes on", async () => {
    const id = await declared();
    // Someone fails the CMS over by hand while the approvers read the plan.
    expect((await env.sim.execute({ name: 'cms.failover', params: { backupSqlServerFqdn: 'eepool2-sql.contoso.com', backupSqlInstanceName: 'RTC' } }, byHand)).status).toBe('succeeded');
    for (const who of ['alice', 'bob']) expect((await env.vote(who, id, 'approve')).status).toBe(200);
    // The step's error reaches the status with its row, which may come a moment after the state.
    const waiting = await env.waitFor(id, (x: any) => stepState(STEP, 'waiting-decision')(x) && x.status.steps[STEP].lastError !== undefined, 90_000);
    expect(waiting.status.steps[STEP].lastError).toBe(
      'precondition not met, the command was not sent: CMS on eepool1.contoso.com (PoolFqdn equals "eepool1.contoso.com": got "eepool2.contoso.com")');
    // Read on the step's site, and nothing else of the step ran.
    expect(await cmsFailoversOf(id)).toEqual([]);
    const trail = await env.trail.readRun(id);
    const checked = trail.find((e) => e.key === `step:${STEP}:attempt:1:prechecked`);
    expect(checked).toMatchObject({ kind: 'precondition-checked', actor: 'lyncdr', data: { ok: false, description: 'the CMS is still on eepool1.contoso.com' } });
    expect(trail.some((e) => e.key === `step:${STEP}:attempt:1:dispatched`)).toBe(false);
    expect(trail.some((e) => e.key === `step:${STEP}.precheck:attempt:1:dispatched`)).toBe(true);

    // A retry reads again (still moved), and waits again; a skip goes on to the read-back.
    expect((await env.call('carol', 'POST', `runs/${id}/steps/${STEP}/decision`, { decision: 'retry', comment: 'read it again' })).status).toBe(202);
    await env.waitFor(id, (r: any) => r.status?.steps[STEP]?.state === 'waiting-decision' && r.status.steps[STEP].attempt === 2 && r.status.steps[STEP].lastError !== undefined, 90_000);
    expect(await cmsFailoversOf(id)).toEqual([]);
    expect((await env.call('carol', 'POST', `runs/${id}/steps/${STEP}/decision`, { decision: 'skip', comment: 'moved by hand at 03:10' })).status).toBe(202);
    const done = await env.waitFor(id, finished, 90_000);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps['verify-cms-status'].state).toBe('succeeded');
    expect(await cmsFailoversOf(id)).toEqual([]);
    expect((await env.trail.verify(id)).ok).toBe(true);
  }, 240_000);

  it('when it holds, the read is recorded before the command is sent, and the command runs once', async () => {
    const id = await declared();
    for (const who of ['alice', 'bob']) expect((await env.vote(who, id, 'approve')).status).toBe(200);
    const done = await env.waitFor(id, finished, 90_000);
    expectSucceeded(done);
    expect(await cmsFailoversOf(id)).toHaveLength(1);
    const keys = (await env.trail.readRun(id)).map((e) => e.key);
    const checked = keys.indexOf(`step:${STEP}:attempt:1:prechecked`);
    expect(checked).toBeGreaterThan(-1);
    expect(keys.indexOf(`step:${STEP}:attempt:1:dispatched`)).toBeGreaterThan(checked);
  }, 240_000);
});
