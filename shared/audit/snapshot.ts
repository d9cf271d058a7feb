// A run's trail as read, everything verify needs in one value: the partition's rows, the anchor's
// lines and the text of every payload blob an entry references. verify() online checks a snapshot
// it has just read; an evidence pack (shared/evidence) carries one, so `audit verify --file` runs
// the same checks offline, with no storage, and cannot come to another verdict than verify did.
import { chainHasher, decodeEntry, entryRowKey, isEntryRowKey } from './chain.js';
import { checkAnchor } from './anchor.js';
import { checkPayloadText, payloadOf, type PayloadRef } from './payloads.js';
import { verifyRows, type RawRow } from './verify.js';
import type { AuditEntry, VerifyReport } from './schema.js';

export interface TrailSnapshot {
  runId: string;
  /** The audit table it was read from (anchors are kept per table). */
  table: string;
  /** Every row of the run's partition, with the service's own fields (etag, timestamp) left out. */
  rows: RawRow[];
  /** The anchor blob's lines as stored, or null when the run has no anchor. */
  anchor: string | null;
  /** Referenced payload blobs by name: their text, or null when the blob is missing. */
  payloads: Record<string, string | null>;
}

/** What the table adds to an entity: not written by the app, not covered by any check. */
const SERVICE_FIELDS = new Set(['etag', 'timestamp', 'odata.etag', 'odata.metadata']);

export function snapshotRow(row: Record<string, unknown>): RawRow {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !SERVICE_FIELDS.has(k))) as RawRow;
}

/** The payload references of the rows that decode, for the snapshot to fetch. */
export function payloadRefs(rows: readonly RawRow[]): PayloadRef[] {
  const refs: PayloadRef[] = [];
  for (const row of rows) {
    if (!isEntryRowKey(row.rowKey)) continue;
    const d = decodeEntry(row);
    const ref = d.ok ? payloadOf(d.entry.data) : undefined;
    if (ref) refs.push(ref);
  }
  return refs;
}

/** The entries that decode, by chain position (tampered ones included: verify says which). */
export function entriesByPosition(rows: readonly RawRow[]): Map<number, AuditEntry> {
  const byPos = new Map<number, AuditEntry>();
  for (const row of rows) {
    if (!isEntryRowKey(row.rowKey)) continue;
    const d = decodeEntry(row);
    if (d.ok) byPos.set(Number(row.rowKey), d.entry);
  }
  return byPos;
}

/**
 * The chain, the payloads and the anchor of a snapshot. Throws AuditConfigError when the run is
 * HMAC-protected and no key is given ("cannot check" is neither intact nor tampered).
 */
export function verifySnapshot(s: TrailSnapshot, hmacKey: string | undefined): VerifyReport {
  const report = verifyRows(s.runId, s.rows, chainHasher(hmacKey));
  const byPos = entriesByPosition(s.rows);
  // The chain commits to an offloaded payload through its SHA-256: check each one too.
  for (const [pos, entry] of byPos) {
    const ref = payloadOf(entry.data);
    if (!ref) continue;
    const checked = checkPayloadText(ref, s.payloads[ref.blob]);
    if (!checked.ok) report.problems.push({ type: 'altered', seq: entry.seq, rowKey: entryRowKey(pos), message: `entry ${entry.seq} (${entry.key}): ${checked.error}` });
  }
  // The anchor, written outside the partition, against what the partition holds.
  const flagged = new Set(report.problems.flatMap((p) => (p.seq === undefined ? [] : [p.seq])));
  const anchored = checkAnchor(s.anchor ?? undefined, byPos, report.head?.count ?? null, hmacKey, flagged);
  report.problems.push(...anchored.problems);
  report.anchor = anchored.anchor;
  report.ok = report.problems.length === 0;
  return report;
}
