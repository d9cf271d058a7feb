// The estate's durable facts: what a drill is allowed to change and must put back. Timestamps,
// counters, log file names and the execution log are left out, so `failover -> failback` can be
// checked with a plain deep equality against the snapshot taken before.
import { servingPool } from './estate.js';
import type { EstateState } from './state.js';

export interface EstateSnapshot {
  sites: Record<string, { up: boolean }>;
  /** Per pool: up, failed over, and which pool's Registrar serves its users. */
  pools: Record<string, { up: boolean; failedOver: boolean; usersServedBy: string; userCount: number }>;
  /** Users rehomed with Move-CsUser (sip -> pool), sorted. */
  movedUsers: Record<string, string>;
  cms: { pool: string; sqlServer: string; sqlInstance: string | null };
  edgeNextHops: Record<string, string>;
  pchat: null | { state: 'Normal' | 'FailedOver'; activeServers: string[] };
  pchatSql: null | {
    primary: { server: string; up: boolean; mgc: string; mirrored: boolean };
    secondary: { server: string; up: boolean; mgc: string; mirrored: boolean };
    logShippingConfigured: boolean;
  };
  /** Owner name -> type, TTL and the record data, sorted. */
  dns: Record<string, { type: string; ttl: number; records: string[] }>;
}

const sortedEntries = <T>(o: Record<string, T>): Array<[string, T]> => Object.entries(o).sort(([a], [b]) => a.localeCompare(b));

export function snapshotOf(s: EstateState): EstateSnapshot {
  const host = (h: NonNullable<EstateState['pchatSql']>['primary']) => ({ server: h.server, up: h.up, mgc: h.mgc, mirrored: h.mirror });
  return {
    sites: Object.fromEntries(sortedEntries(s.sites).map(([k, v]) => [k, { up: v.up }])),
    pools: Object.fromEntries(sortedEntries(s.pools).map(([k, p]) => [k, { up: p.up, failedOver: p.failedOver, usersServedBy: servingPool(p), userCount: p.userCount }])),
    movedUsers: Object.fromEntries(sortedEntries(s.movedUsers)),
    cms: { pool: s.cms.pool, sqlServer: s.cms.sqlServer, sqlInstance: s.cms.sqlInstance ?? null },
    edgeNextHops: Object.fromEntries(sortedEntries(s.edges).map(([k, e]) => [k, e.nextHop])),
    // The active list is a set: the order servers were added in is not a fact about the estate.
    pchat: s.pchat ? { state: s.pchat.state, activeServers: [...s.pchat.activeServers].sort() } : null,
    pchatSql: s.pchatSql
      ? { primary: host(s.pchatSql.primary), secondary: host(s.pchatSql.secondary), logShippingConfigured: s.pchatSql.logShipping.configured }
      : null,
    dns: Object.fromEntries(sortedEntries(s.dns).map(([k, r]) => [k, { type: r.type, ttl: r.ttl, records: [...r.records].sort() }])),
  };
}
