// The Front End part of a failover (seed 001 scenario 1A, seed 004), shared by fe-pool-failover
// and site-failover: pre-flight reads, then CMS failover (when the CMS is on a failed pool),
// Edge next hops, Invoke-CsPoolFailover -DisasterMode, DNS, and a sign-in test.
import type { FrontEndPool, Topology } from '../../shared/topology/schema.js';
import type { PlanStep } from '../../shared/plan/schema.js';
import { cmd, expectEq, verifyOutput, verifyWith } from './steps.js';
import { dnsReadSteps, dnsRepointSteps, type DnsChange } from './dns.js';
import { readTestUserHome, signInTestUser, usersSignInOn } from './test-users.js';
import { cmsActiveOn } from './cms-steps.js';
import { slug, thousands } from './estate.js';

export interface FailedPool {
  pool: FrontEndPool;
  backup: FrontEndPool;
}

/** A records-key segment: letters and digits only. */
export const recordKey = (fqdn: string): string => slug(fqdn).replace(/[^a-z0-9]/g, '');

export interface FeFailoverInput {
  failed: FailedPool[];
  /** The site whose worker runs the changes (the failed one may be unreachable). */
  survivingSite: string;
  dnsChanges: DnsChange[];
  source: string;
}

export interface FeFailover {
  preflight: PlanStep[];
  /** Steps after the gate; each first step depends on `gateId`. */
  /** `ends`: the last step of every chain; `failovers`: the Invoke-CsPoolFailover steps (pChat waits for those). */
  afterGate: (gateId: string) => { steps: PlanStep[]; ends: string[]; failovers: string[] };
  locks: string[];
  cmsFailsOver: boolean;
}

