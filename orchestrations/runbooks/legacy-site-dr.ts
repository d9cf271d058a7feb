// Runbook 9, legacy-site-dr (seed 002): Lync 2010 without pool pairing. The DR site's Standard
// Edition server hosts the CMS and takes the users.
//   pre-flight  the CMS is in the DR site; count the users homed on the failed pool
//   gate        declare disaster
//   1. Move-CsUser every user of the failed pool to the DR pool with -Force, in batches of 500
//      (the failed pool is down, so only the home server changes: contact lists are lost)
//   2. restore the contact lists from the nightly export (DBImpExp.exe /import; Import-CsUserData on 2013+)
//   3. restore the Response Groups
//   4. sip A / SRV records -> the DR server; verify a sign-in
import { z } from 'zod';
import { fqdn, sipAddress } from '../../shared/commands/values.js';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan, PlanStep } from '../../shared/plan/schema.js';
import { cmd, expectEq, gate, manual, PlanBuildError, verifyOutput, verifyWith, DURATION, DURATIONS } from './steps.js';
import { cmsPool, findPool, poolFailoverTargets, thousands } from './estate.js';
import { dnsReadSteps, dnsRepointSteps } from './dns.js';
import { dnsChangesToSite } from './fe-branch.js';
import { contactsFile, requireLegacyDr, rgsFile, usesDbImpExp } from './legacy.js';
import { isoDate } from './pchat-backup.js';

export const MOVE_BATCH = 500;

export const LegacySiteDrOptions = z.strictObject({
  failedPool: fqdn,
  /** The night whose export to restore (YYYY-MM-DD). */
  exportDate: isoDate,
  /** The users to move, when known (Get-CsUser output); without them the move is a manual step. */
  users: z.array(sipAddress).max(100_000).optional(),
});
export type LegacySiteDrOptions = z.infer<typeof LegacySiteDrOptions>;

const SOURCE = 'seed 002, Activating your Lync Site Resiliency Plan';

