// The audit trail in Azure Table Storage: one partition per run, one row per entry, a `head` row
// holding the count and last hash, and a `key:<key>` row per entry key. Every append writes all
// three in one entity-group transaction, with the head replaced under its ETag: two appenders
// that read the same head cannot both commit, so the chain never forks, and a redelivered
// activity finds its key row and gets the entry it already wrote.
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { setTimeout as sleep } from 'node:timers/promises';
import { tableClient, tableOnFirstUse } from '../storage/connection.js';
import { canonicalStringify, toCanonicalJson, AuditDataError } from './canonical.js';
import {
  GENESIS_HASH, HEAD_ROW_KEY, chainHasher, decodeEntry, encodeEntry, entryRowKey, isEntryRowKey, keyRowKey,
  type ChainHasher,
} from './chain.js';
import { AuditConfigSchema, type AuditConfigInput } from './config.js';
import {
  AuditConfigError, AuditConflictError, AuditContentionError, AuditCorruptError, AuditInputError, AuditRunNotFoundError,
} from './errors.js';
import {
  AuditEntryInputSchema, ChainAlgSchema, EntryKeySchema, HashSchema, RunIdSchema,
  type AuditEntry, type AuditEntryInput, type VerifyReport,
} from './schema.js';
import type { RawRow } from './verify.js';
import { payloadRefs, snapshotRow, verifySnapshot, type TrailSnapshot } from './snapshot.js';
import { AuditPayloads, type PayloadRef } from './payloads.js';
import { AuditAnchors } from './anchor.js';
import type { JsonValue } from './canonical.js';
import { z } from 'zod';

export interface AuditTrail {
  readonly tableName: string;
  /** Appends once per key: a repeat with equal content returns the stored entry, a different one throws. */
  append(runId: string, key: string, entry: AuditEntryInput): Promise<AuditEntry>;
  /** The run's entries in chain order. Throws AuditRunNotFoundError for an unknown run. */
  readRun(runId: string): Promise<AuditEntry[]>;
  /** Walks the chain and names every altered, deleted, inserted or reordered entry. */
  verify(runId: string): Promise<VerifyReport>;
  /** The run's rows, anchor and payload blobs as read: what verify checks, and what an evidence pack carries. */
  snapshot(runId: string): Promise<TrailSnapshot>;
  /**
   * Every run this table has a trail or an anchor of: the head rows' partitions and the anchors'
   * names, so a run whose whole partition was deleted is still listed (its anchor remains).
   */
  listRuns(): Promise<{ runId: string; lastWrite?: string; anchoredAt?: string }[]>;
  /** verify's checks on a snapshot already read, with this trail's key. */
  checkSnapshot(snapshot: TrailSnapshot): VerifyReport;
  /** JSON lines, one canonical entry per line, in chain order: the file handed to an auditor. */
  exportRun(runId: string): Promise<string>;
  /** The data of an entry stored as a reference to a blob (payloads.ts), checked against its SHA-256. */
  readPayload(ref: PayloadRef): Promise<JsonValue>;
}

export interface AuditTrailOptions extends AuditConfigInput {
  /** Attempts before giving up under contention (each attempt re-reads the head). */
  maxAttempts?: number;
}

const HeadSchema = z.object({ count: z.number().int().nonnegative(), lastHash: HashSchema, alg: ChainAlgSchema, etag: z.string() });
const KeyIndexSchema = z.object({ seq: z.number().int().positive(), hash: HashSchema });

