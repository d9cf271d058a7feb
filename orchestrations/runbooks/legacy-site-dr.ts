// Runbook 9, legacy-site-dr (seed 002): Lync 2010 without pool pairing. The DR site's Standard
// Edition server hosts the CMS and takes the users.
//   pre-flight  the CMS is in the DR site; count the users homed on the failed pool
//   gate        declare disaster
//   1. Move-CsUser the users the pre-flight listed to the DR pool with -Force, in batches of 500,
//      legacyDr.parallelMoves at a time (the failed pool is down, so only the home server changes:
//      contact lists are lost); then count that none is left on the failed pool
//   2. restore the contact lists from the nightly export (DBImpExp.exe /import; Import-CsUserData on 2013+)
//   3. restore the Response Groups (Import-CsRgsConfiguration on 2013+; on Lync 2010 the DBA
//      restores the nightly RgsConfig SQL backup by hand, checked in msdb's restore history)
//   4. sip A / SRV records -> the DR server; verify a sign-in
import { z } from 'zod';
import { fqdn } from '../../shared/commands/values.js';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan, PlanStep } from '../../shared/plan/schema.js';
import { cmd, expectEq, gate, PlanBuildError, verifyOutput } from './steps.js';
import { cmsPool, findPool, poolFailoverTargets, thousands } from './estate.js';
import { dnsReadSteps, dnsRepointSteps } from './dns.js';
import { dnsChangesToSite } from './fe-branch.js';
import { backsUpRgsWithSql, contactsFile, requireLegacyDr, rgsFile, usesDbImpExp } from './legacy.js';
import { restoreRgsConfigByHand } from './legacy-rgs-restore.js';
import { isoDate } from './pchat-backup.js';
import { signInTestUser } from './test-users.js';

export const MOVE_BATCH = 500;
/** The pre-flight's Get-CsUser list, which the worker keeps whole and the move batches take slices of. */
const USERS_TO_MOVE = 'legacy.usersToMove';

export const LegacySiteDrOptions = z.strictObject({
  failedPool: fqdn,
  /** The night whose export to restore (YYYY-MM-DD). */
  exportDate: isoDate,
});
export type LegacySiteDrOptions = z.infer<typeof LegacySiteDrOptions>;

const SOURCE = 'seed 002, Activating your Lync Site Resiliency Plan';

/** How many listed users the planned batches move: the pool's users and its test user, in whole batches. */
function moveCapacity(userCount: number): number {
  return Math.ceil((userCount + 1) / MOVE_BATCH) * MOVE_BATCH;
}

