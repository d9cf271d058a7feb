// The simulated estate's state: what a drill changes and what the lab CLI shows. It is a file
// (written atomically) so the estate survives worker restarts exactly like a real one does, and
// so crash tests can prove from the outside what was executed and how often.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { withFileLock } from './file-lock.js';
import path from 'node:path';
import { z } from 'zod';
import type { Topology } from '../../shared/topology/schema.js';

const Fqdn = z.string().min(3).max(255).regex(/^[a-z0-9.-]+$/, 'lowercase FQDN');
/** Sites as workers name them: the topology's "East" is "east" here. */
const Site = z.string().regex(/^[a-z0-9-]+$/, 'lowercase site');

export const PoolState = z.object({
  fqdn: Fqdn,
  site: Site,
  edition: z.enum(['Standard', 'Enterprise']),
  backupPool: Fqdn.optional(),
  /** The pool's back-end SQL store (the CMS store when it hosts the CMS). */
  backEnd: z.object({ server: Fqdn, instance: z.string().optional() }),
  up: z.boolean(),
  /** Its users are registered on the backup pool (Invoke-CsPoolFailover has run). */
  failedOver: z.boolean(),
  userCount: z.number().int().nonnegative(),
  frontEnds: z.array(Fqdn),
  /** Backup service (pool pairing) last sync, ISO time. */
  lastBackupSyncAt: z.string(),
  /** The last RESTORE DATABASE rgsconfig into this pool's store (Lync 2010 Response Group restore). */
  rgsConfigRestore: z.object({ file: z.string(), at: z.string() }).optional(),
  /** The topology's test user: a Lync-enabled account homed on this pool, besides its userCount users. */
  testUser: z.string().startsWith('sip:').optional(),
});
export type PoolState = z.infer<typeof PoolState>;

export const LogBackupFile = z.object({ name: z.string(), seq: z.number().int(), createdAt: z.string() });
export type LogBackupFile = z.infer<typeof LogBackupFile>;

export const DbState = z.enum(['ONLINE', 'RESTORING', 'OFFLINE']);

const SqlHost = z.object({
  server: Fqdn,
  instance: z.string().optional(),
  site: Site,
  up: z.boolean(),
  mgc: DbState,
  /** mgc is mirrored (Install-CsMirrorDatabase) to `mirrorPartner`. */
  mirror: z.boolean(),
  /** The topology's mirror for this server when it is (or becomes) the principal. */
  mirrorPartner: Fqdn.optional(),
  /**
   * Which chat mgc holds, as a generation: the backup mgc gains one when the pool fails over to it
   * (what is written while it serves); a full restore takes the backup's. A primary behind the
   * backup lacks the chat written during the failover.
   */
  dataGeneration: z.number().int().nonnegative().default(0),
  /** msdb.dbo.restorehistory's latest row for mgc on this server. */
  lastRestore: z.object({ file: z.string(), type: z.enum(['D', 'L']), at: z.string(), firstLsn: z.string(), lastLsn: z.string() }).optional(),
});

export const PchatSqlState = z.object({
  primary: SqlHost,
  secondary: SqlHost.extend({
    /** The sequence number of the last log backup restored into the secondary's mgc. */
    lastRestoredSeq: z.number().int(),
    /** Recovered databases refuse further log restores (a new recovery fork). */
    recovered: z.boolean(),
  }),
  logShipping: z.object({
    configured: z.boolean(),
    /** msdb.dbo.log_shipping_monitor_secondary; null once sp_delete_... has erased it. */
    monitor: z.object({
      last_copied_file: z.string().nullable(),
      last_copied_date_utc: z.string().nullable(),
      last_restored_file: z.string().nullable(),
      last_restored_date_utc: z.string().nullable(),
      last_restored_latency: z.number().int().nullable(),
      restore_threshold: z.number().int(),
    }).nullable(),
  }),
  /** The share the primary's backup job writes to (a DFS share in the seeds: reachable from both sites). */
  backupShare: z.object({ path: z.string(), files: z.array(LogBackupFile) }),
  /** The secondary's local copy folder. */
  copyFolder: z.object({ path: z.string(), files: z.array(LogBackupFile) }),
  fullBackups: z.array(z.object({ path: z.string(), database: z.string(), takenAt: z.string(), fromServer: z.string(), dataGeneration: z.number().int().nonnegative().default(0) })),
});
export type PchatSqlState = z.infer<typeof PchatSqlState>;

