// The estate as the runbooks see it. Shapes only; the rules that relate one part to another
// live in rules.ts so each can report the exact path it is about.
import { z } from 'zod';
import { fqdn, secretName, sipAddress, sqlInstance, uncPath, windowsPath, dnsRelativeName, pchatServiceIdentity, activeServerCollectionIdentity, PCHAT_DATABASES } from '../commands/values.js';

export const siteName = z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,31}$/, 'must be a site name: a letter then letters, digits or hyphens');
export const workerId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a worker id: lower-case letters, digits, hyphens');

export const Site = z.strictObject({ name: siteName, workerId: workerId.optional() });

export const SqlStore = z.strictObject({ serverFqdn: fqdn, instance: sqlInstance.optional() });
export const SitedSqlServer = z.strictObject({ serverFqdn: fqdn, instance: sqlInstance.optional(), site: siteName });

export const FrontEndServer = z.strictObject({ fqdn, site: siteName.optional() });

/**
 * The account a run signs in (Test-CsRegistration -UserSipAddress -UserCredential) to prove that
 * the users of this pool sign in where they should: homed on the pool, with its credential kept in
 * every worker's secret vault under the name `credential` (no password in the topology).
 */
export const TestUser = z.strictObject({ sipAddress: sipAddress.transform((s) => (s.startsWith('sip:') ? s : `sip:${s}`)), credential: secretName }, {
  error: (iss) => (iss.input === undefined
    ? "a pool needs a test user: testUser: { sipAddress: sip:..., credential: <its secret's name in the workers' vault> } (every runbook's sign-in check uses it)"
    : undefined),
});

export const FrontEndPool = z.strictObject({
  fqdn,
  site: siteName,
  edition: z.enum(['Standard', 'Enterprise']),
  backupPool: fqdn.optional(),
  hostsCms: z.boolean().default(false),
  /** The pool's SQL store (for Standard Edition, the local RTC instance); the CMS lives here when hostsCms. */
  backEnd: SqlStore,
  userCount: z.number().int().min(0),
  frontEnds: z.array(FrontEndServer).min(1, 'a pool needs at least one Front End server'),
  testUser: TestUser,
  // Topology Builder accepts 30 s at the least; defaults 300 / 600.
  failureDetectionIntervalSeconds: z.number().int().min(30, 'the failure detection interval cannot be under 30 seconds').default(300),
  failbackIntervalSeconds: z.number().int().min(30, 'the failback interval cannot be under 30 seconds').default(600),
});

export const PchatServer = z.strictObject({ fqdn, site: siteName, role: z.enum(['active', 'standby']) });

export const PchatSql = z.strictObject({
  primary: SitedSqlServer,
  /** Log-shipping secondary in the other datacenter. */
  secondary: SitedSqlServer,
  /** HA mirror of the primary. */
  mirror: SitedSqlServer.optional(),
  /** Mirror to install for the secondary once it has become the primary. */
  backupMirror: SitedSqlServer.optional(),
  databases: z.array(z.enum(PCHAT_DATABASES)).default(['mgc', 'mgccomp']),
  logShippedDatabases: z.array(z.enum(PCHAT_DATABASES)).default(['mgc']),
  backupShare: uncPath,
  /**
   * The site of the file server behind backupShare: a loss of that site takes the share (and the
   * log backups not yet copied) with it. `dfs` for a DFS namespace every site reaches. Required:
   * a share assumed reachable from everywhere when it is not is how a failover restores from,
   * or installs a mirror on, a dead site's file server.
   */
  backupShareSite: z.union([z.literal('dfs'), siteName], {
    error: (i) => (i.input === undefined ? "the site of backupShare's file server is needed: backupShareSite: <site>, or dfs for a namespace every site reaches" : undefined),
  }),
  /** A share in the secondary's site: Install-CsMirrorDatabase's -FileShare once the secondary is the primary and backupShare is in the lost site. */
  secondaryShare: uncPath.optional(),
  copyFolder: windowsPath,
});

export const PersistentChat = z.strictObject({
  poolFqdn: fqdn,
  serviceIdentity: pchatServiceIdentity,
  activeServerCollectionIdentity,
  siteLinkBandwidth: z.enum(['low', 'high']),
  concurrentUsers: z.number().int().min(0),
  servers: z.array(PchatServer).min(1),
  sql: PchatSql,
});

export const EdgePool = z.strictObject({ fqdn, site: siteName, nextHop: fqdn });

export const DnsRecord = z.strictObject({
  dnsServer: fqdn,
  zone: fqdn,
  name: dnsRelativeName,
  type: z.enum(['A', 'CNAME', 'SRV']),
  target: z.string().min(1).max(253),
  ttlSeconds: z.number().int().min(0),
  purpose: z.enum(['sip', 'meet', 'dialin', 'admin', 'lyncdiscover', 'sipinternaltls']),
  port: z.number().int().min(1).max(65_535).optional(),
  priority: z.number().int().min(0).max(65_535).optional(),
  weight: z.number().int().min(0).max(65_535).optional(),
  /** Where the record should point when a given site is the one serving. */
  siteTargets: z.record(siteName, z.string().min(1).max(253)).optional(),
});

export const LegacyDr = z.strictObject({
  /** The Standard Edition pool in the DR site (it hosts the CMS). */
  drPool: fqdn,
  contactListBackup: windowsPath,
  responseGroupBackup: windowsPath,
  /**
   * Move-CsUser batches of 500 run at once against the DR pool: a Standard Edition server takes a
   * few; more only queue on its SQL Express and stretch every batch toward its timeout.
   */
  parallelMoves: z.number().int().min(1).max(8).default(2),
});

export const Topology = z.strictObject({
  version: z.enum(['lync2010', 'lync2013', 'sfb2015', 'sfb2019']),
  sites: z.array(Site).min(1),
  frontEndPools: z.array(FrontEndPool).min(1),
  persistentChat: PersistentChat.optional(),
  edgePools: z.array(EdgePool).default([]),
  dns: z.array(DnsRecord).default([]),
  legacyDr: LegacyDr.optional(),
});

export type Topology = z.infer<typeof Topology>;
export type TopologyInput = z.input<typeof Topology>;
export type FrontEndPool = z.infer<typeof FrontEndPool>;
export type TestUser = z.infer<typeof TestUser>;
export type PersistentChat = z.infer<typeof PersistentChat>;
export type PchatSql = z.infer<typeof PchatSql>;
export type DnsRecord = z.infer<typeof DnsRecord>;
