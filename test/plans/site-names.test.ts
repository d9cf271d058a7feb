// Issue 12 §9: a site is matched case-insensitively and normalised to the topology's spelling
// before planning and hashing, so `east` and `East` are one plan with one hash; an unknown site is
// refused with the topology's sites listed.
import { describe, expect, it } from 'vitest';
import { buildPlan, PlanBuildError } from '../../orchestrations/runbooks/index.js';
import { planHash } from '../../shared/plan/index.js';
import { estate } from './helpers.js';

const t = estate('estate.sample.yaml');
const SITE_RUNBOOKS = ['site-failover', 'site-failback', 'pchat-pool-failover'] as const;

describe.each(SITE_RUNBOOKS)('%s: failedSite', (runbook) => {
  it('east, EAST and East give the same plan and hash, with the topology spelling in the plan', () => {
    const canonical = buildPlan(runbook, t, { failedSite: 'East' });
    for (const spelling of ['east', 'EAST', 'eAsT']) {
      const p = buildPlan(runbook, t, { failedSite: spelling });
      expect(p.options.failedSite).toBe('East');
      expect(p).toEqual(canonical);
      expect(planHash(p)).toBe(planHash(canonical));
    }
  });

  it('refuses an unknown site and lists the topology\'s sites', () => {
    expect(() => buildPlan(runbook, t, { failedSite: 'north' })).toThrow(PlanBuildError);
    expect(() => buildPlan(runbook, t, { failedSite: 'north' })).toThrow('failedSite: unknown site "north"; the estate has East, West');
  });
});
