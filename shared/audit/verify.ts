// Walks one run's partition and explains what is wrong, in terms a compliance officer can act on:
// which chain position, and whether it was altered, deleted, inserted or moved. Pure: it takes
// the rows as read, so every tampering pattern is testable without storage.
import {
  GENESIS_HASH, HEAD_ROW_KEY, KEY_ROW_PREFIX, chainHasher, decodeEntry, isEntryRowKey, type ChainHasher,
} from './chain.js';
import { AuditConfigError } from './errors.js';
import { ChainAlgSchema, HashSchema, type AuditEntry, type AuditProblem, type VerifyReport } from './schema.js';
import { z } from 'zod';

export type RawRow = Record<string, unknown> & { partitionKey: string; rowKey: string };

const HeadRowSchema = z.object({ count: z.number().int().nonnegative(), lastHash: HashSchema, alg: ChainAlgSchema });
const KeyRowSchema = z.object({ seq: z.number().int().positive(), hash: HashSchema });

/**
 * Verifies the rows of one run. Throws AuditConfigError when the run is HMAC-protected and the
 * verifier has no key: "cannot check" must not look like either "intact" or "tampered".
 */
export function verifyRows(runId: string, rows: RawRow[], hasher: ChainHasher): VerifyReport {
  const problems: AuditProblem[] = [];
  const report = (p: AuditProblem) => problems.push(p);

  let head: VerifyReport['head'] = null;
  const headRow = rows.find((r) => r.rowKey === HEAD_ROW_KEY);
  if (headRow) {
    const parsed = HeadRowSchema.safeParse(headRow);
    if (parsed.success) head = parsed.data;
    else report({ type: 'altered', rowKey: HEAD_ROW_KEY, message: 'the head row is malformed, so the entry count and last hash are unknown' });
  } else if (rows.length > 0) {
    report({ type: 'deleted', rowKey: HEAD_ROW_KEY, message: 'the head row is missing, so the entry count and last hash are unknown' });
  }

  if (head && head.alg !== hasher.alg) {
    if (head.alg === 'hmac-sha256') {
      throw new AuditConfigError(`run ${runId} is HMAC-protected: configure the audit HMAC key to verify it`);
    }
    // A keyed verifier finding a plain chain: either written before the key existed, or rewritten
    // by someone without the key. Check the structure with the plain hash, and say so.
    report({ type: 'altered', rowKey: HEAD_ROW_KEY, message: 'the chain is plain SHA-256 but HMAC is required: it was written without the key or rewritten by someone who lacks it' });
    hasher = chainHasher();
  }

  // ---- Sort the partition's rows into entries, key index rows and strangers.
  const byPos = new Map<number, AuditEntry>();
  const keyRows = new Map<string, z.infer<typeof KeyRowSchema>>();
  const flagged = new Set<number>(); // positions already explained by a problem
  let entryRows = 0;
  for (const row of rows) {
    if (row.rowKey === HEAD_ROW_KEY) continue;
    if (row.rowKey.startsWith(KEY_ROW_PREFIX)) {
      const parsed = KeyRowSchema.safeParse(row);
      if (parsed.success) keyRows.set(row.rowKey.slice(KEY_ROW_PREFIX.length), parsed.data);
      else report({ type: 'altered', rowKey: row.rowKey, message: `key index row ${row.rowKey} is malformed` });
      continue;
    }
    if (!isEntryRowKey(row.rowKey)) {
      report({ type: 'inserted', rowKey: row.rowKey, message: `row "${row.rowKey}" is not part of the audit layout: something other than append wrote it` });
      continue;
    }
    entryRows++;
    const pos = Number(row.rowKey);
    const decoded = decodeEntry(row);
    if (!decoded.ok) {
      report({ type: 'altered', seq: pos, rowKey: row.rowKey, message: `entry ${pos} is unreadable: ${decoded.error}` });
      flagged.add(pos);
      continue;
    }
    byPos.set(pos, decoded.entry);
  }

  const count = head?.count ?? Math.max(0, ...byPos.keys(), ...flagged);
  const what = hasher.alg === 'hmac-sha256' ? 'its HMAC' : 'its hash';

  // ---- 1. Each entry against its own hash. A moved entry still hashes correctly as the entry it
  // really is, which tells "reordered" apart from "altered".
  const successorOf = new Map<string, number>(); // hash -> position of the entry recording it as prevHash
  for (const [pos, e] of byPos) successorOf.set(e.prevHash, pos);
  const identity = new Map<number, number>(); // position -> the chain position its content belongs to
  for (const [pos, e] of [...byPos].sort((a, b) => a[0] - b[0])) {
    if (pos > count) continue; // beyond the head: reported as inserted below, whatever it holds
    const selfOk = hasher.hash(e) === e.hash;
    if (selfOk && e.seq === pos) {
      identity.set(pos, pos);
      continue;
    }
    if (selfOk) {
      identity.set(pos, e.seq);
      flagged.add(pos);
      report({ type: 'reordered', seq: pos, message: `row ${pos} holds entry ${e.seq} (its content hashes correctly as entry ${e.seq})` });
      continue;
    }
    // The content may be another position's, with the seq left behind: that position is the one
    // whose successor names this hash as its predecessor (or the last, if the head names it).
    const candidates = new Set<number>();
    const succ = successorOf.get(e.hash);
    if (succ !== undefined) candidates.add(succ - 1);
    if (head && head.lastHash === e.hash) candidates.add(head.count);
    const alt = [...candidates].find((c) => c !== pos && c > 0 && hasher.hash({ ...e, seq: c }) === e.hash);
    flagged.add(pos);
    if (alt !== undefined) {
      identity.set(pos, alt);
      report({ type: 'reordered', seq: pos, message: `row ${pos} holds the content of entry ${alt}` });
    } else {
      report({ type: 'altered', seq: pos, message: `entry ${pos} (${e.kind}, key ${e.key}) does not match ${what}: its content was changed after it was written` });
    }
  }

  // ---- 2. Positions the head vouches for that have no row, and rows the head does not know.
  const claimed = new Set(identity.values());
  for (let pos = 1; pos <= count; pos++) {
    if (byPos.has(pos) || flagged.has(pos)) continue;
    if (claimed.has(pos)) continue; // it was moved, already reported as reordered
    report({ type: 'deleted', seq: pos, message: `entry ${pos} is missing: the chain has a gap${head ? ` (head records ${head.count} entries)` : ''}` });
  }
  for (const pos of byPos.keys()) {
    if (pos <= count || flagged.has(pos)) continue;
    flagged.add(pos);
    report({ type: 'inserted', seq: pos, message: `entry ${pos} is beyond the head, which records ${count} entries: it was added outside append` });
  }

  // ---- 3. Linkage between neighbours that are each intact. A break there means the earlier one
  // was rewritten and re-hashed: its successor's prevHash (covered by the successor's own, still
  // valid hash) preserves what it used to be.
  for (let pos = 1; pos <= count; pos++) {
    const e = byPos.get(pos);
    if (!e || flagged.has(pos)) continue;
    const nextRecorded = pos === count ? head?.lastHash : byPos.get(pos + 1)?.prevHash;
    const nextUsable = pos === count ? head !== null : byPos.has(pos + 1) && !flagged.has(pos + 1);
    if (nextUsable && nextRecorded !== e.hash) {
      flagged.add(pos);
      const by = pos === count ? 'the head' : `entry ${pos + 1}`;
      report({ type: 'altered', seq: pos, message: `entry ${pos} (${e.kind}, key ${e.key}) was rewritten and re-hashed: ${by} records a different hash for it` });
      continue;
    }
    if (pos === 1 && e.prevHash !== GENESIS_HASH) {
      flagged.add(pos);
      report({ type: 'inserted', seq: pos, message: 'entry 1 does not start a chain (its prevHash is not the genesis value): the start of the run was replaced' });
    }
  }

  // ---- 4. The key index: append writes it in the same transaction as the entry, so an intact,
  // linked entry without its index row lost that row afterwards.
  for (let pos = 1; pos <= count; pos++) {
    const e = byPos.get(pos);
    if (!e || flagged.has(pos)) continue;
    const k = keyRows.get(e.key);
    if (!k) {
      report({ type: 'deleted', seq: pos, rowKey: `${KEY_ROW_PREFIX}${e.key}`, message: `the key index row of entry ${pos} (key ${e.key}) is missing` });
    } else if (k.seq !== pos) {
      report({ type: 'inserted', seq: pos, message: `entry ${pos} repeats key ${e.key}, which the index assigns to entry ${k.seq}` });
    }
  }
  for (const [key, k] of keyRows) {
    const target = byPos.get(k.seq);
    if (!target || flagged.has(k.seq) || target.key === key) continue;
    report({ type: 'inserted', seq: k.seq, rowKey: `${KEY_ROW_PREFIX}${key}`, message: `key index row ${key} points at entry ${k.seq}, which has key ${target.key}` });
  }

  problems.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  return { runId, ok: problems.length === 0, entries: entryRows, head, problems };
}
