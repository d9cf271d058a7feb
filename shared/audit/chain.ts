// The hash chain and how an entry maps onto Table Storage rows. Pure apart from node:crypto, so
// the verifier and its edge cases are testable without a storage emulator.
import { createHash, createHmac } from 'node:crypto';
import { canonicalStringify, type JsonValue } from './canonical.js';
import { AuditEntrySchema, type AuditEntry, type ChainAlg, type HashedFields } from './schema.js';
import { AuditLimitError } from './errors.js';
import { noteEntitySize } from '../storage/entity-limits.js';

/** prevHash of the first entry of every run. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainHasher {
  readonly alg: ChainAlg;
  hash(fields: HashedFields): string;
}

/** The exact text that is hashed: canonical JSON of the brief's field set and nothing else. */
export function hashedText(f: HashedFields): string {
  return canonicalStringify({
    runId: f.runId, seq: f.seq, key: f.key, kind: f.kind, actor: f.actor, at: f.at, data: f.data, prevHash: f.prevHash,
  });
}

/**
 * A plain SHA-256 chain shows that rows were changed by someone who did not recompute every later
 * hash and the head. With an HMAC key (kept outside the storage account, e.g. in Key Vault) a
 * writer with table access but without the key cannot produce a chain that verifies at all.
 */
export function chainHasher(hmacKey?: string): ChainHasher {
  if (hmacKey !== undefined) {
    return { alg: 'hmac-sha256', hash: (f) => createHmac('sha256', hmacKey).update(hashedText(f), 'utf8').digest('hex') };
  }
  return { alg: 'sha256', hash: (f) => createHash('sha256').update(hashedText(f), 'utf8').digest('hex') };
}

// ---- Row layout -------------------------------------------------------------------------------
// One partition per run. Entry rows sort first (digits), then `head`, then `key:*` index rows.

export const SEQ_WIDTH = 10;
export const HEAD_ROW_KEY = 'head';
export const KEY_ROW_PREFIX = 'key:';
const ENTRY_ROW_KEY = /^\d{10}$/;

export function entryRowKey(seq: number): string {
  return String(seq).padStart(SEQ_WIDTH, '0');
}
export function isEntryRowKey(rowKey: string): boolean {
  return ENTRY_ROW_KEY.test(rowKey);
}
export function keyRowKey(key: string): string {
  return `${KEY_ROW_PREFIX}${key}`;
}

// ---- Azure entity limits ----------------------------------------------------------------------
// A String property holds at most 64 KiB of UTF-16, i.e. 32,768 code units; an entity at most
// 1 MiB. Chunks stay a little below the property limit so a size-accounting difference between
// Azure and Azurite can never turn into a rejected write in production.

export const MAX_STRING_CHARS = 32_768;
export const DATA_CHUNK_CHARS = 32_000;
export const MAX_ENTITY_BYTES = 1_048_576;

/** The entity size as Azure documents it: 4 + 2·len(PK+RK) + Σ(8 + 2·len(name) + value size). */
export function entitySizeBytes(entity: Record<string, unknown>): number {
  let size = 4;
  // Timestamp is a property the service adds: count it so the estimate never undershoots.
  size += 8 + 2 * 'Timestamp'.length + 8;
  for (const [name, value] of Object.entries(entity)) {
    if (name === 'partitionKey' || name === 'rowKey') {
      size += 2 * String(value).length;
      continue;
    }
    if (name === 'etag' || value === undefined) continue;
    size += 8 + 2 * name.length;
    if (typeof value === 'string') size += 4 + 2 * value.length;
    else if (typeof value === 'boolean') size += 1;
    else size += 8;
  }
  return size;
}

/** Splits text into chunks of at most `size` code units without cutting a surrogate pair in two. */
export function splitText(text: string, size = DATA_CHUNK_CHARS): string[] {
  if (text.length === 0) return [''];
  const parts: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(i + size, text.length);
    const last = text.charCodeAt(end - 1);
    // A lone high surrogate would be replaced by U+FFFD on the wire: keep the pair together.
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(text.slice(i, end));
    i = end;
  }
  return parts;
}

export type EntryEntity = Record<string, string | number> & { partitionKey: string; rowKey: string };

const dataProp = (i: number) => (i === 0 ? 'data' : `data${i}`);

/** The entity stored for an entry: its fields, the canonical data split into `data`, `data1`, ... */
export function encodeEntry(entry: AuditEntry): EntryEntity {
  const text = canonicalStringify(entry.data);
  const parts = splitText(text);
  const entity: EntryEntity = {
    partitionKey: entry.runId,
    rowKey: entryRowKey(entry.seq),
    runId: entry.runId,
    seq: entry.seq,
    key: entry.key,
    kind: entry.kind,
    actor: entry.actor,
    at: entry.at,
    prevHash: entry.prevHash,
    hash: entry.hash,
    alg: entry.alg,
    dataParts: parts.length,
  };
  parts.forEach((p, i) => { entity[dataProp(i)] = p; });
  for (const [name, value] of Object.entries(entity)) {
    if (typeof value === 'string' && value.length > MAX_STRING_CHARS) {
      throw new AuditLimitError(`audit entry ${entry.key} of run ${entry.runId}: property ${name} is ${value.length} characters; Azure allows ${MAX_STRING_CHARS}`);
    }
  }
  const size = entitySizeBytes(entity);
  noteEntitySize(size, `audit ${entry.runId}/${entry.key}`);
  if (size > MAX_ENTITY_BYTES) {
    throw new AuditLimitError(
      `audit entry ${entry.key} of run ${entry.runId} would be ${size} bytes (data: ${text.length} characters in ${parts.length} parts); ` +
      `an Azure table entity holds at most ${MAX_ENTITY_BYTES} bytes. Store the payload in blob storage and audit its URI and SHA-256 instead.`,
    );
  }
  return entity;
}

export type Decoded = { ok: true; entry: AuditEntry } | { ok: false; error: string };

/** Reads an entry row back; a row that is not a well-formed entry is reported, never thrown. */
export function decodeEntry(row: Record<string, unknown>): Decoded {
  const partsRaw = row.dataParts;
  if (typeof partsRaw !== 'number' || !Number.isInteger(partsRaw) || partsRaw < 1 || partsRaw > 64) {
    return { ok: false, error: 'dataParts is missing or invalid' };
  }
  let text = '';
  for (let i = 0; i < partsRaw; i++) {
    const part = row[dataProp(i)];
    if (typeof part !== 'string') return { ok: false, error: `data part ${dataProp(i)} is missing` };
    text += part;
  }
  let data: JsonValue;
  try {
    data = JSON.parse(text) as JsonValue;
  } catch {
    return { ok: false, error: 'data is not valid JSON' };
  }
  // The hash covers the parsed value, so an edit that only changes formatting would otherwise pass.
  if (canonicalStringify(data) !== text) return { ok: false, error: 'data is not in the canonical form it was written in' };
  const parsed = AuditEntrySchema.safeParse({
    runId: row.runId, seq: row.seq, key: row.key, kind: row.kind, actor: row.actor, at: row.at,
    data, prevHash: row.prevHash, hash: row.hash, alg: row.alg,
  });
  if (!parsed.success) {
    return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.') || 'entry'}: ${i.message}`).join('; ') };
  }
  return { ok: true, entry: parsed.data };
}
