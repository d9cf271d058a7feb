// Rules that relate parts of the estate to each other. Each problem names the path it is
// about, e.g. frontEndPools[1].backupPool, so an operator can find it in the file.
import { ipv4 } from '../commands/values.js';
import { fqdn as fqdnSchema } from '../commands/values.js';
import type { Topology } from './schema.js';

export interface Problem {
  path: string;
  message: string;
}

/** Persistent Chat sizing: about 20,000 concurrent users per active server, 80,000 per deployment. */
export const PCHAT_USERS_PER_ACTIVE_SERVER = 20_000;
export const PCHAT_MAX_CONCURRENT_USERS = 80_000;
export const PCHAT_MAX_SERVERS = 8;
export const PCHAT_MAX_ACTIVE_SERVERS = 4;
export const DNS_TTL_MIN_SECONDS = 30;
/** Longer than this and clients keep the failed site's address well past the 15-30 min RTO targets. */
export const DNS_TTL_MAX_SECONDS = 3_600;

type Check = (t: Topology, report: (path: string, message: string) => void) => void;

const checkSites: Check = (t, report) => {
  const names = new Map<string, number>();
  const workers = new Map<string, number>();
  t.sites.forEach((s, i) => {
    if (names.has(s.name)) report(`sites[${i}].name`, `duplicate site "${s.name}" (also sites[${names.get(s.name)}])`);
    else names.set(s.name, i);
    if (s.workerId) {
      if (workers.has(s.workerId)) report(`sites[${i}].workerId`, `worker "${s.workerId}" is already the worker of sites[${workers.get(s.workerId)}]; a worker runs in one site`);
      else workers.set(s.workerId, i);
    }
  });
};

function siteRefs(t: Topology): Array<{ path: string; site: string }> {
  const refs: Array<{ path: string; site: string }> = [];
  t.frontEndPools.forEach((p, i) => {
    refs.push({ path: `frontEndPools[${i}].site`, site: p.site });
    p.frontEnds.forEach((fe, j) => fe.site && refs.push({ path: `frontEndPools[${i}].frontEnds[${j}].site`, site: fe.site }));
  });
  const pc = t.persistentChat;
  if (pc) {
    pc.servers.forEach((s, i) => refs.push({ path: `persistentChat.servers[${i}].site`, site: s.site }));
    for (const role of ['primary', 'secondary', 'mirror', 'backupMirror'] as const) {
      const s = pc.sql[role];
      if (s) refs.push({ path: `persistentChat.sql.${role}.site`, site: s.site });
    }
    if (pc.sql.backupShareSite !== 'dfs') refs.push({ path: 'persistentChat.sql.backupShareSite', site: pc.sql.backupShareSite });
  }
  t.edgePools.forEach((e, i) => refs.push({ path: `edgePools[${i}].site`, site: e.site }));
  return refs;
}

const checkSiteReferences: Check = (t, report) => {
  const sites = new Map(t.sites.map((s) => [s.name, s]));
  const reportedNoWorker = new Set<string>();
  for (const ref of siteRefs(t)) {
    const site = sites.get(ref.site);
    if (!site) report(ref.path, `unknown site "${ref.site}"`);
    else if (!site.workerId && !reportedNoWorker.has(ref.site)) {
      reportedNoWorker.add(ref.site);
      const i = t.sites.indexOf(site);
      report(`sites[${i}].workerId`, `site "${ref.site}" hosts servers a runbook touches (${ref.path}) but has no worker`);
    }
  }
};

const checkUniqueFqdns: Check = (t, report) => {
  const seen = new Map<string, string>();
  const claim = (name: string, path: string): void => {
    const prev = seen.get(name);
    if (prev) report(path, `FQDN ${name} is already used at ${prev}`);
    else seen.set(name, path);
  };
  t.frontEndPools.forEach((p, i) => {
    claim(p.fqdn, `frontEndPools[${i}].fqdn`);
    // A Standard Edition pool is named after its one server.
    p.frontEnds.forEach((fe, j) => (p.edition === 'Standard' && fe.fqdn === p.fqdn ? undefined : claim(fe.fqdn, `frontEndPools[${i}].frontEnds[${j}].fqdn`)));
  });
  if (t.persistentChat) {
    claim(t.persistentChat.poolFqdn, 'persistentChat.poolFqdn');
    t.persistentChat.servers.forEach((s, i) => claim(s.fqdn, `persistentChat.servers[${i}].fqdn`));
  }
  t.edgePools.forEach((e, i) => claim(e.fqdn, `edgePools[${i}].fqdn`));
};

