// Issue 12 §2: the Persistent Chat log tail in a site loss. The backup share may be in the lost
// site (backupShareSite): no file step, and no Install-CsMirrorDatabase -FileShare, may use it.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import { parseTopology, type Topology } from '../../shared/topology/index.js';
import { estate, step } from './helpers.js';
import { newSimulator, simulatePlan } from './simulate.js';
import type { Plan } from '../../shared/plan/index.js';

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

  it('the mirror is installed with the share in West; the log backups are listed in the copy folder', () => {
    const mirror = step(plan, 'pchat-install-mirror');
    expect(mirror.kind === 'command' && mirror.command.params.fileShare).toBe(WEST_SHARE);
    const list = step(plan, 'pchat-list-log-backups');
    expect(list.kind === 'command' && list.command.params.folder).toBe(t.persistentChat!.sql.copyFolder);
    expect(JSON.stringify(plan.steps.filter((s) => s.kind === 'command').map((s) => s.command.params))).not.toContain('fs-east');
  });

  it('the fixed plan runs in the simulator; the old one (mirror on the East share) is refused', async () => {
    const sim = newSimulator(t);
    await sim.disaster('east');
    const ok = await simulatePlan(sim, plan, async (s) => { if (s.id === 'pchat-apply-log-backups') await sim.applyLogBackups(); });
    expect(ok.failed).toBeUndefined();
    expect((await sim.state()).pchatSql!.secondary.mirror).toBe(true);

    const old = withParams(withParams(plan, 'pchat-install-mirror', { fileShare: EAST_SHARE }), 'pchat-list-log-backups', { folder: EAST_SHARE });
    const sim2 = newSimulator(t);
    await sim2.disaster('east');
    const bad = await simulatePlan(sim2, old, async () => undefined);
    expect(bad.failed?.stepId).toBe('pchat-list-log-backups');
    expect(bad.failed?.stderr).toMatch(/network path .*fs-east.* was not found/);

    const oldMirrorOnly = withParams(plan, 'pchat-install-mirror', { fileShare: EAST_SHARE });
    const sim3 = newSimulator(t);
    await sim3.disaster('east');
    const bad3 = await simulatePlan(sim3, oldMirrorOnly, async (s) => { if (s.id === 'pchat-apply-log-backups') await sim3.applyLogBackups(); });
    expect(bad3.failed?.stepId).toBe('pchat-install-mirror');
    expect(bad3.failed?.stderr).toMatch(/network path .*fs-east.* was not found/);
  });

  it('without a share in West, installMirror is refused at planning', () => {
    const t2 = shareInEast();
    delete (t2.persistentChat!.sql as { secondaryShare?: string }).secondaryShare;
    expect(() => buildPlan('site-failover', t2, { failedSite: 'East', installMirror: true })).toThrow(/secondaryShare/);
  });
});
