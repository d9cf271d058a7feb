// Issue 12 §8 / §4: the simulated Lync 2010 estate refuses what a real one refuses, and the
// Lync 2010 runbooks do only what Lync 2010 can. Each case runs the old (wrong) plan or command
// against the simulator and sees it refused, then the fixed one succeed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalog } from '../../shared/commands/index.js';
import { FIRST_VERSION } from '../../worker/simulator/estate/versions.js';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import { cmd } from '../../orchestrations/runbooks/steps.js';
import type { Plan } from '../../shared/plan/index.js';
import { checkExpectations } from '../../shared/runs/expect.js';
import type { ExecutionResult } from '../../worker/executors/types.js';
import type { Simulator } from '../../worker/simulator/simulator.js';
import { estate, step } from '../plans/helpers.js';
import { newSimulator, simulatePlan } from '../plans/simulate.js';

const legacy = estate('estate.lync2010.yaml');
const sample = estate('estate.sample.yaml');
const DR_STORE = { sqlServerFqdn: 'drse1.contoso.com', sqlInstanceName: 'RTC' };
const POOL1_STORE = { sqlServerFqdn: 'pool1-sql.contoso.com', sqlInstanceName: 'RTC' };
const CONTACTS = (date: string) => `\\\\fs-dr.contoso.com\\contacts\\pool1-contacts-${date}.xml`;
const RGS_BAK = (date: string) => `\\\\fs-dr.contoso.com\\rgs\\pool1-rgsconfig-${date}.bak`;

let n = 0;
const exec = (s: Simulator, name: string, params: Record<string, unknown>): Promise<ExecutionResult> =>
  s.execute({ name, params }, { commandId: `l${++n}`, timeoutMs: 10_000, whatIf: false });
const notRecognized = (cmdlet: string) => new RegExp(`The term '${cmdlet}' is not recognized as the name of a cmdlet`);

/** The step a plan has for `id`, as a command (throws if it is not one). */
function commandOf(plan: Plan, id: string) {
  const s = step(plan, id);
  if (s.kind !== 'command') throw new Error(`${id} is ${s.kind}`);
  return s;
}

