// Every runbook on its sample estate: a valid plan, a stable hash that follows the options, the
// what-if an administrator reviews (snapshots in __snapshots__, read and approved by a person),
// and the safety property every plan must have: nothing changes the estate before approval.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import { ancestors, findCycle, planHash, renderWhatIf, RunbookName, validatePlan } from '../../shared/plan/index.js';
import { CASES, commandSteps, estate } from './helpers.js';

describe.each(RunbookName.options)('%s', (runbook) => {
  const c = CASES[runbook];
  const t = estate(c.file);
  const plan = buildPlan(runbook, t, c.options);

  it('builds a plan that validatePlan accepts', () => {
    const v = validatePlan(plan);
    expect(v.ok ? [] : v.problems).toEqual([]);
    expect(plan.runbook).toBe(runbook);
    expect(findCycle(plan.steps)).toBeUndefined();
  });

  it('hashes the same for the same topology and options, differently when an option changes', () => {
    const again = buildPlan(runbook, estate(c.file), structuredClone(c.options));
    expect(planHash(again)).toBe(planHash(plan));
    expect(planHash(plan)).toMatch(/^sha256:[0-9a-f]{64}$/);
    const changed = buildPlan(runbook, t, c.changed);
    // readiness takes no options; cms-failover's "changed" differs only in letter case, which the
    // FQDN schema normalises.
    const sameOptions = runbook === 'readiness' || runbook === 'cms-failover';
    expect(planHash(changed) === planHash(plan)).toBe(sameOptions);
  });

  it('changes nothing before an approval gate, and every change waits for one', () => {
    const gates = plan.steps.filter((s) => s.kind === 'approval').map((s) => s.id);
    const changes = plan.steps.filter((s) => (s.kind === 'command' && s.effect !== 'read-only') || s.kind === 'manual');
    // Scheduled exports run unattended (they write new files and overwrite nothing); readiness
    // changes nothing; every other runbook waits for approval before its first change.
    const unattended = runbook === 'pchat-backup' || runbook === 'legacy-nightly-export';
    expect(gates.length > 0).toBe(!unattended && runbook !== 'readiness');
    expect(changes.length > 0).toBe(runbook !== 'readiness');
    const ungated = changes.filter((s) => !gates.some((g) => ancestors(plan, s.id).has(g)));
    // Lync 2010's nightly Response Group export is a SQL backup of RgsConfig (sql.backupDatabase).
    const exportsOnly = (s: (typeof changes)[number]) => s.kind === 'command' && /export|backupDatabase/i.test(s.command.name);
    expect(ungated.filter((s) => !exportsOnly(s)).map((s) => s.id)).toEqual([]);
    expect(ungated.length).toBe(unattended ? changes.length : 0);
  });

  it('marks non-idempotent commands as not retry-safe with one attempt', () => {
    for (const s of commandSteps(plan)) {
      if (s.effect === 'non-idempotent') expect({ id: s.id, retrySafe: s.retrySafe, attempts: s.retry.maxAttempts }).toEqual({ id: s.id, retrySafe: false, attempts: 1 });
      else expect({ id: s.id, retrySafe: s.retrySafe }).toEqual({ id: s.id, retrySafe: true });
    }
  });

  it('renders the reviewed what-if', async () => {
    const text = renderWhatIf(plan, { format: 'text', hash: planHash(plan) });
    await expect(text).toMatchFileSnapshot(`./__snapshots__/${runbook}.txt`);
    expect(text).not.toMatch(/[\u2013\u2014]/); // en/em dashes break saved PowerShell (RUNBOOKS)
  });
});