// A test user proves one pool's sign-ins, so two pools cannot share one.
const checkTestUsers: Check = (t, report) => {
  const seen = new Map<string, string>();
  t.frontEndPools.forEach((p, i) => {
    const sip = p.testUser.sipAddress.replace(/^sip:/, '');
    const prev = seen.get(sip);
    if (prev) report(`frontEndPools[${i}].testUser.sipAddress`, `test user ${sip} is already the test user of ${prev}: each pool needs its own`);
    else seen.set(sip, p.fqdn);
  });
};

const checkPools: Check = (t, report) => {
  const byFqdn = new Map(t.frontEndPools.map((p, i) => [p.fqdn, { pool: p, i }]));
  t.frontEndPools.forEach((p, i) => {
    const at = `frontEndPools[${i}]`;
    // Stretched pools are supported for Persistent Chat, not for Front End pools.
    p.frontEnds.forEach((fe, j) => {
      if (fe.site && fe.site !== p.site) report(`${at}.frontEnds[${j}].site`, `Front End pools cannot be stretched: ${fe.fqdn} is in "${fe.site}" but the pool is in "${p.site}"`);
    });
    if (p.edition === 'Standard' && (p.frontEnds.length !== 1 || p.frontEnds[0].fqdn !== p.fqdn)) {
      report(`${at}.frontEnds`, 'a Standard Edition pool is exactly one server whose FQDN is the pool FQDN');
    }
    if (p.backupPool === undefined) return;
    if (t.version === 'lync2010') {
      report(`${at}.backupPool`, 'pool pairing needs Lync Server 2013 or later; Lync 2010 estates use legacyDr');
      return;
    }
    const backup = byFqdn.get(p.backupPool);
    if (!backup) return report(`${at}.backupPool`, `unknown pool ${p.backupPool}`);
    if (backup.pool === p) return report(`${at}.backupPool`, 'a pool cannot back itself up');
    if (backup.pool.edition !== p.edition) {
      report(`${at}.backupPool`, `pairing is like-with-like only: ${p.fqdn} is ${p.edition} Edition, ${backup.pool.fqdn} is ${backup.pool.edition} Edition`);
    }
    if (backup.pool.backupPool !== p.fqdn) {
      const other = backup.pool.backupPool ? `it is paired with ${backup.pool.backupPool}` : 'it has no backupPool';
      report(`${at}.backupPool`, `pairing is one-to-one and reciprocal: frontEndPools[${backup.i}] (${backup.pool.fqdn}) must name ${p.fqdn} as its backupPool, but ${other}`);
    }
    if (backup.pool.site === p.site) report(`${at}.backupPool`, `the backup pool must be in another site; both are in "${p.site}"`);
  });
};

const checkCms: Check = (t, report) => {
  const hosts = t.frontEndPools.map((p, i) => ({ p, i })).filter(({ p }) => p.hostsCms);
  if (hosts.length === 0) report('frontEndPools', 'no pool hosts the Central Management Store (set hostsCms on one pool)');
  for (const extra of hosts.slice(1)) report(`frontEndPools[${extra.i}].hostsCms`, `only one pool hosts the CMS; frontEndPools[${hosts[0].i}] already does`);
};