describe('cmdlets on a version that lacks them (§8)', () => {
  it('the simulator\'s first versions are the reference\'s "introduced in" for every cmdlet the catalog sends', () => {
    const reference: Record<string, { introducedIn: string }> = JSON.parse(readFileSync(new URL('../fixtures/reference/cmdlets.json', import.meta.url), 'utf8'));
    const cmdlets = new Set(Object.values(catalog).map((c) => c.build(c.params.parse(c.example))).flatMap((spec) => (spec.kind === 'powershell' && !/DnsServer/.test(spec.cmdlet) ? [spec.cmdlet] : [])));
    expect(cmdlets.size).toBeGreaterThan(20);
    for (const cmdlet of cmdlets) {
      const key = Object.keys(reference).find((k) => k.toLowerCase() === cmdlet.toLowerCase())!;
      const documented = reference[key].introducedIn.startsWith('Lync Server 2010') ? 'lync2010' : reference[key].introducedIn.startsWith('Lync Server 2013') ? 'lync2013' : reference[key].introducedIn;
      expect({ cmdlet, first: FIRST_VERSION[cmdlet.toLowerCase()] ?? 'lync2010' }).toEqual({ cmdlet, first: documented });
    }
  });

  it('a Lync 2010 shell does not know the Lync 2013 cmdlets; a Lync 2013 estate runs them', async () => {
    const old = newSimulator(legacy);
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['rgs.export', { sourcePoolFqdn: 'pool1.contoso.com', fileName: '\\\\fs-dr.contoso.com\\rgs\\x.zip' }, 'Export-CsRgsConfiguration'],
      ['rgs.import', { destinationPoolFqdn: 'drse1.contoso.com', fileName: '\\\\fs-dr.contoso.com\\rgs\\x.zip' }, 'Import-CsRgsConfiguration'],
      ['userdata.export', { poolFqdn: 'pool1.contoso.com', fileName: '\\\\fs-dr.contoso.com\\contacts\\x.zip' }, 'Export-CsUserData'],
      ['cms.failover', { backupSqlServerFqdn: 'drse1.contoso.com', backupSqlInstanceName: 'RTC' }, 'Invoke-CsManagementServerFailover'],
      ['pool.failover', { poolFqdn: 'pool1.contoso.com' }, 'Invoke-CsPoolFailover'],
    ];
    for (const [name, params, cmdlet] of cases) {
      const r = await exec(old, name, params);
      expect({ name, status: r.status, kind: r.errorKind }).toEqual({ name, status: 'failed', kind: 'precondition' });
      expect(r.stderr).toMatch(notRecognized(cmdlet));
    }
    // What Lync 2010 does have runs.
    expect((await exec(old, 'users.listByPool', { registrarPool: 'drse1.contoso.com' })).status).toBe('succeeded');
    expect((await exec(old, 'pool.testRegistration', { targetFqdn: 'drse1.contoso.com', userSipAddress: 'sip:lyncdr.test.drse1@contoso.com', userCredential: 'lyncdr-test-drse1' })).status).toBe('succeeded');

    const lync2013 = newSimulator(sample);
    const r = await exec(lync2013, 'rgs.export', { sourcePoolFqdn: 'eepool1.contoso.com', fileName: 'D:\\RgsBackup\\eepool1.zip' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe('succeeded');
  });
});

describe('Lync 2010 Response Groups: a SQL backup of RgsConfig and a checked manual restore (§4)', () => {
  it('legacy-nightly-export: the old plan (Export-CsRgsConfiguration) is refused; the fixed one backs RgsConfig up', async () => {
    const plan = buildPlan('legacy-nightly-export', legacy, { date: '2026-11-20' });
    const rgs = commandOf(plan, 'export-rgs-pool1');
    expect(rgs.command).toEqual({ name: 'sql.backupDatabase', params: { ...POOL1_STORE, database: 'rgsconfig', folder: '\\\\fs-dr.contoso.com\\rgs', file: 'pool1-rgsconfig-2026-11-20.bak' } });
    // The plan as it was: the same step with the Lync 2013 cmdlet.
    const oldStep = cmd('export-rgs-pool1', 'rgs.export', { sourcePoolFqdn: 'pool1.contoso.com', fileName: '\\\\fs-dr.contoso.com\\rgs\\pool1-rgs-2026-11-20.zip' }, { title: 'old', site: 'Primary' });
    const oldPlan: Plan = { ...plan, steps: plan.steps.map((s) => (s.id === rgs.id ? oldStep : s)) };
    const wrong = await simulatePlan(newSimulator(legacy), oldPlan);
    expect(wrong.failed?.stepId).toBe('export-rgs-pool1');
    expect(wrong.failed?.stderr).toMatch(notRecognized('Export-CsRgsConfiguration'));

    const sim = newSimulator(legacy);
    const fixed = await simulatePlan(sim, plan);
    expect(fixed.failed).toBeUndefined();
    const exports = Object.values((await sim.state()).exports).map((e) => [e.path, e.kind, e.source]).sort();
    expect(exports).toEqual([[CONTACTS('2026-11-20'), 'contacts', 'pool1.contoso.com'], [RGS_BAK('2026-11-20'), 'rgsconfig', 'pool1.contoso.com']]);
  });

  it('legacy-site-dr: the old Import-CsRgsConfiguration is refused; the DBA\'s RESTORE DATABASE is what the manual step\'s check reads back', async () => {
    const plan = buildPlan('legacy-site-dr', legacy, { failedPool: 'pool1.contoso.com', exportDate: '2026-11-20' });
    const restore = step(plan, 'restore-response-groups');
    if (restore.kind !== 'manual') throw new Error('restore-response-groups must be a manual step on Lync 2010');
    expect(restore.site).toBe('dr');
    expect(restore.instructions).toContain(`RESTORE DATABASE [rgsconfig] FROM DISK = N'${RGS_BAK('2026-11-20')}' WITH REPLACE, RECOVERY;`);
    expect(restore.verification?.command).toEqual({ name: 'sql.lastRestoredBackup', params: { ...DR_STORE, database: 'rgsconfig' } });

    const sim = newSimulator(legacy);
    await simulatePlan(sim, buildPlan('legacy-nightly-export', legacy, { date: '2026-11-20' }));
    await sim.disaster('pool1.contoso.com');
    const old = await exec(sim, 'rgs.import', { destinationPoolFqdn: 'drse1.contoso.com', fileName: '\\\\fs-dr.contoso.com\\rgs\\pool1-rgs-2026-11-20.zip', overwriteOwner: true });
    expect(old.stderr).toMatch(notRecognized('Import-CsRgsConfiguration'));

    // Confirmed before the DBA restored anything: the check finds no restore and fails.
    const check = () => exec(sim, restore.verification!.command!.name, restore.verification!.command!.params);
    const before = await check();
    expect(before.status).toBe('succeeded');
    expect(checkExpectations(before.output, restore.verification!.expect).ok).toBe(false);
    expect(await sim.restoreRgsConfig()).toBe(`restored rgsconfig on drse1.contoso.com\\RTC from ${RGS_BAK('2026-11-20')}`);
    const after = await check();
    expect(checkExpectations(after.output, restore.verification!.expect)).toMatchObject({ ok: true });
  });
});

describe('contact lists: an import of 0 users fails, and the count is the users listed (§8, §4)', () => {
  it('an import before the users are moved restores nobody: the old step passed it, the fixed check refuses it; after the moves it matches the listed count', async () => {
    const plan = buildPlan('legacy-site-dr', legacy, { failedPool: 'pool1.contoso.com', exportDate: '2026-11-20' });
    const importStep = commandOf(plan, 'restore-contacts');
    const sim = newSimulator(legacy);
    const exported = await exec(sim, 'legacy.exportContacts', { fileName: CONTACTS('2026-11-20'), ...POOL1_STORE });
    // The pool's 5,000 users and its test user.
    expect(exported.output).toEqual({ Users: 5001 });
    await sim.disaster('pool1.contoso.com');
    const listed = await exec(sim, 'users.listByPool', { registrarPool: 'pool1.contoso.com' });
    // The pre-flight's record as the run keeps it: cut for the queue message (5,001 users), or whole.
    const cut = { truncated: true, count: 5001, items: [] };
    const records = { 'legacy.usersToMove': cut };

    const early = await exec(sim, importStep.command.name, importStep.command.params);
    expect(early.status).toBe('succeeded');
    expect(early.output).toEqual({ Users: 0 });
    expect(checkExpectations(early.output, importStep.verification!.expect, records).ok).toBe(false);
    // 0 is a failure even when the pre-flight listed nobody (a list read from the wrong pool).
    expect(checkExpectations(early.output, importStep.verification!.expect, { 'legacy.usersToMove': [] }).results.map((r) => r.ok)).toEqual([false, true]);

    const users = (listed.output as Array<{ SipAddress: string }>).map((u) => u.SipAddress);
    for (let i = 0; i < users.length; i += 500) {
      expect((await exec(sim, 'users.move', { identities: users.slice(i, i + 500), targetPoolFqdn: 'drse1.contoso.com', force: true })).status).toBe('succeeded');
    }
    const late = await exec(sim, importStep.command.name, importStep.command.params);
    expect(late.output).toEqual({ Users: 5001 });
    expect(checkExpectations(late.output, importStep.verification!.expect, records).ok).toBe(true);
    expect(checkExpectations(late.output, importStep.verification!.expect, { 'legacy.usersToMove': listed.output }).ok).toBe(true);
    // A count that differs from the listed users fails too (a whole list of 4,999 recorded).
    expect(checkExpectations(late.output, importStep.verification!.expect, { 'legacy.usersToMove': users.slice(1) }).ok).toBe(false);
  });
});

describe('an export date whose files do not exist (§8)', () => {
  it('the contact lists and the RgsConfig backup of a night that was never exported are refused; the exported night restores', async () => {
    const sim = newSimulator(legacy);
    await simulatePlan(sim, buildPlan('legacy-nightly-export', legacy, { date: '2026-11-20' }));
    const missing = await exec(sim, 'legacy.importContacts', { fileName: CONTACTS('2026-11-19'), ...DR_STORE });
    expect({ status: missing.status, kind: missing.errorKind }).toEqual({ status: 'failed', kind: 'precondition' });
    expect(missing.stderr).toMatch(/could not find file ".*pool1-contacts-2026-11-19\.xml"/);
    const missingRgs = await exec(sim, 'sql.restoreDatabaseReplace', { ...DR_STORE, database: 'rgsconfig', folder: '\\\\fs-dr.contoso.com\\rgs', file: 'pool1-rgsconfig-2026-11-19.bak' });
    expect(missingRgs.stderr).toMatch(/Msg 3201: Cannot open backup device/);

    expect((await exec(sim, 'legacy.importContacts', { fileName: CONTACTS('2026-11-20'), ...DR_STORE })).status).toBe('succeeded');
    expect((await exec(sim, 'sql.restoreDatabaseReplace', { ...DR_STORE, database: 'rgsconfig', folder: '\\\\fs-dr.contoso.com\\rgs', file: 'pool1-rgsconfig-2026-11-20.bak' })).status).toBe('succeeded');
  });
});
