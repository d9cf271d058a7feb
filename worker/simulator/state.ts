// The simulated estate's state: what a drill changes and what the lab CLI shows. It is a file
// (written atomically) so the estate survives worker restarts exactly like a real one does, and
// so crash tests can prove from the outside what was executed and how often.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

const Fqdn = z.string().min(3).max(255).regex(/^[a-z0-9.-]+$/, 'lowercase FQDN');

export const PoolState = z.object({
  fqdn: Fqdn,
  site: z.string(),
  edition: z.enum(['Standard', 'Enterprise']),
  backupPool: Fqdn.optional(),
  up: z.boolean(),
  /** Its users are registered on the backup pool (Invoke-CsPoolFailover has run). */
  failedOver: z.boolean(),
  userCount: z.number().int().nonnegative(),
  frontEnds: z.array(Fqdn),
  /** Backup service (pool pairing) last sync, ISO time. */
  lastBackupSyncAt: z.string(),
});
export type PoolState = z.infer<typeof PoolState>;

export const LogBackupFile = z.object({ name: z.string(), seq: z.number().int(), createdAt: z.string() });
export type LogBackupFile = z.infer<typeof LogBackupFile>;

export const DbState = z.enum(['ONLINE', 'RESTORING', 'OFFLINE']);

export const EstateState = z.object({
  version: z.literal(1),
  sites: z.record(z.string(), z.object({ up: z.boolean() })),
  pools: z.record(z.string(), PoolState),
  cms: z.object({ pool: Fqdn, sqlServer: Fqdn, sqlInstance: z.string() }),
  edges: z.record(z.string(), z.object({ fqdn: Fqdn, site: z.string(), nextHop: Fqdn, up: z.boolean() })),
  pchat: z.object({
    poolFqdn: Fqdn,
    serviceIdentity: z.string(),
    collectionIdentity: z.string(),
    state: z.enum(['Normal', 'FailedOver']),
    servers: z.array(z.object({ fqdn: Fqdn, site: z.string(), up: z.boolean() })),
    activeServers: z.array(Fqdn),
  }),
  pchatSql: z.object({
    primary: z.object({ server: Fqdn, site: z.string(), up: z.boolean(), mgc: DbState }),
    secondary: z.object({
      server: Fqdn, site: z.string(), up: z.boolean(),
      mgc: DbState,
      /** The sequence number of the last log backup restored into the secondary's mgc. */
      lastRestoredSeq: z.number().int(),
      /** Recovered databases refuse further log restores (a new recovery fork). */
      recovered: z.boolean(),
      mirror: z.boolean(),
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
      }).nullable(),
    }),
    backupShare: z.object({ path: z.string(), site: z.string(), files: z.array(LogBackupFile) }),
    copyFolder: z.object({ path: z.string(), files: z.array(LogBackupFile) }),
    fullBackups: z.array(z.object({ path: z.string(), database: z.string(), takenAt: z.string(), fromServer: z.string() })),
  }),
  dns: z.record(z.string(), z.object({ type: z.enum(['A', 'CNAME', 'SRV']), target: z.string(), ttl: z.number().int() })),
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

/**
 * The estate of seed 001: two datacenters, paired Enterprise pools, Persistent Chat with log
 * shipping East -> West. Used until a topology file is provided and by `lab reset`.
 */
