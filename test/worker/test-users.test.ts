// Issue 12 §5 / §8: a sign-in check proves something only when a named test user of the failed
// pool signs in with its own credential, read from the vault of the worker that runs it. The
// simulator refuses the ServerPlatform set (no user) as an estate without health-monitoring
// accounts does, signs a pool's test user in only where that pool's users are served, and reads
// the credential from the running worker's vault.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import type { CommandStep, Plan } from '../../shared/plan/index.js';
import { checkExpectations } from '../../shared/runs/expect.js';
import type { ExecutionResult } from '../../worker/executors/types.js';
import { applySpec } from '../../worker/simulator/estate.js';
import { estateFromTopology } from '../../worker/simulator/state.js';
import { Simulator } from '../../worker/simulator/simulator.js';
import { parseTopology } from '../../shared/topology/index.js';
import { estate, step } from '../plans/helpers.js';

const sample = estate('estate.sample.yaml');
const USER1 = 'sip:lyncdr.test.eepool1@contoso.com';
const signIn = (target: string, user = USER1, credential = 'lyncdr-test-eepool1') =>
  ({ name: 'pool.testRegistration', params: { targetFqdn: target, userSipAddress: user, userCredential: credential } });

let n = 0;
const ctx = () => ({ commandId: `tu${++n}`, timeoutMs: 10_000, whatIf: false });
const run = (s: Simulator, inv: { name: string; params: Record<string, unknown> }): Promise<ExecutionResult> => s.execute(inv, ctx());

/** The simulators of two sites' workers over one estate. */
function workers(): { east: Simulator; west: Simulator; byHand: Simulator } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-test-users-'));
  const make = (site?: string) => new Simulator({ dir, topology: sample, timeFactor: 0, ...(site ? { site } : {}) });
  return { east: make('east'), west: make('west'), byHand: make() };
}

function commandStep(plan: Plan, id: string): CommandStep {
  const s = step(plan, id);
  if (s.kind !== 'command') throw new Error(`${id} is ${s.kind}`);
  return s;
}

const result = (r: ExecutionResult) => (r.output as Array<{ Result: string; Error: string | null }>)[0];

describe('Test-CsRegistration in the simulated estate', () => {
  it('refuses the ServerPlatform set: without a user and its credential it signs in nobody of any pool', () => {
    const s = estateFromTopology(sample);
    const spec = { kind: 'powershell' as const, cmdlet: 'Test-CsRegistration', arguments: [{ kind: 'value' as const, name: 'TargetFqdn', value: 'eepool2.contoso.com' }] };
    expect(() => applySpec(s, spec, new Date(), 'west')).toThrow(/no health monitoring configuration was found for "eepool2\.contoso\.com".*-UserSipAddress and -UserCredential/);
    // A user without a credential is the same set.
    const withUser = { ...spec, arguments: [...spec.arguments, { kind: 'value' as const, name: 'UserSipAddress', value: USER1 }] };
    expect(() => applySpec(s, withUser, new Date(), 'west')).toThrow(/no health monitoring configuration/);
  });

  it("signs a pool's test user in on the backup only once the pool has failed over, and at home only once it has failed back", async () => {
    const { west, byHand } = workers();
    await byHand.disaster('eepool1.contoso.com');
    const before = await run(west, signIn('eepool2.contoso.com'));
    expect(before.status).toBe('succeeded');
    expect(result(before)).toMatchObject({ Result: 'Failure', Error: `User ${USER1} is served by eepool1.contoso.com, not eepool2.contoso.com.` });
    // What comes before a pool failover (the CMS is on eepool1, the Edge pool's next hop is eepool1).
    await run(west, { name: 'cms.failover', params: { backupSqlServerFqdn: 'eepool2-sql.contoso.com', backupSqlInstanceName: 'RTC' } });
    await run(west, { name: 'edge.setNextHop', params: { edgePoolFqdn: 'edgepool1.contoso.com', nextHopPoolFqdn: 'eepool2.contoso.com' } });
    expect((await run(west, { name: 'pool.failover', params: { poolFqdn: 'eepool1.contoso.com', disasterMode: true } })).status).toBe('succeeded');
    expect(result(await run(west, signIn('eepool2.contoso.com')))).toMatchObject({ Result: 'Success' });
    // The backup's own test user still signs in at home: the backup serves both pools.
    expect(result(await run(west, signIn('eepool2.contoso.com', 'sip:lyncdr.test.eepool2@contoso.com', 'lyncdr-test-eepool2')))).toMatchObject({ Result: 'Success' });
    await byHand.disaster('eepool1.contoso.com', true);
    expect(result(await run(west, signIn('eepool1.contoso.com')))).toMatchObject({ Result: 'Failure' });
    expect((await run(west, { name: 'pool.failback', params: { poolFqdn: 'eepool1.contoso.com' } })).status).toBe('succeeded');
    expect(result(await run(west, signIn('eepool1.contoso.com')))).toMatchObject({ Result: 'Success' });
  });

  it("reads the credential from the vault of the worker that runs it: a secret missing there fails the step, another site's copy does not help", async () => {
    const { east, west } = workers();
    await west.store.update((s) => { delete s.vaults.west['lyncdr-test-eepool1']; });
    const missing = await run(west, signIn('eepool1.contoso.com'));
    expect(missing).toMatchObject({ status: 'failed', errorKind: 'precondition' });
    expect(missing.stderr).toContain("cannot read the credential 'lyncdr-test-eepool1' from the vault of the worker of site west");
    expect(result(await run(east, signIn('eepool1.contoso.com')))).toMatchObject({ Result: 'Success' });
  });

  it("a credential that is not the test user's is refused by the registrar (401), as a failed sign-in, not a success", async () => {
    const { west } = workers();
    await west.store.update((s) => { s.vaults.west['lyncdr-test-eepool1'] = { ...s.vaults.west['lyncdr-test-eepool1'], password: 'stale' }; });
    expect(result(await run(west, signIn('eepool1.contoso.com')))).toMatchObject({ Result: 'Failure', Error: expect.stringMatching(/^401, Unauthorized/) });
    // Another account's credential under the user's name is refused the same way.
    expect(result(await run(west, signIn('eepool1.contoso.com', USER1, 'lyncdr-test-eepool2')))).toMatchObject({ Result: 'Failure', Error: expect.stringMatching(/^401, Unauthorized/) });
  });

  it('Get-CsUserPoolInfo names the pool a test user is homed on and its backup, from the local store while the CMS is down', async () => {
    const { west, byHand } = workers();
    await byHand.disaster('east');
    const central = await run(west, { name: 'users.poolInfo', params: { identity: USER1 } });
    expect(central).toMatchObject({ status: 'failed', errorKind: 'precondition' });
    const local = await run(west, { name: 'users.poolInfo', params: { identity: USER1, localStore: true } });
    expect(local.output).toEqual([expect.objectContaining({ PrimaryPoolFqdn: 'eepool1.contoso.com', BackupPoolFqdn: 'eepool2.contoso.com', BackupPoolPrimaryRegistrar: 'fe2a.contoso.com' })]);
  });
});

