// Issue 12 §2 and §6 through the real app, Azurite and the workers on the simulator. The run finds
// mgc's log tail and restores it itself; RESTORE ... WITH RECOVERY waits while a known log backup
// is unapplied, and goes on without it only on an operator's decision, audited with the files and
// times given up. (Before, a manual step confirmed without restoring anything let RECOVERY run.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, startRunsEnv, stepState, type RunsEnv } from './support.js';
import { expectSucceeded } from './drive.js';

let env: RunsEnv;
beforeAll(async () => { env = await startRunsEnv(); }, 60_000);
afterAll(async () => { await env?.stop(); });

const RESTORE = 'pchat-restore-log-backups';
const GUARD = 'pchat-check-log-tail';
const decide = (id: string, step: string, decision: 'retry' | 'skip' | 'abort', comment: string) =>
  env.call('carol', 'POST', `runs/${id}/steps/${step}/decision`, { decision, comment });

/** The primary pChat SQL server is lost and every log restore fails: the run's restore waits for a decision. */
async function toAFailedRestore() {
  await env.sim.reset();
  await env.sim.faults.clear();
  await env.sim.disaster('pchatsql-east.contoso.com');
  const sql = (await env.sim.state()).pchatSql!;
  const tail = sql.backupShare.files.filter((f) => f.seq > sql.secondary.lastRestoredSeq).sort((a, b) => a.seq - b.seq);
  expect(tail.length).toBeGreaterThan(1);
  await env.sim.faults.add({ command: 'sql.restoreLog', kind: 'fail', remaining: 100 });
  const id = await env.start('operator1', 'pchat-pool-failover', { failedSite: 'East' });
  await env.waitFor(id, stepState('declare-disaster', 'waiting-approval'));
  for (const who of ['alice', 'bob']) expect((await env.vote(who, id, 'approve')).status).toBe(200);
  const r = await env.waitFor(id, stepState(RESTORE, 'waiting-decision'), 120_000);
  expect(r.status.steps[RESTORE].lastError).toMatch(new RegExp(`restoring ${tail[0].name}: .*Injected fault`));
  return { id, tail, restoredBefore: sql.secondary.lastRestoredSeq };
}

describe('RECOVERY waits for the log tail', () => {
  it('a restore given up leaves the guard refusing RECOVERY; going on is a decision audited with the files and times lost, and the RPO shows it', async () => {
    const { id, tail, restoredBefore } = await toAFailedRestore();
    expect((await decide(id, RESTORE, 'skip', 'the restores keep failing')).status).toBe(202);
    const refused = await env.waitFor(id, stepState(GUARD, 'waiting-decision'), 90_000);
    const finding = refused.status.steps[GUARD].lastError as string;
    expect(finding).toMatch(/no known log backup is left unapplied \(Count equals 0: got \d+\)/);
    for (const f of tail) { expect(finding).toContain(f.name); expect(finding).toContain(f.createdAt); }
    // Nothing irreversible happened: mgc is still restoring, recovery has not run.
    expect(refused.status.steps['pchat-recover-mgc'].state).toBe('pending');
    expect((await env.sim.state()).pchatSql!.secondary).toMatchObject({ mgc: 'RESTORING', lastRestoredSeq: restoredBefore });

    await env.sim.faults.clear();
    expect((await decide(id, GUARD, 'skip', `accepting the loss of ${tail.length} log backups`)).status).toBe(202);
    const done = await env.waitFor(id, finished, 90_000);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps[GUARD]).toMatchObject({ state: 'skipped', decisions: [expect.objectContaining({ decision: 'skip', by: 'carol' })] });
    const trail = await env.trail.readRun(id);
    const decision = trail.find((e) => e.key === `step:${GUARD}:attempt:${done.status.steps[GUARD].attempt}:decision`);
    expect(decision).toMatchObject({ kind: 'operator-decision', actor: 'carol', data: { decision: 'skip', comment: `accepting the loss of ${tail.length} log backups` } });
    for (const f of tail) { expect((decision!.data as any).finding).toContain(f.name); expect((decision!.data as any).finding).toContain(f.createdAt); }
    // The loss is real, and measured: mgc is online as of the monitor's last restore, not the tail.
    expect((await env.sim.state()).pchatSql!.secondary).toMatchObject({ mgc: 'ONLINE', lastRestoredSeq: restoredBefore });
    expect(done.report.records['pchat.logTailRestored']).toBeUndefined();
    expect(done.report.rpo.basis).toMatch(/mgc last restored log/);
    expect((await env.trail.verify(id)).ok).toBe(true);
  }, 240_000);

  it('the cause fixed and the restore retried: the tail goes in oldest first and the guard lets RECOVERY through with nobody\'s word', async () => {
    const { id, tail } = await toAFailedRestore();
    await env.sim.faults.clear();
    expect((await decide(id, RESTORE, 'retry', 'share permissions fixed')).status).toBe(202);
    const done = await env.waitFor(id, finished, 90_000);
    expectSucceeded(done);
    expect(done.status.steps[GUARD]).toMatchObject({ state: 'succeeded', attempt: 1 });
    expect(done.status.steps[GUARD].decisions).toBeUndefined();
    expect(done.report.records['pchat.logTailRestored'].map((f: any) => f.Name)).toEqual(tail.map((f) => f.name));
    expect((await env.sim.state()).pchatSql!.secondary).toMatchObject({ mgc: 'ONLINE', lastRestoredSeq: tail.at(-1)!.seq });
    expect(done.report.rpo.basis).toContain(`mgc newest restored log backup ${tail.at(-1)!.name}`);
    expect((await env.trail.verify(id)).ok).toBe(true);
  }, 240_000);
});
