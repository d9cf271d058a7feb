// Issue 12 §6 through the real app, Azurite and the workers on the simulator: confirming
// pchat-apply-log-backups without restoring anything used to let RESTORE ... WITH RECOVERY run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, startRunsEnv, stepState, type RunsEnv } from './support.js';
import { applyLogBackupsByHand, expectSucceeded } from './drive.js';

let env: RunsEnv;
beforeAll(async () => { env = await startRunsEnv(); }, 60_000);
afterAll(async () => { await env?.stop(); });

const STEP = 'pchat-apply-log-backups';
const confirm = (id: string, body: Record<string, unknown>) => env.call('carol', 'POST', `runs/${id}/steps/${STEP}/confirm`, body);
const refusedAgain = (r: any) => r?.status?.steps?.[STEP]?.state === 'waiting-confirmation' && /refused: the check failed/.test(r.status.steps[STEP].lastError ?? '');

async function toTheManualStep(): Promise<string> {
  await env.sim.reset();
  const id = await env.start('operator1', 'pchat-pool-failover', {});
  await env.waitFor(id, stepState('declare-disaster', 'waiting-approval'));
  for (const who of ['alice', 'bob']) expect((await env.vote(who, id, 'approve')).status).toBe(200);
  await env.waitFor(id, stepState(STEP, 'waiting-confirmation'), 60_000);
  return id;
}

describe('a manual step is checked when it is confirmed', () => {
  it('confirming pchat-apply-log-backups without restoring: the run waits again with the finding, mgc stays restoring; done by hand and confirmed, it goes on', async () => {
    const id = await toTheManualStep();
    const before = (await env.sim.state()).pchatSql!;
    expect((await confirm(id, { comment: 'done' })).status).toBe(202);
    const waiting = await env.waitFor(id, refusedAgain, 30_000);
    expect(waiting.status.steps[STEP].lastError).toMatch(/the last restored backup is the newest file in pchat\.logBackupsOnShare/);
    expect(waiting.status.steps['pchat-recover-mgc'].state).toBe('pending');
    const sql = (await env.sim.state()).pchatSql!;
    expect(sql.secondary.mgc).toBe('RESTORING');
    expect(sql.secondary.lastRestoredSeq).toBe(before.secondary.lastRestoredSeq);
    const trail = await env.trail.readRun(id);
    expect(trail.find((e) => e.key === `step:${STEP}:confirmation:1:verified`)).toMatchObject({ kind: 'postcondition-checked', data: { ok: false } });

    await applyLogBackupsByHand(env.sim);
    expect((await confirm(id, { comment: 'logs applied' })).status).toBe(202);
    const done = await env.waitFor(id, finished, 60_000);
    expectSucceeded(done);
    expect(done.status.steps[STEP].decisions.map((d: any) => d.decision)).toEqual(['confirm', 'confirm']);
    const after = await env.trail.readRun(id);
    expect(after.find((e) => e.key === `step:${STEP}:confirmation:2:verified`)).toMatchObject({ kind: 'postcondition-checked', data: { ok: true } });
    expect((await env.trail.verify(id)).ok).toBe(true);
  }, 150_000);

  it('an operator may go on past a failed check only with an explicit override, audited with who and why', async () => {
    const id = await toTheManualStep();
    expect((await confirm(id, { override: { reason: '' } })).status).toBe(400);
    expect((await confirm(id, { comment: 'skip it', override: { reason: 'share lost; accepting the loss of the last logs' } })).status).toBe(202);
    const done = await env.waitFor(id, finished, 60_000);
    expect(done.status.steps[STEP].state).toBe('succeeded');
    expect(done.status.steps[STEP].decisions).toEqual([expect.objectContaining({ decision: 'override', by: 'carol' })]);
    expect(done.status.steps[STEP].lastError).toMatch(/check overridden by carol \(share lost/);
    const entry = (await env.trail.readRun(id)).find((e) => e.key === `step:${STEP}:confirmation:1:override`);
    expect(entry).toMatchObject({ kind: 'operator-decision', actor: 'carol', data: { decision: 'override', reason: 'share lost; accepting the loss of the last logs' } });
    expect((entry!.data as any).finding).toMatch(/newest file/);
  }, 150_000);
});