export function createAuditTrail(options: AuditTrailOptions): AuditTrail {
  const { maxAttempts = 60, ...rest } = options;
  const config = AuditConfigSchema.parse(rest);
  const client = tableClient(config.connectionString, config.tableName);
  const hasher = chainHasher(config.hmacKey);
  const heads = new HeadCache();
  const payloads = new AuditPayloads(config.connectionString, config.containerName);
  const anchors = new AuditAnchors(config.connectionString, config.tableName, config.hmacKey, config.anchorContainer);
  const table = tableOnFirstUse(client);

  async function readRun(runId: string): Promise<AuditEntry[]> {
    const run = parseOr(RunIdSchema, runId, 'run id');
    const rows = await partition(client, table, run);
    if (rows.length === 0) throw new AuditRunNotFoundError(run, config.tableName);
    const entries: AuditEntry[] = [];
    for (const row of rows.filter((r) => isEntryRowKey(r.rowKey))) {
      const d = decodeEntry(row);
      if (!d.ok) throw new AuditCorruptError(`run ${run}: row ${row.rowKey} is not a readable entry (${d.error}); run "audit verify"`);
      entries.push(d.entry);
    }
    return entries.sort((a, b) => a.seq - b.seq);
  }

  return {
    tableName: config.tableName,
    readRun,
    async append(runId, key, input) {
      const run = parseOr(RunIdSchema, runId, 'run id');
      const k = parseOr(EntryKeySchema, key, 'entry key');
      const parsed = AuditEntryInputSchema.safeParse(input);
      if (!parsed.success) throw new AuditInputError(`audit entry ${k} of run ${run}: ${z.prettifyError(parsed.error)}`);
      let data;
      try {
        data = toCanonicalJson(parsed.data.data);
      } catch (err) {
        if (err instanceof AuditDataError) throw new AuditInputError(`audit entry ${k} of run ${run}: data ${err.message}`);
        throw err;
      }
      await table();
      // Too large for a Table entity: the entry keeps a reference, the blob the data.
      data = await payloads.offload(run, k, data);
      const entry = await appendWithRetry(client, hasher, maxAttempts, heads, { ...parsed.data, data, runId: run, key: k });
      // After the commit, so the anchor never names an entry the table lacks; a failure here fails
      // the append, and its retry (the activity's) finds the entry and anchors it then.
      await anchors.record(entry);
      return entry;
    },
    async snapshot(runId) {
      const run = parseOr(RunIdSchema, runId, 'run id');
      const [rows, anchorText] = await Promise.all([partition(client, table, run), anchors.read(run)]);
      if (rows.length === 0 && anchorText === undefined) throw new AuditRunNotFoundError(run, config.tableName);
      const kept = rows.map(snapshotRow);
      const texts: Record<string, string | null> = {};
      for (const ref of payloadRefs(kept)) texts[ref.blob] ??= await payloads.text(ref);
      return { runId: run, table: config.tableName, rows: kept, anchor: anchorText ?? null, payloads: texts };
    },
    async listRuns() {
      await table();
      const runs = new Map<string, { runId: string; lastWrite?: string; anchoredAt?: string }>();
      for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`RowKey eq ${HEAD_ROW_KEY}`, select: ['PartitionKey', 'Timestamp'] } })) {
        const runId = String(row.partitionKey);
        runs.set(runId, { runId, ...(typeof row.timestamp === 'string' ? { lastWrite: row.timestamp } : {}) });
      }
      for (const a of await anchors.runs()) runs.set(a.runId, { ...(runs.get(a.runId) ?? { runId: a.runId }), anchoredAt: a.anchoredAt });
      return [...runs.values()].sort((a, b) => a.runId.localeCompare(b.runId));
    },
    checkSnapshot(snapshot) {
      return verifySnapshot(snapshot, config.hmacKey);
    },
    async verify(runId) {
      return verifySnapshot(await this.snapshot(runId), config.hmacKey);
    },
    async readPayload(ref) {
      const loaded = await payloads.load(ref);
      if (!loaded.ok) throw new AuditCorruptError(`audit payload: ${loaded.error}`);
      return loaded.data;
    },
    async exportRun(runId) {
      const entries = await readRun(runId);
      return entries.map((e) => canonicalStringify(e) + '\n').join('');
    },
  };
}

function parseOr<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new AuditInputError(`invalid ${what} ${JSON.stringify(value)}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  return r.data;
}

async function partition(client: TableClient, table: () => Promise<void>, runId: string): Promise<RawRow[]> {
  await table();
  const rows: RawRow[] = [];
  for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${runId}` } })) {
    rows.push(row as RawRow);
  }
  return rows;
}