const checkPersistentChat: Check = (t, report) => {
  const pc = t.persistentChat;
  if (!pc) return;
  if (t.version === 'lync2010') report('persistentChat', 'Persistent Chat needs Lync Server 2013 or later (Lync 2010 has Group Chat)');
  if (t.version === 'sfb2019') report('persistentChat', 'Persistent Chat was removed in Skype for Business Server 2019');
  if (pc.serviceIdentity.toLowerCase() !== `persistentchatserver:${pc.poolFqdn}`) {
    report('persistentChat.serviceIdentity', `must be PersistentChatServer:${pc.poolFqdn}`);
  }
  if (t.version === 'lync2013' && pc.activeServerCollectionIdentity !== 'global') {
    report('persistentChat.activeServerCollectionIdentity', 'Lync 2013 has a single active-server collection: "global"');
  }
  if (pc.servers.length > PCHAT_MAX_SERVERS) report('persistentChat.servers', `at most ${PCHAT_MAX_SERVERS} servers per Persistent Chat pool, found ${pc.servers.length}`);
  const actives = pc.servers.filter((s) => s.role === 'active');
  if (actives.length === 0) report('persistentChat.servers', 'no active Persistent Chat server');
  if (actives.length > PCHAT_MAX_ACTIVE_SERVERS) report('persistentChat.servers', `at most ${PCHAT_MAX_ACTIVE_SERVERS} servers can be active, found ${actives.length}`);

  const activePerSite = new Map<string, number>();
  for (const s of pc.servers) activePerSite.set(s.site, (activePerSite.get(s.site) ?? 0) + (s.role === 'active' ? 1 : 0));
  const activeSites = [...activePerSite].filter(([, n]) => n > 0).map(([site]) => site);
  if (pc.siteLinkBandwidth === 'low') {
    if (activeSites.length > 1) report('persistentChat.servers', `with a low-bandwidth site link every active server must be in one site; actives are in ${activeSites.join(', ')}`);
    // Actives must sit beside the primary mgc over a slow link.
    if (activeSites.length === 1 && activeSites[0] !== pc.sql.primary.site) {
      report('persistentChat.servers', `with a low-bandwidth site link the active servers must be in the primary SQL site "${pc.sql.primary.site}", not "${activeSites[0]}"`);
    }
  } else {
    const counts = [...activePerSite.values()];
    if (counts.length > 1 && Math.max(...counts) - Math.min(...counts) > 1) {
      report('persistentChat.servers', `with a high-bandwidth site link active servers are split evenly across sites; found ${[...activePerSite].map(([s, n]) => `${s}: ${n}`).join(', ')}`);
    }
  }
  const capacity = actives.length * PCHAT_USERS_PER_ACTIVE_SERVER;
  if (pc.concurrentUsers > capacity) {
    report('persistentChat.concurrentUsers', `${pc.concurrentUsers} concurrent users need ${Math.ceil(pc.concurrentUsers / PCHAT_USERS_PER_ACTIVE_SERVER)} active servers (about ${PCHAT_USERS_PER_ACTIVE_SERVER} each); ${actives.length} active give ${capacity}`);
  }
  if (pc.concurrentUsers > PCHAT_MAX_CONCURRENT_USERS) {
    report('persistentChat.concurrentUsers', `a Persistent Chat deployment supports at most ${PCHAT_MAX_CONCURRENT_USERS} concurrent users`);
  }

  const sql = pc.sql;
  if (sql.primary.site === sql.secondary.site) report('persistentChat.sql.secondary.site', `the log-shipping secondary must be in another site than the primary ("${sql.primary.site}")`);
  if (!pc.servers.some((s) => s.site === sql.secondary.site)) {
    report('persistentChat.servers', `no Persistent Chat server in "${sql.secondary.site}", the log-shipping secondary's site: a failover would have nothing to activate`);
  }
  if (sql.mirror && sql.mirror.site !== sql.primary.site) report('persistentChat.sql.mirror.site', 'the mirror of the primary must be in the primary site');
  if (sql.backupMirror && sql.backupMirror.site !== sql.secondary.site) report('persistentChat.sql.backupMirror.site', 'the backup mirror must be in the secondary site');
  for (const db of ['mgc', 'mgccomp'] as const) if (!sql.databases.includes(db)) report('persistentChat.sql.databases', `missing ${db}`);
  if (!sql.logShippedDatabases.includes('mgc')) report('persistentChat.sql.logShippedDatabases', 'mgc must be log shipped');
  sql.logShippedDatabases.forEach((db, i) => {
    if (db === 'mgccomp') report(`persistentChat.sql.logShippedDatabases[${i}]`, 'only mgc is log shipped; mgccomp is not failed over');
  });
  for (const role of ['secondary', 'mirror', 'backupMirror'] as const) {
    const s = sql[role];
    if (s && s.serverFqdn === sql.primary.serverFqdn && s.instance === sql.primary.instance) {
      report(`persistentChat.sql.${role}.serverFqdn`, 'must be a different SQL instance than the primary');
    }
  }
};