export const PchatState = z.object({
  poolFqdn: Fqdn,
  serviceIdentity: z.string(),
  collectionIdentity: z.string(),
  state: z.enum(['Normal', 'FailedOver']),
  /** Over a low-bandwidth link every active server sits in the data center of the mgc in use. */
  siteLinkBandwidth: z.enum(['low', 'high']).default('low'),
  servers: z.array(z.object({ fqdn: Fqdn, site: Site, role: z.enum(['active', 'standby']), up: z.boolean() })),
  activeServers: z.array(Fqdn),
});

export const DnsRecordState = z.object({
  type: z.enum(['A', 'CNAME', 'SRV']),
  ttl: z.number().int(),
  /** Record data, one entry per record at this name: an IPv4 address, an alias, or "priority weight port target" for SRV. */
  records: z.array(z.string()),
});
export type DnsRecordState = z.infer<typeof DnsRecordState>;

export const EstateState = z.object({
  version: z.literal(2),
  /** The product the estate runs (the topology's version): which cmdlets its shell has. Older state files: lync2013. */
  product: z.enum(['lync2010', 'lync2013', 'sfb2015', 'sfb2019']).default('lync2013'),
  sites: z.record(Site, z.object({ up: z.boolean() })),
  pools: z.record(z.string(), PoolState),
  /** Users rehomed with Move-CsUser, by SIP address: the pool they now live on. Others live on the pool that created them. */
  movedUsers: z.record(z.string(), Fqdn),
  cms: z.object({ pool: Fqdn, sqlServer: Fqdn, sqlInstance: z.string().optional() }),
  edges: z.record(z.string(), z.object({ fqdn: Fqdn, site: Site, nextHop: Fqdn, up: z.boolean() })),
  pchat: PchatState.optional(),
  pchatSql: PchatSqlState.optional(),
  dns: z.record(z.string(), DnsRecordState),
  /** UNC shares that live in one site (\\server\share, lower case): unreachable while it is down. Others (DFS) are reachable from every site. */
  shareSites: z.record(z.string(), Site).default({}),
  /** Export files written by the estate (user data, RGS, pChat, contact lists), by lower-case path. */
  exports: z.record(z.string(), z.object({
    path: z.string(), kind: z.string(), source: z.string(), at: z.string(),
    /** Contact-list exports (DBImpExp.exe): how many users' lists the file holds. */
    users: z.number().int().nonnegative().optional(),
  })),
  /** The directory's accounts that sign in with a password (the test users), by SIP address. */
  accounts: z.record(z.string(), z.object({ userName: z.string(), password: z.string() })).default({}),
  /**
   * Each site's worker's SecretManagement vault: credentials by secret name. The estate starts
   * with every test user's credential in every vault, as the README's setup leaves them.
   */
  vaults: z.record(Site, z.record(z.string(), z.object({ userName: z.string(), password: z.string() }))).default({}),
  /** Every command the simulator began and how it ended: the proof of at-most-once in tests. */
  executions: z.array(z.object({
    commandId: z.string(),
    name: z.string(),
    mode: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().optional(),
    outcome: z.enum(['running', 'succeeded', 'failed', 'whatif']).default('running'),
    message: z.string().optional(),
  })),
});
export type EstateState = z.infer<typeof EstateState>;

export const siteKey = (name: string): string => name.toLowerCase();
/** \\fs-east.contoso.com\pchat-logship\x.trn -> \\fs-east.contoso.com\pchat-logship: the share a UNC path is on, lower case. */
export const shareRoot = (unc: string): string => unc.toLowerCase().split('\\').slice(0, 4).join('\\');

/** The LSN a log backup of sequence `seq` starts at (it ends where seq + 1 starts). */
export const lsn = (seq: number): string => `${seq}00000000100001`;

/** SQL Server log-shipping file name: <db>_<yyyyMMddHHmmss>.trn, UTC. */
export function logBackupName(database: string, at: Date): string {
  return `${database}_${at.toISOString().replace(/[-:T]/g, '').slice(0, 14)}.trn`;
}

/**
 * A log-shipping chain as the backup / copy / restore jobs leave it (15-minute backups, as the
 * seeds configure): `total` log backups on the share, `copied` of them in the copy folder,
 * `restored` of them applied to the secondary's mgc. Sequence numbers stand for LSN ranges.
 */