export function buildLegacySiteDr(t: Topology, options: LegacySiteDrOptions): Plan {
  const dr = requireLegacyDr(t);
  const failed = findPool(t, options.failedPool, 'failedPool');
  const drPool = findPool(t, dr.drPool, 'legacyDr.drPool');
  if (failed.fqdn === drPool.fqdn) throw new PlanBuildError(`failedPool: ${failed.fqdn} is the DR pool itself`);
  if (cmsPool(t)?.fqdn === failed.fqdn) throw new PlanBuildError(`the CMS is on the failed pool ${failed.fqdn}: seed 002 needs it on the DR pool ${drPool.fqdn} (move it there before a disaster)`);
  const site = drPool.site;
  const backEnd = drPool.backEnd;

  const preflight: PlanStep[] = [
    cmd('read-cms-location', 'cms.locate', {}, {
      title: `Confirm the CMS is on the DR pool ${drPool.fqdn} (else the changes below cannot be made)`, site, source: SOURCE,
      verification: verifyOutput('the CMS is in the DR site', [expectEq('PoolFqdn', drPool.fqdn, `CMS on ${drPool.fqdn}`)]),
    }),
    cmd('read-users-to-move', 'users.listByPool', { registrarPool: failed.fqdn }, {
      title: `List and count the users homed on ${failed.fqdn} (about ${thousands(failed.userCount)})`, site, source: SOURCE, records: 'legacy.usersToMove',
    }),
  ];
  const changes = dnsChangesToSite(t, site, ['sip', 'sipinternaltls'], [{ pool: failed, backup: drPool }]);
  preflight.push(...dnsReadSteps(changes, site, 'preFailover', SOURCE));
  const declare = gate('declare-disaster', {
    title: `Declare a disaster for ${failed.fqdn}`,
    policy: 'declare-disaster',
    reason: `${failed.fqdn} is lost; its ${thousands(failed.userCount)} users are rehomed on ${drPool.fqdn} with -Force. Their contact lists are lost until the ${options.exportDate} export is imported; changes since then are lost.`,
    startsRtoClock: true,
    dependsOn: preflight.map((s) => s.id),
  });
  const steps: PlanStep[] = [...preflight, declare];

  let moved: string;
  if (options.users?.length) {
    const users = options.users;
    const batches = Math.ceil(users.length / MOVE_BATCH);
    let prev = declare.id;
    for (let b = 0; b < batches; b++) {
      const batch = users.slice(b * MOVE_BATCH, (b + 1) * MOVE_BATCH);
      // One batch after another: each reports its count, and a failure stops the rest.
      const s = cmd(`move-users-${b + 1}`, 'users.move', { identities: batch, targetPoolFqdn: drPool.fqdn, force: true }, {
        title: `Move users ${b * MOVE_BATCH + 1}-${b * MOVE_BATCH + batch.length} of ${users.length} to ${drPool.fqdn} (-Force: contact lists lost)`,
        site, dependsOn: [prev], source: SOURCE,
        estimatedMs: Math.ceil((batch.length / MOVE_BATCH) * DURATIONS['users.move'].estimatedMs),
      });
      steps.push(s);
      prev = s.id;
    }
    moved = prev;
  } else {
    const batches = Math.max(1, Math.ceil(failed.userCount / MOVE_BATCH));
    const m = manual('move-users', {
      title: `Move every user of ${failed.fqdn} to ${drPool.fqdn} with -Force`,
      instructions: `For the users listed in legacy.usersToMove, in batches of ${MOVE_BATCH}: Get-CsUser -Filter {RegistrarPool -eq "${failed.fqdn}"} | Move-CsUser -Target '${drPool.fqdn}' -Force -Confirm:$false (or Lync Server Control Panel: Users, Find, Action, Move all users to pool, Force). Count the users moved and report any that failed. Or re-plan with --option users=<sip,...> to have lyncdr move them.`,
      site, dependsOn: [declare.id], source: SOURCE,
      // "equals" with no value means absent: no user is left homed on the failed pool.
      verification: verifyWith(`no user is homed on ${failed.fqdn} any more`, 'users.listByPool', { registrarPool: failed.fqdn }, [
        { path: 'SipAddress', op: 'equals', description: `Get-CsUser finds no user on ${failed.fqdn}` },
      ]),
      estimatedMs: batches * DURATIONS['users.move'].estimatedMs, timeoutMs: 4 * 60 * DURATION.MIN,
    });
    steps.push(m);
    moved = m.id;
  }

  const contacts = contactsFile(t, failed.fqdn, options.exportDate);
  const restoreContacts = usesDbImpExp(t)
    ? cmd('restore-contacts', 'legacy.importContacts', { fileName: contacts, sqlServerFqdn: backEnd.serverFqdn, ...(backEnd.instance ? { sqlInstanceName: backEnd.instance } : {}) }, {
      title: `Import the contact lists from ${contacts} into ${drPool.fqdn}`, site, dependsOn: [moved], source: SOURCE,
    })
    : cmd('restore-contacts', 'userdata.import', { poolFqdn: drPool.fqdn, fileName: contacts }, {
      title: `Import the user data from ${contacts} into ${drPool.fqdn}`, site, dependsOn: [moved], source: SOURCE,
    });
  const rgs = rgsFile(t, failed.fqdn, options.exportDate);
  const restoreRgs = cmd('restore-response-groups', 'rgs.import', { destinationPoolFqdn: drPool.fqdn, fileName: rgs, overwriteOwner: true }, {
    title: `Restore ${failed.fqdn}'s Response Groups from ${rgs} onto ${drPool.fqdn}`, site, dependsOn: [declare.id], source: SOURCE,
  });
  const dns = dnsRepointSteps(changes, site, [declare.id], SOURCE);
  const verify = cmd('verify-registration', 'pool.testRegistration', { targetFqdn: drPool.fqdn }, {
    title: `Sign in a test user on ${drPool.fqdn}`, site, dependsOn: [restoreContacts.id, restoreRgs.id, ...dns.ends], source: SOURCE,
    verification: verifyOutput('users sign in on the DR pool', [expectEq('Result', 'Success', 'Test-CsRegistration succeeds')]),
  });
  steps.push(restoreContacts, restoreRgs, ...dns.steps, verify);
  return {
    v: 1,
    runbook: 'legacy-site-dr',
    title: `Activate the DR site: rehome ${failed.fqdn}'s users on ${drPool.fqdn}`,
    options: { ...options },
    steps,
    targets: poolFailoverTargets(t),
    pchatUsersReconnecting: 0,
    locks: [`pool:${failed.fqdn}`, `pool:${drPool.fqdn}`],
  };
}
