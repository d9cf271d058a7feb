// What the runbooks need to know about the estate, asked the way the runbooks ask it. Every
// lookup that can fail throws a PlanBuildError that names what does exist, because the caller
// is usually an operator typing an FQDN at 3 a.m.
import type { DnsRecord, FrontEndPool, PersistentChat, Topology } from '../../shared/topology/schema.js';
import type { Plan } from '../../shared/plan/schema.js';
import { PlanBuildError } from './steps.js';
import { quoted } from '../../shared/text/quote.js';

export function findPool(t: Topology, fqdn: string, optionName = 'pool'): FrontEndPool {
  const want = fqdn.toLowerCase();
  const pool = t.frontEndPools.find((p) => p.fqdn === want);
  if (!pool) throw new PlanBuildError(`${optionName}: unknown Front End pool "${fqdn}"; the estate has ${t.frontEndPools.map((p) => p.fqdn).join(', ')}`);
  return pool;
}

/** The pool and its backup, with the pairing rules the runbooks rely on checked again. */
export function pairedPools(t: Topology, fqdn: string, optionName = 'pool'): { pool: FrontEndPool; backup: FrontEndPool } {
  const pool = findPool(t, fqdn, optionName);
  if (!pool.backupPool) throw new PlanBuildError(`${optionName}: ${pool.fqdn} has no backup pool: pool failover needs a paired pool (Lync 2010-style estates use legacy-site-dr)`);
  const backup = findPool(t, pool.backupPool, `${optionName} (backup of ${pool.fqdn})`);
  if (backup.site === pool.site) throw new PlanBuildError(`${optionName}: ${pool.fqdn} and its backup ${backup.fqdn} are both in site ${pool.site}`);
  return { pool, backup };
}

export function findSite(t: Topology, name: string, optionName = 'failedSite'): string {
  const site = t.sites.find((s) => s.name.toLowerCase() === name.toLowerCase());
  if (!site) throw new PlanBuildError(`${optionName}: unknown site ${quoted(name)}; the estate has ${t.sites.map((s) => s.name).join(', ')}`);
  return site.name;
}

export function requirePchat(t: Topology): PersistentChat {
  if (!t.persistentChat) throw new PlanBuildError('this estate has no Persistent Chat pool (topology persistentChat)');
  return t.persistentChat;
}

export function cmsPool(t: Topology): FrontEndPool | undefined {
  return t.frontEndPools.find((p) => p.hostsCms);
}

/** RTO/RPO to measure a run against, by product version (RUNBOOKS "Targets"). */
export function poolFailoverTargets(t: Topology): Plan['targets'] {
  switch (t.version) {
    case 'lync2013':
      return { rtoMinutes: 30, rpoMinutes: 30, source: 'Lync Server 2013 pool failover engineering target (40,000 concurrent users)' };
    case 'sfb2015':
    case 'sfb2019':
      return { rtoMinutes: 20, rpoMinutes: 5, source: 'Skype for Business Server 2015 pool failover: RTO 15-20 min, RPO 5 min' };
    case 'lync2010':
      // No pool pairing: seed 002 puts the manual DR activation at 30-60 minutes, and the
      // contact lists come from the nightly export.
      return { rtoMinutes: 60, rpoMinutes: 24 * 60, source: 'seed 002 Lync 2010 DR site: 30-60 min activation, nightly contact-list export' };
  }
}

export function cmsFailoverTargets(): Plan['targets'] {
  return { rtoMinutes: 5, rpoMinutes: 5, source: 'CMS failover: RTO 5 min, RPO 5 min' };
}

/** A record key segment for a DNS record (records keys allow letters, digits and dots only). */
export function dnsKey(r: DnsRecord): string {
  return r.purpose;
}

/** A step-id-safe slug of an FQDN's first label ("edgepool1.contoso.com" -> "edgepool1"). */
export function slug(fqdn: string): string {
  return fqdn.split('.')[0].toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

/** Persistent Chat users among `users` who reconnect: no more than the pChat pool's concurrent users. */
export function requirePchatUsers(t: Topology, users: number): number {
  return t.persistentChat ? Math.min(users, t.persistentChat.concurrentUsers) : 0;
}

/** 20,000: counts in titles, independent of the machine's locale. */
export function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
