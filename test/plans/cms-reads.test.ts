// With the CMS on the failed pool, reads that only the active Central Management Store answers
// (Get-CsService, Get-CsPersistentChatState without -LocalStore) cannot run in pre-flight: a drill
// with East down found them failing. They run after the CMS failover, before the changes they record.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import { ancestors, validatePlan } from '../../shared/plan/index.js';
import { estate } from './helpers.js';

describe('topology reads when the CMS fails over', () => {
  for (const [runbook, options] of [['site-failover', { failedSite: 'East' }], ['fe-pool-failover', { pool: 'eepool1.contoso.com' }]] as const) {
    it(`${runbook}: CMS-master reads follow the CMS failover and precede what they record`, () => {
      const plan = buildPlan(runbook, estate('estate.sample.yaml'), options);
      expect(validatePlan(plan).ok).toBe(true);
      const reads = plan.steps.filter((s) => s.kind === 'command' && ['edge.getServices', 'pchat.getServices', 'pchat.getState'].includes(s.command.name));
      expect(reads.length).toBeGreaterThan(0);
      for (const r of reads) expect(ancestors(plan, r.id).has('cms-failover')).toBe(true);
      const gate = plan.steps.find((s) => s.kind === 'approval')!;
      for (const r of reads) expect(ancestors(plan, gate.id).has(r.id)).toBe(false);
      const edgeSet = plan.steps.filter((s) => s.kind === 'command' && s.command.name === 'edge.setNextHop');
      for (const e of edgeSet) expect(ancestors(plan, e.id).has('read-edge-next-hops')).toBe(true);
    });
  }

  it('keeps them in pre-flight when the CMS is not on the failed pool', () => {
    const plan = buildPlan('fe-pool-failover', estate('estate.sample.yaml'), { pool: 'eepool2.contoso.com' });
    const gate = plan.steps.find((s) => s.kind === 'approval')!;
    expect(plan.steps.map((s) => s.id)).toContain('read-edge-next-hops');
    expect(ancestors(plan, gate.id).has('read-edge-next-hops')).toBe(true);
  });
});
