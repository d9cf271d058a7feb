// Runbook 10, readiness (seeds 003, 004, 000): a drill that changes nothing. Every step reads and
// carries the expectation it is scored on, so the report is the count of expectations met:
//   pairing and backup-service sync of every paired pool; its test user's sign-in with the
//   credential of the worker that would sign it in after a failover; CMS location and replication; Edge next
//   hops; mgc log-shipping latency (the pChat RPO), pChat state Normal and the active servers;
//   the DNS records the failovers change. Checks the topology alone can answer (pairing rules,
//   capacity, TTLs, detection intervals) are made by `lyncdr topology validate`.
import { z } from 'zod';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan, PlanStep } from '../../shared/plan/schema.js';
import { cmd, expectEq, verifyOutput } from './steps.js';
import { cmsPool, dnsKey, poolFailoverTargets, slug } from './estate.js';
import { recordKey } from './fe-branch.js';
import { signInTestUser } from './test-users.js';

export const ReadinessOptions = z.strictObject({});
export type ReadinessOptions = z.infer<typeof ReadinessOptions>;

const SOURCE = 'seeds 003, 004, 000';
const RR_TYPE = { A: 'A', CNAME: 'CName', SRV: 'Srv' } as const;

export function buildReadiness(t: Topology, options: ReadinessOptions): Plan {
  const targets = poolFailoverTargets(t);
  const steps: PlanStep[] = [];
  for (const p of t.frontEndPools.filter((x) => x.backupPool)) {
    steps.push(
      cmd(`pairing-${slug(p.fqdn)}`, 'pool.backupRelationship', { poolFqdn: p.fqdn }, {
        title: `${p.fqdn} is paired with ${p.backupPool}`, site: p.site, source: SOURCE,
        verification: verifyOutput('pairing as configured', [expectEq('BackupPoolFqdn', p.backupPool, `backup pool ${p.backupPool}`)]),
      }),
      cmd(`backup-sync-${slug(p.fqdn)}`, 'backup.status', { poolFqdn: p.fqdn }, {
        title: `When ${p.fqdn} last synced to ${p.backupPool} (default every 2 minutes; the pool RPO)`, site: p.site, source: SOURCE,
        records: `readiness.backupStatus.${recordKey(p.fqdn)}`,
        verification: verifyOutput('the backup service has synced', [expectEq('OverallExportStatus', 'FinalState', 'the last export to the backup pool completed (FinalState)')]),
      }),
    );
    // Signed in from the backup pool's site: the worker that signs this test user in after a
    // failover of the pool must have its credential in its vault, and the account must sign in.
    const backup = t.frontEndPools.find((x) => x.fqdn === p.backupPool);
    if (backup) {
      steps.push(signInTestUser(`sign-in-${slug(p.fqdn)}`, p, p.fqdn, {
        site: backup.site, dependsOn: [], source: SOURCE, proves: `${p.fqdn}'s test user signs in, with the credential of the ${backup.site} worker's vault`,
      }));
    }
  }
  const cms = cmsPool(t);
  const first = t.sites[0].name;
  steps.push(cmd('cms-location', 'cms.locate', {}, {
    title: 'Where the Central Management Store is', site: cms?.site ?? first, source: SOURCE, records: 'readiness.cmsLocation',
    ...(cms ? { verification: verifyOutput('the CMS is where the topology says', [expectEq('PoolFqdn', cms.fqdn, `CMS on ${cms.fqdn}`)]) } : {}),
  }));
  steps.push(cmd('cms-replication', 'cms.replicationStatus', {}, { title: 'CMS replication to every replica', site: cms?.site ?? first, source: SOURCE, records: 'readiness.cmsReplication' }));
  if (t.edgePools.length) {
    steps.push(cmd('edge-next-hops', 'edge.getServices', {}, { title: `Edge next hops (${t.edgePools.map((e) => `${slug(e.fqdn)} -> ${slug(e.nextHop)}`).join(', ')})`, site: t.edgePools[0].site, source: SOURCE, records: 'readiness.edgeNextHops' }));
  }
  const pc = t.persistentChat;
  if (pc) {
    const sec = pc.sql.secondary;
    steps.push(
      cmd('pchat-log-shipping', 'sql.logShippingMonitor', { sqlServerFqdn: sec.serverFqdn, ...(sec.instance ? { sqlInstanceName: sec.instance } : {}), database: 'mgc' }, {
        title: `mgc log-shipping latency on ${sec.serverFqdn} (the Persistent Chat RPO, target ${targets.rpoMinutes} min)`, site: sec.site, source: SOURCE, records: 'readiness.pchatLogShipping',
        verification: verifyOutput('log shipping keeps up', [{ path: 'recordsets.last_restored_latency', op: 'lessThan', value: targets.rpoMinutes, description: `restore latency under ${targets.rpoMinutes} min` }]),
      }),
      cmd('pchat-state', 'pchat.getState', { identity: pc.serviceIdentity }, {
        title: 'Persistent Chat pool state', site: sec.site, source: SOURCE,
        verification: verifyOutput('the pool is in its normal state', [expectEq('PoolState', 'Normal', 'PoolState is Normal')]),
      }),
      cmd('pchat-active-servers', 'pchat.getServices', { poolFqdn: pc.poolFqdn }, {
        title: `Active servers: placement (${pc.siteLinkBandwidth}-bandwidth link) and capacity for ${pc.concurrentUsers} users at 20,000 per server`, site: sec.site, source: SOURCE, records: 'readiness.pchatActiveServers',
        verification: verifyOutput('the configured servers are active', pc.servers.filter((s) => s.role === 'active').map((s) => ({ path: 'ActiveServers', op: 'includes' as const, value: s.fqdn, description: `${s.fqdn} is active` }))),
      }),
    );
  }
  for (const r of t.dns) {
    steps.push(cmd(`dns-${dnsKey(r)}`, 'dns.getRecord', { dnsServer: r.dnsServer, zoneName: r.zone, name: r.name, rrType: RR_TYPE[r.type] }, {
      title: `${r.type} ${r.name}.${r.zone}: target and TTL (${r.ttlSeconds} s against the ${targets.rtoMinutes} min RTO)`, site: first, source: SOURCE,
      // Get-DnsServerResourceRecord's RecordData: IPv4Address (A), HostNameAlias / DomainName with
      // the root's trailing dot (CNAME / SRV).
      verification: verifyOutput('the record is as configured', [r.type === 'A'
        ? expectEq('RecordData.IPv4Address', r.target, `points at ${r.target}`)
        : { path: r.type === 'CNAME' ? 'RecordData.HostNameAlias' : 'RecordData.DomainName', op: 'includes', value: `${r.target}.`, description: `points at ${r.target}` }]),
    }));
  }
  return {
    v: 1,
    runbook: 'readiness',
    title: 'Readiness drill (read-only)',
    options: { ...options },
    steps,
    targets,
    pchatUsersReconnecting: 0,
    // Only one drill at a time; it takes no lock a failover needs.
    locks: ['readiness'],
  };
}