async function getOrNull(client: TableClient, pk: string, rk: string): Promise<Record<string, unknown> | null> {
  try {
    return await client.getEntity<Record<string, unknown>>(pk, rk);
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}

const statusOf = (err: unknown) => (err as { statusCode?: number } | null)?.statusCode;

type Pending = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash' | 'alg'>;
type Head = z.infer<typeof HeadSchema>;

/**
 * The head this process last committed, per run. A run's entries mostly come from one process one
 * after another, so the next append can go straight to the transaction: the head's ETag still
 * guards it, and the key row's create still refuses a repeat. A stale head costs one failed
 * transaction and a re-read, never a fork. Bounded: the oldest runs are forgotten first.
 */
class HeadCache {
  private readonly heads = new Map<string, Head>();
  constructor(private readonly max = 1000) {}
  get(runId: string): Head | undefined { return this.heads.get(runId); }
  set(runId: string, head: Head | undefined): void {
    this.heads.delete(runId);
    if (!head) return;
    this.heads.set(runId, head);
    if (this.heads.size > this.max) this.heads.delete(this.heads.keys().next().value!);
  }
}

async function appendWithRetry(client: TableClient, hasher: ChainHasher, maxAttempts: number, heads: HeadCache, p: Pending): Promise<AuditEntry> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let head: Head | null = null;
    const cached = attempt === 1 ? heads.get(p.runId) : undefined;
    if (cached && cached.alg === hasher.alg) {
      head = cached;
    } else {
      const [headRow, keyRow] = await Promise.all([
        getOrNull(client, p.runId, HEAD_ROW_KEY),
        getOrNull(client, p.runId, keyRowKey(p.key)),
      ]);
      if (keyRow) return existing(client, p, keyRow);
      if (headRow) head = parseHead(p.runId, headRow, hasher);
    }
    const seq = (head?.count ?? 0) + 1;
    const prevHash = head?.lastHash ?? GENESIS_HASH;
    const unsigned = { ...p, seq, prevHash };
    const entry: AuditEntry = { ...unsigned, hash: hasher.hash(unsigned), alg: hasher.alg };
    const headEntity = { partitionKey: p.runId, rowKey: HEAD_ROW_KEY, count: seq, lastHash: entry.hash, alg: hasher.alg };
    const actions: TransactionAction[] = [
      ['create', encodeEntry(entry)],
      ['create', { partitionKey: p.runId, rowKey: keyRowKey(p.key), seq, hash: entry.hash }],
      head ? ['update', headEntity, 'Replace', { etag: head.etag }] : ['create', headEntity],
    ];
    try {
      const response = await client.submitTransaction(actions);
      // Sub-responses come in the order of the actions (an update's carries no row key to look up by).
      const etag = response.subResponses[actions.length - 1]?.etag;
      heads.set(p.runId, etag ? { count: seq, lastHash: entry.hash, alg: hasher.alg, etag } : undefined);
      return entry;
    } catch (err) {
      heads.set(p.runId, undefined);
      const status = statusOf(err);
      // 412: the head moved since we read it; 409: another appender created our seq, head or key
      // row first. Either way re-read: the key row tells us if it was our own earlier attempt.
      if (status !== 409 && status !== 412) throw err;
      // A cached head that failed is simply stale: re-read at once, without backing off.
      if (!cached) await sleep(Math.min(200, 5 * attempt) * (0.5 + Math.random()));
    }
  }
  throw new AuditContentionError(`run ${p.runId}: could not append ${p.key} after ${maxAttempts} attempts under contention`);
}

function parseHead(runId: string, row: Record<string, unknown>, hasher: ChainHasher): Head {
  const parsed = HeadSchema.safeParse(row);
  if (!parsed.success) throw new AuditCorruptError(`run ${runId}: the head row is malformed; run "audit verify"`);
  if (parsed.data.alg !== hasher.alg) {
    throw new AuditConfigError(`run ${runId} was started with ${parsed.data.alg} and this writer uses ${hasher.alg}: a chain must not mix them`);
  }
  return parsed.data;
}

async function existing(client: TableClient, p: Pending, keyRow: Record<string, unknown>): Promise<AuditEntry> {
  const index = KeyIndexSchema.safeParse(keyRow);
  if (!index.success) throw new AuditCorruptError(`run ${p.runId}: key index row for ${p.key} is malformed; run "audit verify"`);
  const row = await getOrNull(client, p.runId, entryRowKey(index.data.seq));
  if (!row) throw new AuditCorruptError(`run ${p.runId}: key ${p.key} is indexed to entry ${index.data.seq}, which is missing; run "audit verify"`);
  const d = decodeEntry(row);
  if (!d.ok || d.entry.key !== p.key) {
    throw new AuditCorruptError(`run ${p.runId}: entry ${index.data.seq} indexed for key ${p.key} is not that entry; run "audit verify"`);
  }
  const differences = (['kind', 'actor', 'at', 'data'] as const).filter(
    (f) => canonicalStringify(d.entry[f]) !== canonicalStringify(p[f]),
  );
  if (differences.length > 0) {
    throw new AuditConflictError(
      `run ${p.runId}: key ${p.key} was already audited as entry ${d.entry.seq} with a different ${differences.join(', ')}; ` +
      'an audit entry is written once and never replaced',
      p.runId, p.key, differences,
    );
  }
  return d.entry;
}
