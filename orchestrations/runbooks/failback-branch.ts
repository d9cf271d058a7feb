// The Front End part of a failback (seed 001 1B / 2B step 1; seed 004), shared by fe-pool-failback
// and site-failback: Invoke-CsPoolFailback, then Edge next hops and DNS back to what the failover
// recorded (or the configured values). The CMS stays where it is (seed 004: no reason to move it).
import type { Topology } from '../../shared/topology/schema.js';
import type { PlanStep } from '../../shared/plan/schema.js';
import { cmd, expectEq, verifyOutput } from './steps.js';
import { dnsReadSteps, dnsRepointSteps, type DnsChange } from './dns.js';
import { slug, thousands } from './estate.js';
import { dnsChangesToSite, type FailedPool } from './fe-branch.js';
import { origin, type Recorded } from './recorded.js';
import { readTestUserHome, signInTestUser, usersSignInOn } from './test-users.js';

export interface FeFailbackInput {
  pools: FailedPool[];
  purposes: ReadonlyArray<string>;
  recorded: Recorded;
  source: string;
}

export function feFailback(t: Topology, input: FeFailbackInput): {
  preflight: PlanStep[];
  afterGate: (gateId: string) => { steps: PlanStep[]; ends: string[]; failbacks: string[] };
  locks: string[];
} {
  const { pools, recorded, source } = input;
  const backupSite = pools[0].backup.site;
  const homeSite = pools[0].pool.site;
  const poolFqdns = new Set(pools.map((p) => p.pool.fqdn));
  // During the failover these records were moved to the backup site; put them back.
  const dnsChanges: DnsChange[] = dnsChangesToSite(t, backupSite, input.purposes, pools).map((c) => ({
    record: c.record, from: c.to, to: recorded.dns?.[c.record.purpose] ?? c.from, origin: origin(recorded.dns?.[c.record.purpose]),
  }));
  const edges = t.edgePools.filter((e) => poolFqdns.has(e.nextHop));

  const preflight: PlanStep[] = [];
  for (const { pool, backup } of pools) {
    // "Once the pool comes back online and all services are restored" (seed 001 1B), read from
    // documented output: each Front End's replica of the CMS reports UpToDate only while the
    // server runs and replicates. (Get-CsPoolFabricState documents no output to check.)
    for (const fe of pool.frontEnds) {
      preflight.push(cmd(`read-replica-${slug(fe.fqdn)}`, 'cms.replicationStatus', { replicaFqdn: fe.fqdn }, {
        title: `Confirm ${fe.fqdn}, a Front End of ${pool.fqdn}, is back and has the latest configuration`, site: homeSite, source,
        verification: verifyOutput(`${fe.fqdn} is back`, [expectEq('UpToDate', true, `${fe.fqdn}'s replica is up to date`)]),
      }));
    }
    preflight.push(readTestUserHome(pool, backup, { site: homeSite, source, localStore: false }));
    preflight.push(cmd(`read-backup-status-${slug(backup.fqdn)}`, 'backup.status', { poolFqdn: backup.fqdn }, {
      title: `Read when ${backup.fqdn} last synced its data for ${pool.fqdn}`, site: backupSite, source,
    }));
  }
  preflight.push(...dnsReadSteps(dnsChanges, backupSite, 'preFailback', source));

  const afterGate = (gateId: string): { steps: PlanStep[]; ends: string[]; failbacks: string[] } => {
    const steps: PlanStep[] = [];
    const failbacks: string[] = [];
    const ends: string[] = [];
    for (const { pool, backup } of pools) {
      const fb = cmd(`pool-failback-${slug(pool.fqdn)}`, 'pool.failback', { poolFqdn: pool.fqdn }, {
        title: `Fail ${pool.fqdn}'s ${thousands(pool.userCount)} users back from ${backup.fqdn}`, site: homeSite, dependsOn: [gateId], source,
        estimatedMs: 5 * 60_000 + pool.userCount * 15,
        // Invoke-CsPoolFailback writes nothing: the pool's test user signs in at home instead.
        verification: usersSignInOn(pool, pool.fqdn, `${pool.fqdn} serves its own users again`),
      });
      steps.push(fb);
      failbacks.push(fb.id);
    }
    const edgeIds: string[] = [];
    for (const e of edges) {
      const to = recorded.edgeNextHops?.[e.fqdn] ?? e.nextHop;
      const pool = pools.find((p) => p.pool.fqdn === e.nextHop)!;
      const s = cmd(`edge-next-hop-${slug(e.fqdn)}`, 'edge.setNextHop', { edgePoolFqdn: e.fqdn, nextHopPoolFqdn: to }, {
        title: `Point Edge pool ${e.fqdn}'s next hop back at ${to} (${origin(recorded.edgeNextHops?.[e.fqdn])})`, site: homeSite,
        dependsOn: [`pool-failback-${slug(pool.pool.fqdn)}`], source,
      });
      steps.push(s);
      edgeIds.push(s.id);
    }
    const dns = dnsRepointSteps(dnsChanges, backupSite, failbacks, source);
    steps.push(...dns.steps);
    for (const { pool } of pools) {
      const reg = signInTestUser(`verify-registration-${slug(pool.fqdn)}`, pool, pool.fqdn, {
        site: homeSite, dependsOn: [`pool-failback-${slug(pool.fqdn)}`, ...edgeIds, ...dns.ends], source, proves: `${pool.fqdn}'s users sign in on their home pool again`,
      });
      steps.push(reg);
      ends.push(reg.id);
    }
    return { steps, ends, failbacks };
  };
  return { preflight, afterGate, locks: [...new Set(pools.flatMap((p) => [`pool:${p.pool.fqdn}`, `pool:${p.backup.fqdn}`]))] };
}
