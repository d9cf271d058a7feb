// Issue 12 §6: every manual step of every runbook carries a read-only check that the executor runs
// on the step's site when the step is confirmed.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import { validateInvocation } from '../../shared/commands/index.js';
import type { ManualStep, Plan } from '../../shared/plan/schema.js';
import { validatePlan } from '../../shared/plan/index.js';
import { estate } from './helpers.js';

const sample = estate('estate.sample.yaml');
const legacy = estate('estate.lync2010.yaml');
const manualSteps = (p: Plan) => p.steps.filter((s): s is ManualStep => s.kind === 'manual');

const plans: Array<[string, Plan]> = [
  ['site-failover', buildPlan('site-failover', sample, { failedSite: 'East' })],
  ['pchat-pool-failover', buildPlan('pchat-pool-failover', sample, {})],
  ['site-failback', buildPlan('site-failback', sample, { failedSite: 'East' })],
  ['pchat-pool-failback', buildPlan('pchat-pool-failback', sample, {})],
  ['legacy-site-dr', buildPlan('legacy-site-dr', legacy, { failedPool: 'pool1.contoso.com', exportDate: '2026-11-20' })],
];

describe('manual steps are checked (issue 12 §6)', () => {
  it('the runbooks with manual steps are all here, and each manual step has a read-only check with a site', () => {
    const seen = new Set<string>();
    for (const [name, plan] of plans) {
      for (const m of manualSteps(plan)) {
        seen.add(m.id.replace(/^dns-.*-remove$/, 'dns-srv-remove'));
        expect(m.site, `${name} ${m.id}`).toBeTruthy();
        expect(m.verification?.command, `${name} ${m.id}`).toBeDefined();
        const v = validateInvocation(m.verification!.command);
        expect(v.ok && v.command.effect, `${name} ${m.id}`).toBe('read-only');
      }
    }
    // legacy-site-dr's user move is no manual step any more: the run moves the users it listed.
    // Lync 2010 has no Import-CsRgsConfiguration: legacy-site-dr's RgsConfig restore is done by the DBA.
    expect([...seen].sort()).toEqual(['dns-srv-remove', 'pchat-recreate-log-shipping', 'restore-response-groups']);
  });

  it('what each check reads: the SRV target is gone, log shipping exists', () => {
    const fo = plans[0][1];
    const srv = manualSteps(fo).find((s) => s.id.startsWith('dns-'))!;
    expect(srv.verification!.command.name).toBe('dns.getRecord');
    expect(srv.verification!.expect).toContainEqual(expect.objectContaining({ op: 'excludes', value: 'eepool1.contoso.com.' }));
    const ls = manualSteps(plans[2][1]).find((s) => s.id === 'pchat-recreate-log-shipping')!;
    expect(ls.verification!.command).toMatchObject({ name: 'sql.logShippingSecondary', params: { sqlServerFqdn: 'pchatsql-west.contoso.com' } });
    expect(manualSteps(plans[4][1]).map((s) => s.id)).not.toContain('move-users');
  });

  it('validatePlan refuses a manual step whose check changes the estate or has no site', () => {
    const plan = structuredClone(plans[2][1]);
    const m = manualSteps(plan)[0];
    m.verification!.command = { name: 'sql.recoverDatabase', params: { sqlServerFqdn: 'pchatsql-west.contoso.com', database: 'mgc' } };
    delete m.site;
    const r = validatePlan(plan);
    expect(r.ok).toBe(false);
    const messages = r.ok ? [] : r.problems.filter((p) => p.stepId === m.id).map((p) => p.message);
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/must only read/), expect.stringMatching(/needs the site/)]));
  });
});