export function logShippingChain(sql: Pick<PchatSqlState, 'backupShare' | 'copyFolder'> & { secondary: { server: string } ; primary: { server: string } },
  now: Date, opts: { firstSeq: number; total: number; copied: number; restored: number; intervalMin?: number }) {
  const interval = opts.intervalMin ?? 5;
  const files: LogBackupFile[] = [];
  for (let i = 0; i < opts.total; i++) {
    const seq = opts.firstSeq + i;
    const at = new Date(now.getTime() - ((opts.total - 1 - i) * interval + 2) * 60_000);
    files.push({ name: logBackupName('mgc', at), seq, createdAt: at.toISOString() });
  }
  const copied = files.slice(0, opts.copied);
  const lastCopied = copied.at(-1);
  const lastRestored = files[opts.restored - 1];
  const copyPath = (f: LogBackupFile) => `${sql.copyFolder.path.replace(/\\$/, '')}\\${f.name}`;
  const minutesAfter = (iso: string, m: number) => new Date(Date.parse(iso) + m * 60_000).toISOString();
  return {
    shareFiles: files,
    copyFiles: copied,
    lastRestoredSeq: lastRestored?.seq ?? opts.firstSeq - 1,
    monitor: {
      last_copied_file: lastCopied ? copyPath(lastCopied) : null,
      last_copied_date_utc: lastCopied ? minutesAfter(lastCopied.createdAt, 1) : null,
      last_restored_file: lastRestored ? copyPath(lastRestored) : null,
      last_restored_date_utc: lastRestored ? minutesAfter(lastRestored.createdAt, 2) : null,
      last_restored_latency: lastRestored ? 2 : null,
      restore_threshold: 45,
    },
  };
}

/**
 * The simulated estate as the topology describes it, in its normal (pre-disaster) state: every
 * site and pool up, users on their home pools, CMS where the topology puts it, Persistent Chat
 * Normal with the topology's active servers, mgc online on the primary and RESTORING on the
 * log-shipping secondary with a few log backups not yet applied (one copied, two only on the share).
 */
