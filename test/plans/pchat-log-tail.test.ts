// Issue 12 §2: the Persistent Chat log tail in a site loss. The backup share may be in the lost
// site (backupShareSite): no file step, and no Install-CsMirrorDatabase -FileShare, may use it.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import { parseTopology, type Topology } from '../../shared/topology/index.js';
import { estate, step } from './helpers.js';
import { newSimulator, simulatePlan } from './simulate.js';
import type { Plan } from '../../shared/plan/index.js';
import { checkExpectations } from '../../shared/runs/expect.js';

const EAST_SHARE = '\\\\fs-east.contoso.com\\pchat-logship';
const WEST_SHARE = '\\\\fs-west.contoso.com\\pchat-mirror';

/** The sample estate with its log-shipping share on a file server in East, and a share in West. */
function shareInEast(): Topology {
  const t = estate('estate.sample.yaml');
  const r = parseTopology({ ...t, persistentChat: { ...t.persistentChat!, sql: { ...t.persistentChat!.sql, backupShareSite: 'East', secondaryShare: WEST_SHARE } } });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.topology;
}

const withParams = (plan: Plan, stepId: string, params: Record<string, unknown>): Plan => ({
  ...plan,
  steps: plan.steps.map((s) => (s.id === stepId && s.kind === 'command' ? { ...s, command: { ...s.command, params: { ...s.command.params, ...params } } } : s)),
});

describe('site-failover of East with the log-shipping share in East: no dead shares', () => {
  const t = shareInEast();
  const plan = buildPlan('site-failover', t, { failedSite: 'East', installMirror: true });

  it('the mirror is installed with the share in West; the log tail is looked for in the copy folder alone', () => {
    const mirror = step(plan, 'pchat-install-mirror');
    expect(mirror.kind === 'command' && mirror.command.params.fileShare).toBe(WEST_SHARE);
    for (const id of ['pchat-list-unapplied-logs', 'pchat-check-log-tail']) {
      const list = step(plan, id);
      expect(list.kind === 'command' && list.command.params).toMatchObject({ copyFolder: t.persistentChat!.sql.copyFolder });
      expect(list.kind === 'command' && list.command.params.backupShare).toBeUndefined();
    }
    expect(JSON.stringify(plan.steps.filter((s) => s.kind === 'command').map((s) => s.command.params))).not.toContain('fs-east');
  });

  it('the fixed plan runs in the simulator; the old one (mirror on the East share) is refused', async () => {
    const sim = newSimulator(t);
    await sim.disaster('east');
    const ok = await simulatePlan(sim, plan);
    expect(ok.failed).toBeUndefined();
    // What was copied before the loss is restored; what was only on the East share is not reachable.
    const sql = (await sim.state()).pchatSql!;
    expect(sql.secondary.lastRestoredSeq).toBe(Math.max(...sql.copyFolder.files.map((f) => f.seq)));
    expect((await sim.state()).pchatSql!.secondary.mirror).toBe(true);

    const old = withParams(withParams(plan, 'pchat-install-mirror', { fileShare: EAST_SHARE }), 'pchat-list-unapplied-logs', { backupShare: EAST_SHARE });
    const sim2 = newSimulator(t);
    await sim2.disaster('east');
    const bad = await simulatePlan(sim2, old, async () => undefined);
    expect(bad.failed?.stepId).toBe('pchat-list-unapplied-logs');
    expect(bad.failed?.stderr).toMatch(/network path .*fs-east.* was not found/);

    const oldMirrorOnly = withParams(plan, 'pchat-install-mirror', { fileShare: EAST_SHARE });
    const sim3 = newSimulator(t);
    await sim3.disaster('east');
    const bad3 = await simulatePlan(sim3, oldMirrorOnly);
    expect(bad3.failed?.stepId).toBe('pchat-install-mirror');
    expect(bad3.failed?.stderr).toMatch(/network path .*fs-east.* was not found/);
  });

  it('without a share in West, installMirror is refused at planning', () => {
    const t2 = shareInEast();
    delete (t2.persistentChat!.sql as { secondaryShare?: string }).secondaryShare;
    expect(() => buildPlan('site-failover', t2, { failedSite: 'East', installMirror: true })).toThrow(/secondaryShare/);
  });
});

describe('the guard before RECOVERY reads what is left unapplied', () => {
  const t = estate('estate.sample.yaml');
  const plan = buildPlan('pchat-pool-failover', t, { failedSite: 'East' });
  const guard = step(plan, 'pchat-check-log-tail');
  const judged = (r: Awaited<ReturnType<typeof simulatePlan>>) =>
    checkExpectations(r.results['pchat-check-log-tail'].output, guard.kind === 'command' ? guard.verification!.expect : []);

  it('after the run restored the tail, nothing is left and RECOVERY may go', async () => {
    const sim = newSimulator(t);
    await sim.disaster('pchatsql-east.contoso.com');
    const r = await simulatePlan(sim, plan);
    expect(r.failed).toBeUndefined();
    expect(judged(r).ok).toBe(true);
  });

  it('a plan that recovers without restoring the tail (the old manual step confirmed untouched) is caught, with the files and their times', async () => {
    const sim = newSimulator(t);
    await sim.disaster('pchatsql-east.contoso.com');
    const sql = (await sim.state()).pchatSql!;
    const tail = sql.backupShare.files.filter((f) => f.seq > sql.secondary.lastRestoredSeq);
    const old: Plan = { ...plan, steps: plan.steps.filter((s) => s.id !== 'pchat-restore-log-backups').map((s) => (s.id === 'pchat-check-log-tail' ? { ...s, dependsOn: ['pchat-list-unapplied-logs'] } : s)) };
    const r = await simulatePlan(sim, old);
    const verdict = judged(r);
    expect(verdict.ok).toBe(false);
    const why = verdict.results.filter((x) => !x.ok).map((x) => x.detail).join('; ');
    for (const f of tail) { expect(why).toContain(f.name); expect(why).toContain(f.createdAt); }
  });
});
