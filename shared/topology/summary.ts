import type { Topology } from './schema.js';
import { PCHAT_USERS_PER_ACTIVE_SERVER } from './rules.js';

export interface TopologySummary {
  version: Topology['version'];
  sites: Array<{ name: string; workerId: string | null }>;
  pools: Array<{ fqdn: string; site: string; edition: string; backupPool: string | null; hostsCms: boolean; userCount: number }>;
  persistentChat: null | {
    poolFqdn: string;
    activeBySite: Record<string, number>;
    standbyBySite: Record<string, number>;
    concurrentUsers: number;
    capacity: number;
    primarySql: string;
    secondarySql: string;
  };
  edgePools: Array<{ fqdn: string; nextHop: string }>;
  dnsRecords: number;
  legacyDrPool: string | null;
}

export function summarizeTopology(t: Topology): TopologySummary {
  const pc = t.persistentChat;
  const count = (role: 'active' | 'standby'): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const s of pc?.servers ?? []) if (s.role === role) out[s.site] = (out[s.site] ?? 0) + 1;
    return out;
  };
  const sqlName = (s: { serverFqdn: string; instance?: string | undefined }): string => (s.instance ? `${s.serverFqdn}\\${s.instance}` : s.serverFqdn);
  return {
    version: t.version,
    sites: t.sites.map((s) => ({ name: s.name, workerId: s.workerId ?? null })),
    pools: t.frontEndPools.map((p) => ({ fqdn: p.fqdn, site: p.site, edition: p.edition, backupPool: p.backupPool ?? null, hostsCms: p.hostsCms, userCount: p.userCount })),
    persistentChat: pc
      ? {
          poolFqdn: pc.poolFqdn,
          activeBySite: count('active'),
          standbyBySite: count('standby'),
          concurrentUsers: pc.concurrentUsers,
          capacity: pc.servers.filter((s) => s.role === 'active').length * PCHAT_USERS_PER_ACTIVE_SERVER,
          primarySql: sqlName(pc.sql.primary),
          secondarySql: sqlName(pc.sql.secondary),
        }
      : null,
    edgePools: t.edgePools.map((e) => ({ fqdn: e.fqdn, nextHop: e.nextHop })),
    dnsRecords: t.dns.length,
    legacyDrPool: t.legacyDr?.drPool ?? null,
  };
}

export function formatTopologySummary(t: Topology): string {
  const s = summarizeTopology(t);
  const lines = [`Estate (${s.version}): ${s.sites.length} site(s), ${s.pools.length} Front End pool(s)`];
  for (const site of s.sites) lines.push(`  site ${site.name}: worker ${site.workerId ?? '(none)'}`);
  for (const p of s.pools) {
    lines.push(`  pool ${p.fqdn} [${p.edition}] in ${p.site}, ${p.userCount} users${p.backupPool ? `, paired with ${p.backupPool}` : ''}${p.hostsCms ? ', hosts CMS' : ''}`);
  }
  if (s.persistentChat) {
    const pc = s.persistentChat;
    const fmt = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    lines.push(`  pChat ${pc.poolFqdn}: active ${fmt(pc.activeBySite)}; standby ${fmt(pc.standbyBySite)}; ${pc.concurrentUsers}/${pc.capacity} concurrent users`);
    lines.push(`  pChat SQL ${pc.primarySql} -> log shipping -> ${pc.secondarySql}`);
  }
  for (const e of s.edgePools) lines.push(`  edge ${e.fqdn} -> next hop ${e.nextHop}`);
  lines.push(`  ${s.dnsRecords} DNS record(s)`);
  if (s.legacyDrPool) lines.push(`  Lync 2010-style DR server ${s.legacyDrPool}`);
  return lines.join('\n');
}