export function estateFromTopology(t: Topology, now = new Date()): EstateState {
  const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000).toISOString();
  const pools: EstateState['pools'] = {};
  for (const p of t.frontEndPools) {
    pools[p.fqdn] = {
      fqdn: p.fqdn, site: siteKey(p.site), edition: p.edition, ...(p.backupPool ? { backupPool: p.backupPool } : {}),
      backEnd: { server: p.backEnd.serverFqdn, ...(p.backEnd.instance ? { instance: p.backEnd.instance } : {}) },
      up: true, failedOver: false, userCount: p.userCount, frontEnds: p.frontEnds.map((f) => f.fqdn),
      lastBackupSyncAt: minutesAgo(1),
      testUser: p.testUser.sipAddress,
    };
  }
  // The test users' accounts, and their credentials in each worker's vault.
  const accounts: EstateState['accounts'] = {};
  const vault: Record<string, { userName: string; password: string }> = {};
  for (const p of t.frontEndPools) {
    const account = { userName: p.testUser.sipAddress.slice('sip:'.length), password: randomBytes(12).toString('base64url') };
    accounts[p.testUser.sipAddress] = account;
    vault[p.testUser.credential] = account;
  }
  const cmsPool = t.frontEndPools.find((p) => p.hostsCms) ?? t.frontEndPools[0];
  const edges: EstateState['edges'] = {};
  for (const e of t.edgePools) edges[e.fqdn] = { fqdn: e.fqdn, site: siteKey(e.site), nextHop: e.nextHop, up: true };
  const dns: EstateState['dns'] = {};
  for (const r of t.dns) {
    const owner = r.name === '@' ? r.zone : `${r.name.toLowerCase()}.${r.zone}`;
    const data = r.type === 'SRV' ? `${r.priority ?? 0} ${r.weight ?? 0} ${r.port ?? 5061} ${r.target.toLowerCase()}` : r.type === 'CNAME' ? r.target.toLowerCase() : r.target;
    const existing = dns[owner];
    if (existing) existing.records.push(data);
    else dns[owner] = { type: r.type, ttl: r.ttlSeconds, records: [data] };
  }
  const state: EstateState = {
    version: 2,
    product: t.version,
    sites: Object.fromEntries(t.sites.map((s) => [siteKey(s.name), { up: true }])),
    pools,
    movedUsers: {},
    cms: { pool: cmsPool.fqdn, sqlServer: cmsPool.backEnd.serverFqdn, ...(cmsPool.backEnd.instance ? { sqlInstance: cmsPool.backEnd.instance } : {}) },
    edges,
    dns,
    shareSites: {},
    exports: {},
    accounts,
    vaults: Object.fromEntries(t.sites.map((x) => [siteKey(x.name), structuredClone(vault)])),
    executions: [],
  };
  const pc = t.persistentChat;
  if (pc && pc.sql.backupShareSite !== 'dfs') state.shareSites[shareRoot(pc.sql.backupShare)] = siteKey(pc.sql.backupShareSite);
  if (pc?.sql.secondaryShare) state.shareSites[shareRoot(pc.sql.secondaryShare)] = siteKey(pc.sql.secondary.site);
  if (pc) {
    state.pchat = {
      poolFqdn: pc.poolFqdn,
      serviceIdentity: pc.serviceIdentity,
      collectionIdentity: pc.activeServerCollectionIdentity,
      state: 'Normal',
      siteLinkBandwidth: pc.siteLinkBandwidth,
      servers: pc.servers.map((x) => ({ fqdn: x.fqdn, site: siteKey(x.site), role: x.role, up: true })),
      activeServers: pc.servers.filter((x) => x.role === 'active').map((x) => x.fqdn),
    };
    const host = (h: { serverFqdn: string; instance?: string | undefined; site: string }) =>
      ({ server: h.serverFqdn, ...(h.instance ? { instance: h.instance } : {}), site: siteKey(h.site), up: true, dataGeneration: 0 });
    const sql: PchatSqlState = {
      primary: { ...host(pc.sql.primary), mgc: 'ONLINE', mirror: Boolean(pc.sql.mirror), ...(pc.sql.mirror ? { mirrorPartner: pc.sql.mirror.serverFqdn } : {}) },
      secondary: {
        ...host(pc.sql.secondary), mgc: 'RESTORING', mirror: false,
        ...(pc.sql.backupMirror ? { mirrorPartner: pc.sql.backupMirror.serverFqdn } : {}),
        lastRestoredSeq: 0, recovered: false,
      },
      logShipping: { configured: true, monitor: null },
      backupShare: { path: pc.sql.backupShare, files: [] },
      copyFolder: { path: pc.sql.copyFolder, files: [] },
      fullBackups: [],
    };
    // Eight log backups: 1-5 restored, 6 copied but not restored, 7-8 only on the share.
    const chain = logShippingChain(sql, now, { firstSeq: 1, total: 8, copied: 6, restored: 5 });
    sql.backupShare.files = chain.shareFiles;
    sql.copyFolder.files = chain.copyFiles;
    sql.secondary.lastRestoredSeq = chain.lastRestoredSeq;
    sql.logShipping.monitor = chain.monitor;
    if (chain.monitor.last_restored_file && chain.monitor.last_restored_date_utc) {
      sql.secondary.lastRestore = {
        file: chain.monitor.last_restored_file, type: 'L', at: chain.monitor.last_restored_date_utc,
        firstLsn: lsn(chain.lastRestoredSeq), lastLsn: lsn(chain.lastRestoredSeq + 1),
      };
    }
    state.pchatSql = sql;
  }
  return EstateState.parse(state);
}

/** Loads and saves the state file; an in-process mutex serialises read-modify-write cycles. */
export class StateStore {
  private lock: Promise<unknown> = Promise.resolve();

  /** `initial` builds the estate when there is no state file yet (first start, or after it was deleted). */
  constructor(readonly file: string, private readonly initial: () => Promise<EstateState>) {}

  async load(): Promise<EstateState> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const fresh = await this.initial();
      await this.save(fresh);
      return fresh;
    }
    const parsed = EstateState.safeParse(JSON.parse(text));
    if (!parsed.success) {
      throw new Error(`${this.file} is not a simulator state of this version (${parsed.error.issues[0]?.message ?? 'invalid'}); run \`lyncdr lab reset\``);
    }
    return parsed.data;
  }

  async save(state: EstateState): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    const h = await open(tmp, 'w');
    try {
      await h.writeFile(JSON.stringify(EstateState.parse(state), null, 2));
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, this.file);
  }

  /**
   * Read-modify-write under a mutex that holds across processes too (the workers of every site and
   * `lyncdr lab` share one state file); the callback's return value is passed through.
   */
  update<T>(fn: (state: EstateState) => T | Promise<T>): Promise<T> {
    const run = () => withFileLock(this.file, async () => {
      const state = await this.load();
      const out = await fn(state);
      await this.save(state);
      return out;
    });
    const next = this.lock.then(run, run);
    this.lock = next.catch(() => undefined);
    return next;
  }
}