describe("the runbooks' sign-in checks", () => {
  it("fe-pool-failover: the test user read passes before the gate; the sign-in of eepool1's test user on eepool2 fails before the failover and passes after", async () => {
    const plan = buildPlan('fe-pool-failover', sample, { pool: 'eepool1.contoso.com' });
    const { west, byHand } = workers();
    await byHand.disaster('east');
    const read = commandStep(plan, 'read-test-user-eepool1');
    const r = await run(west, read.command);
    expect(checkExpectations(r.output, read.verification!.expect).ok).toBe(true);

    const verify = commandStep(plan, 'verify-registration-eepool2');
    expect(verify.command.params).toEqual({ targetFqdn: 'eepool2.contoso.com', userSipAddress: USER1, userCredential: 'lyncdr-test-eepool1' });
    expect(verify.rendered).not.toMatch(/password/i);
    const early = await run(west, verify.command);
    expect(checkExpectations(early.output, verify.verification!.expect).ok).toBe(false);
    await run(west, { name: 'cms.failover', params: { backupSqlServerFqdn: 'eepool2-sql.contoso.com', backupSqlInstanceName: 'RTC' } });
    await run(west, { name: 'edge.setNextHop', params: { edgePoolFqdn: 'edgepool1.contoso.com', nextHopPoolFqdn: 'eepool2.contoso.com' } });
    await run(west, commandStep(plan, 'pool-failover-eepool1').command);
    const late = await run(west, verify.command);
    expect(checkExpectations(late.output, verify.verification!.expect).ok).toBe(true);
  });

  it('the old check, Test-CsRegistration of the target alone, fails in the simulator where it used to pass', async () => {
    const { west } = workers();
    const old = await west.execute({ name: 'pool.testRegistration', params: { targetFqdn: 'eepool2.contoso.com' } }, ctx());
    expect(old).toMatchObject({ status: 'failed' });
    expect(old.stderr).toMatch(/userSipAddress/);
  });

  it("the test user read fails when the topology's test user is not the pool's", async () => {
    const parsed = parseTopology({ ...structuredClone(sample), frontEndPools: sample.frontEndPools.map((p) => (p.fqdn === 'eepool1.contoso.com' ? { ...p, testUser: { sipAddress: 'sip:eepool2user00001@contoso.com', credential: 'lyncdr-test-eepool1' } } : p)) });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const wrong = parsed.topology;
    const plan = buildPlan('fe-pool-failover', wrong, { pool: 'eepool1.contoso.com' });
    const { west } = workers();
    const read = commandStep(plan, 'read-test-user-eepool1');
    const r = await run(west, read.command);
    const check = checkExpectations(r.output, read.verification!.expect);
    expect(check.ok).toBe(false);
    expect(check.results.find((x) => !x.ok)?.description).toBe('sip:eepool2user00001@contoso.com is homed on eepool1.contoso.com');
  });

  it('every sign-in of every runbook names a test user and its credential', () => {
    const plans = [
      buildPlan('fe-pool-failover', sample, { pool: 'eepool1.contoso.com' }),
      buildPlan('site-failover', sample, { failedSite: 'East' }),
      buildPlan('site-failback', sample, { failedSite: 'East' }),
      buildPlan('fe-pool-failback', sample, { pool: 'eepool1.contoso.com' }),
      buildPlan('legacy-site-dr', estate('estate.lync2010.yaml'), { failedPool: 'pool1.contoso.com', exportDate: '2026-11-20' }),
    ];
    const signIns = plans.flatMap((p) => p.steps).filter((s): s is CommandStep => s.kind === 'command' && s.command.name === 'pool.testRegistration');
    expect(signIns.length).toBeGreaterThanOrEqual(5);
    for (const s of signIns) expect(s.command.params).toEqual({ targetFqdn: expect.any(String), userSipAddress: expect.stringMatching(/^sip:lyncdr\.test\./), userCredential: expect.stringMatching(/^lyncdr-test-/) });
  });
});
