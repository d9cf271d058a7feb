// The trail's anchor: each run's chain head, written at the points that matter (the run declared,
// each gate decided, the run ended) outside the run's partition, to an append blob. Someone with
// write access to the table can cut a trail's tail and rewrite its head row, or delete the whole
// partition, and the chain alone cannot tell (a plain SHA-256 chain can even be recomputed). The
// anchor still holds what the chain was at those points. In Azure its container has a time-based
// immutability policy with protected append writes (infra/modules/audit-anchors.bicep): blocks can
// be appended, never changed or deleted, so the app can add to an anchor but not rewrite it.
import { createHash, createHmac } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import { canonicalStringify } from './canonical.js';
import { blobService } from '../storage/connection.js';
import { ChainAlgSchema, HashSchema, type AuditEntry, type AuditProblem, type ChainAlg } from './schema.js';

export const DEFAULT_ANCHOR_CONTAINER = 'lyncdr-audit-anchors';

/** The entries whose position and hash are anchored. */
export const ANCHORED_KINDS: ReadonlySet<string> = new Set(['run-declared', 'gate-decided', 'run-completed', 'run-failed', 'run-aborted']);
/** Kinds that end a run: an anchor holding one says the run is over, and how long its trail is. */
export const END_KINDS: ReadonlySet<string> = new Set(['run-completed', 'run-failed', 'run-aborted']);
/**
 * What the app may still write to a run's trail after its end: another run that takes over a
 * stale lock records the release in the holder's trail (functions/activities/runs.ts releaseStale).
 */
export const AFTER_END_KINDS: ReadonlySet<string> = new Set(['lock-released']);

const AnchorFields = z.strictObject({
  runId: z.string().min(1), seq: z.number().int().positive(), hash: HashSchema, key: z.string().min(1), kind: z.string().min(1), at: z.string().min(1),
});
const AnchorLineSchema = AnchorFields.extend({ alg: ChainAlgSchema, mac: HashSchema });
export type AnchorLine = z.infer<typeof AnchorLineSchema>;

/** What verify says of a run's anchor (null: the run has none, e.g. written before anchors existed). */
export interface AnchorSummary {
  lines: number;
  /** The highest position anchored with a valid MAC, its kind and when it was written. */
  last: { seq: number; kind: string; key: string; at: string } | null;
  /** The anchor holds a run-end entry: the trail must end exactly there. */
  ended: boolean;
}

const seal = (hmacKey: string | undefined, f: z.infer<typeof AnchorFields>): { alg: ChainAlg; mac: string } => {
  const text = canonicalStringify(f);
  return hmacKey !== undefined
    ? { alg: 'hmac-sha256', mac: createHmac('sha256', hmacKey).update(`anchor\n${text}`, 'utf8').digest('hex') }
    : { alg: 'sha256', mac: createHash('sha256').update(`anchor\n${text}`, 'utf8').digest('hex') };
};

/** One anchor line for an entry (canonical JSON and a newline). */
export function anchorLine(entry: AuditEntry, hmacKey?: string): string {
  const f = { runId: entry.runId, seq: entry.seq, hash: entry.hash, key: entry.key, kind: entry.kind, at: entry.at };
  return `${canonicalStringify({ ...f, ...seal(hmacKey, f) })}\n`;
}

export class AuditAnchors {
  private readonly container: ContainerClient;
  private ready: Promise<unknown> | undefined;
  constructor(connectionString: string, private readonly tableName: string, private readonly hmacKey: string | undefined, readonly containerName = DEFAULT_ANCHOR_CONTAINER) {
    this.container = blobService(connectionString).getContainerClient(containerName);
  }

  // One anchor per table and run: two trails (two apps, or tests) never share one.
  private blob(runId: string) {
    return this.container.getAppendBlobClient(`${this.tableName}/${encodeURIComponent(runId)}.jsonl`);
  }

  private ensure(): Promise<unknown> {
    return (this.ready ??= this.container.createIfNotExists().catch((err: unknown) => { this.ready = undefined; throw err; }));
  }

  /** Appends the entry's position and hash when its kind is anchored; a repeat (a retried append) adds an equal line. */
  async record(entry: AuditEntry): Promise<void> {
    if (!ANCHORED_KINDS.has(entry.kind)) return;
    await this.ensure();
    const blob = this.blob(entry.runId);
    await blob.createIfNotExists();
    const line = anchorLine(entry, this.hmacKey);
    await blob.appendBlock(line, Buffer.byteLength(line));
  }

  /** Every run anchored for this table, with when its anchor was last appended to. */
  async runs(): Promise<{ runId: string; anchoredAt: string }[]> {
    await this.ensure();
    const prefix = `${this.tableName}/`;
    const out: { runId: string; anchoredAt: string }[] = [];
    for await (const b of this.container.listBlobsFlat({ prefix })) {
      if (!b.name.endsWith('.jsonl')) continue;
      out.push({ runId: decodeURIComponent(b.name.slice(prefix.length, -'.jsonl'.length)), anchoredAt: b.properties.lastModified.toISOString() });
    }
    return out;
  }