export function feFailover(t: Topology, input: FeFailoverInput): FeFailover {
  const { failed, survivingSite: site, source } = input;
  const failedFqdns = new Set(failed.map((f) => f.pool.fqdn));
  const cmsPoolFailed = failed.find((f) => f.pool.hostsCms);
  const edges = t.edgePools.filter((e) => failedFqdns.has(e.nextHop));
  const backupOf = (fqdn: string): FrontEndPool => failed.find((f) => f.pool.fqdn === fqdn)!.backup;

  const preflight: PlanStep[] = [];
  for (const { pool, backup } of failed) {
    preflight.push(
      // With the CMS on the failed pool the central store may not answer: read the local replica.
      cmd(`read-pairing-${slug(pool.fqdn)}`, 'pool.backupRelationship', { poolFqdn: pool.fqdn, localStore: Boolean(cmsPoolFailed) }, {
        title: `Confirm ${pool.fqdn} is paired with ${backup.fqdn}`, site, source,
        verification: verifyOutput('the pairing is in place', [expectEq('BackupPoolFqdn', backup.fqdn, `backup pool is ${backup.fqdn}`)]),
      }),
      readTestUserHome(pool, backup, { site, source, localStore: Boolean(cmsPoolFailed) }),
      cmd(`read-backup-status-${slug(pool.fqdn)}`, 'backup.status', { poolFqdn: pool.fqdn }, {
        title: `Read when ${pool.fqdn} last synced to ${backup.fqdn} (the RPO of this run; the backup service syncs every 2 minutes)`,
        site, source, records: `preFailover.backupStatus.${recordKey(pool.fqdn)}`,
      }),
    );
  }
  preflight.push(cmd('read-cms-location', 'cms.locate', {}, { title: 'Record which pool hosts the Central Management Store', site, source, records: 'preFailover.cmsLocation' }));
  if (edges.length) {
    preflight.push(cmd('read-edge-next-hops', 'edge.getServices', {}, { title: 'Record the Edge pools and their next hops', site, source, records: 'preFailover.edgeNextHops' }));
  }
  preflight.push(...dnsReadSteps(input.dnsChanges, site, 'preFailover', source));

  const afterGate = (gateId: string): { steps: PlanStep[]; ends: string[]; failovers: string[] } => {
    const steps: PlanStep[] = [];
    const afterCms = [gateId];
    if (cmsPoolFailed) {
      const sql = cmsPoolFailed.backup.backEnd;
      const c = cmd('cms-failover', 'cms.failover', { backupSqlServerFqdn: sql.serverFqdn, ...(sql.instance ? { backupSqlInstanceName: sql.instance } : {}) }, {
        title: `Fail the Central Management Store over to ${cmsPoolFailed.backup.fqdn} (first: the changes below write to the CMS)`,
        site, dependsOn: [gateId], source: 'seed 004',
        // The disaster set forces the store onto the backup: only while it is still on the lost pool.
        precheck: cmsActiveOn(cmsPoolFailed.pool.fqdn, `the CMS is still on ${cmsPoolFailed.pool.fqdn}`),
        verification: verifyWith('the CMS is active on the backup pool', 'cms.locate', {}, [expectEq('PoolFqdn', cmsPoolFailed.backup.fqdn, `CMS on ${cmsPoolFailed.backup.fqdn}`)]),
      });
      steps.push(c);
      afterCms.splice(0, 1, c.id);
    }
    const ends: string[] = [];
    const failovers: string[] = [];
    const edgeIds: string[] = [];
    for (const e of edges) {
      const target = backupOf(e.nextHop).fqdn;
      const s = cmd(`edge-next-hop-${slug(e.fqdn)}`, 'edge.setNextHop', { edgePoolFqdn: e.fqdn, nextHopPoolFqdn: target }, {
        title: `Point Edge pool ${e.fqdn}'s next hop at ${target} (was ${e.nextHop})`, site, dependsOn: [...afterCms, 'read-edge-next-hops'], source: 'seed 004; TechNet jj721897',
        compensation: { description: `Point the next hop back at ${e.nextHop} (fe-pool-failback does this)` },
      });
      steps.push(s);
      edgeIds.push(s.id);
    }
    const dns = dnsRepointSteps(input.dnsChanges, site, [gateId], source);
    steps.push(...dns.steps);
    for (const { pool, backup } of failed) {
      // Seed 004: an Edge pool whose next hop is this pool is pointed at the backup pool first.
      const ownEdges = edges.filter((e) => e.nextHop === pool.fqdn).map((e) => `edge-next-hop-${slug(e.fqdn)}`);
      const fo = cmd(`pool-failover-${slug(pool.fqdn)}`, 'pool.failover', { poolFqdn: pool.fqdn, disasterMode: true }, {
        title: `Fail ${pool.fqdn}'s ${thousands(pool.userCount)} users over to ${backup.fqdn}`, site, dependsOn: [...afterCms, ...ownEdges], source,
        // Seed 004: no Edge pool may still route to the pool when its users fail over.
        ...(ownEdges.length ? { precheck: verifyWith(`no Edge pool routes to ${pool.fqdn}`, 'edge.getServices', {}, [
          { path: 'Registrar', op: 'excludes', value: `Registrar:${pool.fqdn}`, description: `no Edge pool's next hop is ${pool.fqdn}` },
        ]) } : {}),
        // Large pools take longer: the seeds' 30 min target is for 40,000 users.
        estimatedMs: 5 * 60_000 + pool.userCount * 15,
        // The pool's test user signs in on the backup: its users are served there.
        verification: usersSignInOn(pool, backup.fqdn, `${backup.fqdn} serves ${pool.fqdn}'s users`),
      });
      const reg = signInTestUser(`verify-registration-${slug(backup.fqdn)}`, pool, backup.fqdn, {
        site, dependsOn: [fo.id, ...edgeIds, ...dns.ends], source, proves: `${pool.fqdn}'s users sign in on ${backup.fqdn}`,
      });
      steps.push(fo, reg);
      ends.push(reg.id);
      failovers.push(fo.id);
    }
    return { steps, ends, failovers };
  };

  const locks = [...failed.flatMap((f) => [`pool:${f.pool.fqdn}`, `pool:${f.backup.fqdn}`]), ...(cmsPoolFailed ? ['cms'] : [])];
  return { preflight, afterGate, locks: [...new Set(locks)], cmsFailsOver: Boolean(cmsPoolFailed) };
}

/**
 * DNS records that must follow the users to `survivingSite`: those of `purposes` with a target
 * configured for that site, and SRV / CNAME records that name a failed pool (they move to its
 * backup). Records already pointing there are left alone.
 */
export function dnsChangesToSite(t: Topology, survivingSite: string, purposes: ReadonlyArray<string>, failed: FailedPool[]): DnsChange[] {
  const out: DnsChange[] = [];
  for (const r of t.dns) {
    if (!purposes.includes(r.purpose)) continue;
    const viaPool = failed.find((f) => f.pool.fqdn === r.target.toLowerCase())?.backup.fqdn;
    const to = r.siteTargets?.[survivingSite] ?? viaPool;
    if (to && to !== r.target) out.push({ record: r, from: r.target, to });
  }
  return out;
}

/** The simple URLs (seed 004: "update our internal simple URLs"). */
export const SIMPLE_URL_PURPOSES = ['meet', 'dialin', 'admin'] as const;
/** A whole site moves: sign-in and discovery records too. */
export const SITE_PURPOSES = ['sip', 'meet', 'dialin', 'admin', 'lyncdiscover', 'sipinternaltls'] as const;