export function buildLegacySiteDr(t: Topology, options: LegacySiteDrOptions): Plan {
  const dr = requireLegacyDr(t);
  const failed = findPool(t, options.failedPool, 'failedPool');
  const drPool = findPool(t, dr.drPool, 'legacyDr.drPool');
  if (failed.fqdn === drPool.fqdn) throw new PlanBuildError(`failedPool: ${failed.fqdn} is the DR pool itself`);
  if (cmsPool(t)?.fqdn === failed.fqdn) throw new PlanBuildError(`the CMS is on the failed pool ${failed.fqdn}: seed 002 needs it on the DR pool ${drPool.fqdn} (move it there before a disaster)`);
  const site = drPool.site;
  const backEnd = drPool.backEnd;

  // The batches below are planned from the topology's count (its test user listed with them).
  const capacity = moveCapacity(failed.userCount);
  const batches = capacity / MOVE_BATCH;
  const preflight: PlanStep[] = [
    cmd('read-cms-location', 'cms.locate', {}, {
      title: `Confirm the CMS is on the DR pool ${drPool.fqdn} (else the changes below cannot be made)`, site, source: SOURCE,
      verification: verifyOutput('the CMS is in the DR site', [expectEq('PoolFqdn', drPool.fqdn, `CMS on ${drPool.fqdn}`)]),
    }),
    cmd('read-users-to-move', 'users.listByPool', { registrarPool: failed.fqdn }, {
      title: `List and count the users homed on ${failed.fqdn} (about ${thousands(failed.userCount)} and its test user)`, site, source: SOURCE, records: USERS_TO_MOVE,
      // More users than the batches hold would be left behind: the count read is compared before
      // the gate, not after the moves.
      verification: verifyOutput('the listed users fit the planned moves', [{
        path: '.', op: 'countAtMost', value: capacity,
        description: `at most ${thousands(capacity)} users (${batches} batches of ${MOVE_BATCH}): more means the topology's userCount is out of date; correct it and plan again`,
      }]),
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

  // The users the pre-flight listed, in batches of 500 the worker takes from the list it kept
  // (users.moveRecorded): no user travels in the plan, the run's input or its history. Batches
  // are planned from the topology's count, its test user listed with them; one past the end of
  // the list moves nobody, and the check below finds any user the count missed. `parallelMoves`
  // chains run side by side.
  const chains = Math.min(dr.parallelMoves, batches);
  const moves: PlanStep[] = [];
  for (let b = 0; b < batches; b++) {
    moves.push(cmd(`move-users-${b + 1}`, 'users.moveRecorded', { recorded: USERS_TO_MOVE, from: b * MOVE_BATCH, to: (b + 1) * MOVE_BATCH, targetPoolFqdn: drPool.fqdn, force: true }, {
      title: `Move users ${b * MOVE_BATCH + 1}-${(b + 1) * MOVE_BATCH} of those listed on ${failed.fqdn} to ${drPool.fqdn} (-Force: contact lists lost)`,
      site, dependsOn: [b < chains ? declare.id : moves[b - chains].id], source: SOURCE,
    }));
  }
  const checkMoved = cmd('check-users-moved', 'users.listByPool', { registrarPool: failed.fqdn }, {
    title: `Count the users still homed on ${failed.fqdn}: none may be left`, site, dependsOn: moves.map((m) => m.id), source: SOURCE,
    verification: verifyOutput('every listed user was moved', [expectEq('length', 0, `no user is still homed on ${failed.fqdn}`)]),
  });
  steps.push(...moves, checkMoved);
  const moved = checkMoved.id;

  const contacts = contactsFile(t, failed.fqdn, options.exportDate);
  const restoreContacts = usesDbImpExp(t)
    ? cmd('restore-contacts', 'legacy.importContacts', { fileName: contacts, sqlServerFqdn: backEnd.serverFqdn, ...(backEnd.instance ? { sqlInstanceName: backEnd.instance } : {}) }, {
      title: `Import the contact lists from ${contacts} into ${drPool.fqdn}`, site, dependsOn: [moved], source: SOURCE,
      // DBImpExp.exe imports only the lists of users homed on the store now, and 0 is no error
      // to it: an import before the moves, or of another pool's file, restores nobody.
      verification: verifyOutput('the contact lists of every moved user were imported', [
        ...(failed.userCount > 0 ? [{ path: 'Users', op: 'greaterThan' as const, value: 0, description: 'DBImpExp.exe imported at least one contact list' }] : []),
        { path: 'Users', op: 'equals', from: { record: USERS_TO_MOVE, path: '.', pick: 'count' }, description: `as many contact lists as users the pre-flight listed on ${failed.fqdn}` },
      ]),
    })
    : cmd('restore-contacts', 'userdata.import', { poolFqdn: drPool.fqdn, fileName: contacts }, {
      title: `Import the user data from ${contacts} into ${drPool.fqdn}`, site, dependsOn: [moved], source: SOURCE,
    });
  const restoreRgs = backsUpRgsWithSql(t)
    ? restoreRgsConfigByHand(t, failed.fqdn, drPool, options.exportDate, [declare.id])
    : cmd('restore-response-groups', 'rgs.import', { destinationPoolFqdn: drPool.fqdn, fileName: rgsFile(t, failed.fqdn, options.exportDate), overwriteOwner: true }, {
      title: `Restore ${failed.fqdn}'s Response Groups from ${rgsFile(t, failed.fqdn, options.exportDate)} onto ${drPool.fqdn}`, site, dependsOn: [declare.id], source: SOURCE,
    });
  const dns = dnsRepointSteps(changes, site, [declare.id], SOURCE);
  // The failed pool's test user moved with its users: its sign-in proves they sign in on the DR pool.
  const verify = signInTestUser('verify-registration', failed, drPool.fqdn, {
    site, dependsOn: [restoreContacts.id, restoreRgs.id, ...dns.ends], source: SOURCE, proves: `${failed.fqdn}'s users sign in on the DR pool`,
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