  /** The run's anchor lines as stored, or undefined when it has none. */
  async read(runId: string): Promise<string | undefined> {
    try {
      return (await this.blob(runId).downloadToBuffer()).toString('utf8');
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404) return undefined;
      throw err;
    }
  }

  /** The anchor's findings against the entries read from the table (by position) and the head row. */
  check(text: string | undefined, byPos: ReadonlyMap<number, AuditEntry>, headCount: number | null, flagged: ReadonlySet<number>): { anchor: AnchorSummary | null; problems: AuditProblem[] } {
    return checkAnchor(text, byPos, headCount, this.hmacKey, flagged);
  }
}

/**
 * Compares a trail with its anchor. Pure, so each tampering pattern is testable without storage.
 * An anchored position that the table no longer holds, or holds with another hash, is named with
 * when the anchor was written; a trail that goes on past an anchored run end was added to after
 * the run ended. `flagged`: positions the chain's own check already reported (not named twice).
 */
export function checkAnchor(text: string | undefined, byPos: ReadonlyMap<number, AuditEntry>, headCount: number | null, hmacKey: string | undefined, flagged: ReadonlySet<number> = new Set()):
  { anchor: AnchorSummary | null; problems: AuditProblem[] } {
  if (text === undefined) return { anchor: null, problems: [] };
  const problems: AuditProblem[] = [];
  const good = new Map<string, AnchorLine>();
  const lines = text.split('\n').filter((l) => l !== '');
  lines.forEach((raw, i) => {
    let parsed: z.ZodSafeParseResult<AnchorLine>;
    try { parsed = AnchorLineSchema.safeParse(JSON.parse(raw)); } catch { parsed = AnchorLineSchema.safeParse(undefined); }
    if (!parsed.success) { problems.push({ type: 'altered', rowKey: 'anchor', message: `anchor line ${i + 1} is not an anchor record` }); return; }
    const { alg, mac, ...fields } = parsed.data;
    if (alg === 'hmac-sha256' && hmacKey === undefined) {
      problems.push({ type: 'altered', rowKey: 'anchor', message: `anchor line ${i + 1} is HMAC-sealed: configure the audit HMAC key to check it` });
      return;
    }
    const expected = seal(hmacKey, fields);
    if (alg !== expected.alg || mac !== expected.mac) {
      problems.push({ type: 'altered', rowKey: 'anchor', message: `anchor line ${i + 1} (entry ${fields.seq}) does not match its ${expected.alg === 'hmac-sha256' ? 'HMAC' : 'hash'}: it was not written by this app` });
      return;
    }
    good.set(`${fields.seq}:${fields.hash}`, parsed.data);
  });
  const anchored = [...good.values()].sort((a, b) => a.seq - b.seq);
  const last = anchored.at(-1);
  const end = anchored.find((a) => END_KINDS.has(a.kind));
  const trailEnd = Math.max(headCount ?? 0, ...byPos.keys());
  const where = (a: AnchorLine) => `entry ${a.seq} (${a.kind}, key ${a.key}), anchored when it was written at ${a.at}`;

  if (byPos.size === 0 && headCount === null && last) {
    problems.push({ type: 'deleted', message: `the run's whole trail is gone from the table: its anchor records ${last.seq} entries, up to ${where(last)}` });
  } else {
    for (const a of anchored) {
      if (flagged.has(a.seq)) continue;
      const e = byPos.get(a.seq);
      if (!e) {
        if (a.seq > trailEnd) continue; // reported once below, as a cut tail
        problems.push({ type: 'deleted', seq: a.seq, message: `${where(a)}, is missing from the table` });
      } else if (e.hash !== a.hash) {
        problems.push({ type: 'altered', seq: a.seq, message: `${where(a)}, is not the entry the table holds there: the trail was rewritten from there on` });
      }
    }
    if (last && last.seq > trailEnd) {
      problems.push({ type: 'deleted', seq: trailEnd + 1, message: `entries ${trailEnd + 1} to ${last.seq} are missing: the table's trail ends at entry ${trailEnd}${headCount !== null ? ` and its head row says ${headCount}` : ''}, but the anchor holds ${where(last)}` });
    }
    const after = end ? Array.from({ length: Math.max(0, trailEnd - end.seq) }, (_, i) => end.seq + 1 + i) : [];
    const foreign = after.filter((pos) => !flagged.has(pos) && byPos.has(pos) && !AFTER_END_KINDS.has(byPos.get(pos)!.kind));
    if (end && foreign.length) {
      problems.push({ type: 'inserted', seq: foreign[0], message: `entr${foreign.length > 1 ? 'ies' : 'y'} ${foreign.join(', ')} come${foreign.length > 1 ? '' : 's'} after the run's end, and the app writes nothing there but lock releases: the anchor holds ${where(end)}` });
    }
  }
  return { anchor: { lines: lines.length, last: last ? { seq: last.seq, kind: last.kind, key: last.key, at: last.at } : null, ended: !!end }, problems };
}