const checkEdges: Check = (t, report) => {
  const pools = new Set(t.frontEndPools.map((p) => p.fqdn));
  t.edgePools.forEach((e, i) => {
    if (!pools.has(e.nextHop)) report(`edgePools[${i}].nextHop`, `unknown Front End pool ${e.nextHop}`);
  });
};

function checkDnsTarget(type: 'A' | 'CNAME' | 'SRV', value: string, path: string, report: (p: string, m: string) => void): void {
  if (type === 'A' && !ipv4.safeParse(value).success) report(path, `an A record points at an IPv4 address, not "${value}"`);
  if (type !== 'A' && !fqdnSchema.safeParse(value).success) report(path, `a ${type} record points at an FQDN, not "${value}"`);
}

const checkDns: Check = (t, report) => {
  const sites = new Set(t.sites.map((s) => s.name));
  const seen = new Set<string>();
  t.dns.forEach((r, i) => {
    const at = `dns[${i}]`;
    checkDnsTarget(r.type, r.target, `${at}.target`, report);
    if (r.ttlSeconds < DNS_TTL_MIN_SECONDS) report(`${at}.ttlSeconds`, `a TTL under ${DNS_TTL_MIN_SECONDS} s floods the DNS servers`);
    if (r.ttlSeconds > DNS_TTL_MAX_SECONDS) report(`${at}.ttlSeconds`, `a TTL over ${DNS_TTL_MAX_SECONDS} s keeps clients on the failed site long past the RTO target`);
    if (r.type === 'SRV' && r.port === undefined) report(`${at}.port`, 'an SRV record needs a port');
    if (r.type !== 'SRV' && (r.port ?? r.priority ?? r.weight) !== undefined) report(`${at}.port`, 'port, priority and weight belong to SRV records');
    if ((r.purpose === 'sipinternaltls') !== (r.type === 'SRV')) report(`${at}.type`, 'the sipinternaltls purpose is the SRV record, and only it');
    if (r.purpose === 'sipinternaltls' && r.name !== '_sipinternaltls._tcp') report(`${at}.name`, 'must be _sipinternaltls._tcp');
    const key = `${r.zone}|${r.name}|${r.type}|${r.target}`;
    if (seen.has(key)) report(at, `duplicate record ${r.name}.${r.zone} ${r.type} ${r.target}`);
    seen.add(key);
    for (const [site, target] of Object.entries(r.siteTargets ?? {})) {
      if (!sites.has(site)) report(`${at}.siteTargets.${site}`, `unknown site "${site}"`);
      checkDnsTarget(r.type, target, `${at}.siteTargets.${site}`, report);
    }
  });
};

const checkLegacyDr: Check = (t, report) => {
  const dr = t.legacyDr;
  if (!dr) return;
  const i = t.frontEndPools.findIndex((p) => p.fqdn === dr.drPool);
  if (i < 0) return report('legacyDr.drPool', `unknown pool ${dr.drPool}`);
  const pool = t.frontEndPools[i];
  if (pool.edition !== 'Standard') report('legacyDr.drPool', 'the DR pool is a Standard Edition server');
  // With the CMS on the failed pool there is no Control Panel and no topology change.
  if (!pool.hostsCms) report('legacyDr.drPool', `the DR server must host the CMS (set frontEndPools[${i}].hostsCms)`);
  if (pool.userCount > 0) report(`frontEndPools[${i}].userCount`, 'the DR site serves no production users in normal operation');
  if (!t.frontEndPools.some((p) => p !== pool && p.site !== pool.site)) report('legacyDr.drPool', 'the DR server must be in another site than the production pools');
};

const CHECKS: readonly Check[] = [checkSites, checkSiteReferences, checkUniqueFqdns, checkTestUsers, checkPools, checkCms, checkPersistentChat, checkEdges, checkDns, checkLegacyDr];

export function checkTopology(t: Topology): Problem[] {
  const problems: Problem[] = [];
  for (const check of CHECKS) check(t, (path, message) => problems.push({ path, message }));
  return problems;
}
