// The proofs that users sign in where a run says they should. Each pool's test user (topology
// testUser) signs in with its own credential, read by the worker from its secret vault: a success
// proves that this pool's users register on the target, which a sign-in of the health-monitoring
// accounts (Test-CsRegistration without a user) does not.
import type { FrontEndPool } from '../../shared/topology/schema.js';
import type { PlanStep } from '../../shared/plan/schema.js';
import { slug } from './estate.js';
import { cmd, expectEq, verifyOutput, verifyWith } from './steps.js';
import type { Verification } from '../../shared/plan/schema.js';

export interface SignInInput {
  site: string;
  dependsOn: string[];
  source: string;
  /** What a success shows, for the verification ("users sign in on the backup pool"). */
  proves: string;
}

const signInParams = (of: FrontEndPool, target: string) => ({ targetFqdn: target, userSipAddress: of.testUser.sipAddress, userCredential: of.testUser.credential });
const succeeds = (of: FrontEndPool, target: string) => expectEq('Result', 'Success', `Test-CsRegistration of ${of.testUser.sipAddress} on ${target} succeeds`);

/**
 * The check of a command that moves a pool's users (Invoke-CsPoolFailover / -Failback): its test
 * user signs in on `target`. Test-CsRegistration's Result is documented output; Get-CsPoolFabricState
 * names nobody's users and documents no output objects.
 */
export function usersSignInOn(of: FrontEndPool, target: string, description: string): Verification {
  return verifyWith(description, 'pool.testRegistration', signInParams(of, target), [succeeds(of, target)]);
}

/** Test-CsRegistration of `of`'s test user against `target`. */
export function signInTestUser(id: string, of: FrontEndPool, target: string, input: SignInInput): PlanStep {
  return cmd(id, 'pool.testRegistration', signInParams(of, target), {
    title: `Sign in ${of.fqdn}'s test user ${of.testUser.sipAddress.slice('sip:'.length)} on ${target}`,
    site: input.site, dependsOn: input.dependsOn, source: input.source,
    verification: verifyOutput(input.proves, [succeeds(of, target)]),
  });
}

/**
 * Get-CsUserPoolInfo of a pool's test user, before the run relies on its sign-in: the account is
 * homed on `pool`, and `backup` is its backup pool. `localStore` reads the local CMS replica (the
 * CMS may be on the failed pool).
 */
export function readTestUserHome(pool: FrontEndPool, backup: FrontEndPool | undefined, input: { site: string; source: string; localStore: boolean }): PlanStep {
  const user = pool.testUser.sipAddress;
  return cmd(`read-test-user-${slug(pool.fqdn)}`, 'users.poolInfo', { identity: user, localStore: input.localStore }, {
    title: `Confirm the test user ${user.slice('sip:'.length)} is homed on ${pool.fqdn}${backup ? `, backed up by ${backup.fqdn}` : ''}`,
    site: input.site, source: input.source,
    verification: verifyOutput(`the test user is one of ${pool.fqdn}'s users`, [
      expectEq('PrimaryPoolFqdn', pool.fqdn, `${user} is homed on ${pool.fqdn}`),
      ...(backup ? [expectEq('BackupPoolFqdn', backup.fqdn, `its backup pool is ${backup.fqdn}`)] : []),
    ]),
  });
}