export function defaultEstate(now = new Date()): EstateState {
  const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000).toISOString();
  const logFile = (seq: number): LogBackupFile => ({
    name: `mgc_${String(20261121000000 + seq * 500)}.trn`, seq, createdAt: minutesAgo(5 * (8 - seq)),
  });
  return {
    version: 1,
    sites: { east: { up: true }, west: { up: true } },
    pools: {
      'eepool1.contoso.com': {
        fqdn: 'eepool1.contoso.com', site: 'east', edition: 'Enterprise', backupPool: 'eepool2.contoso.com', up: true,
        failedOver: false, userCount: 12000, frontEnds: ['eefe1.contoso.com', 'eefe2.contoso.com', 'eefe3.contoso.com'],
        lastBackupSyncAt: minutesAgo(1),
      },
      'eepool2.contoso.com': {
        fqdn: 'eepool2.contoso.com', site: 'west', edition: 'Enterprise', backupPool: 'eepool1.contoso.com', up: true,
        failedOver: false, userCount: 9000, frontEnds: ['wefe1.contoso.com', 'wefe2.contoso.com', 'wefe3.contoso.com'],
        lastBackupSyncAt: minutesAgo(1),
      },
      'sepool3.contoso.com': {
        fqdn: 'sepool3.contoso.com', site: 'west', edition: 'Standard', up: true, failedOver: false, userCount: 400,
        frontEnds: ['sepool3.contoso.com'], lastBackupSyncAt: minutesAgo(1),
      },
    },
    cms: { pool: 'eepool1.contoso.com', sqlServer: 'eesql1.contoso.com', sqlInstance: 'RTC' },
    edges: {
      'edge1.contoso.com': { fqdn: 'edge1.contoso.com', site: 'east', nextHop: 'eepool1.contoso.com', up: true },
      'edge2.contoso.com': { fqdn: 'edge2.contoso.com', site: 'west', nextHop: 'eepool2.contoso.com', up: true },
    },
    pchat: {
      poolFqdn: 'pchatpool1.contoso.com',
      serviceIdentity: 'PersistentChatServer:pchatpool1.contoso.com',
      collectionIdentity: 'global',
      state: 'Normal',
      servers: [
        ...[1, 2, 3, 4].map((i) => ({ fqdn: `pchatserver${i}.contoso.com`, site: 'east', up: true })),
        ...[5, 6, 7, 8].map((i) => ({ fqdn: `pchatserver${i}.contoso.com`, site: 'west', up: true })),
      ],
      activeServers: [1, 2, 3, 4].map((i) => `pchatserver${i}.contoso.com`),
    },
    pchatSql: {
      primary: { server: 'eepchatsql.contoso.com', site: 'east', up: true, mgc: 'ONLINE' },
      secondary: { server: 'wepchatsql.contoso.com', site: 'west', up: true, mgc: 'RESTORING', lastRestoredSeq: 5, recovered: false, mirror: false },
      logShipping: {
        configured: true,
        monitor: {
          last_copied_file: `D:\\LogShipping\\mgc\\${logFile(6).name}`, last_copied_date_utc: minutesAgo(9),
          last_restored_file: `D:\\LogShipping\\mgc\\${logFile(5).name}`, last_restored_date_utc: minutesAgo(12),
          last_restored_latency: 3,
        },
      },
      // Seqs 1-7 were backed up on the primary; 6 is copied but not restored; 7 is not copied yet.
      backupShare: { path: '\\\\dfs.contoso.com\\pchatlogship', site: 'west', files: [1, 2, 3, 4, 5, 6, 7].map(logFile) },
      copyFolder: { path: 'D:\\LogShipping\\mgc', files: [1, 2, 3, 4, 5, 6].map(logFile) },
      fullBackups: [],
    },
    dns: {
      'meet.contoso.com': { type: 'A', target: '10.1.0.10', ttl: 300 },
      'dialin.contoso.com': { type: 'A', target: '10.1.0.10', ttl: 300 },
      'admin.contoso.com': { type: 'A', target: '10.1.0.10', ttl: 300 },
      'lyncdiscover.contoso.com': { type: 'CNAME', target: 'eepool1web.contoso.com', ttl: 300 },
      'sip.contoso.com': { type: 'A', target: '10.1.0.20', ttl: 3600 },
      '_sipinternaltls._tcp.contoso.com': { type: 'SRV', target: 'eepool1.contoso.com:5061', ttl: 3600 },
    },
    executions: [],
  } satisfies EstateState;
}

/** Loads and saves the state file; an in-process mutex serialises read-modify-write cycles. */
export class StateStore {
  private lock: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string) {}

  async load(): Promise<EstateState> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const fresh = defaultEstate();
      await this.save(fresh);
      return fresh;
    }
    return EstateState.parse(JSON.parse(text));
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

  /** Read-modify-write under the mutex; the callback's return value is passed through. */
  update<T>(fn: (state: EstateState) => T | Promise<T>): Promise<T> {
    const run = async () => {
      const state = await this.load();
      const out = await fn(state);
      await this.save(state);
      return out;
    };
    const next = this.lock.then(run, run);
    this.lock = next.catch(() => undefined);
    return next;
  }
}
