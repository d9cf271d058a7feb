// evidence.json: a run's evidence sections, the verification found when the pack was made, and the
// trail itself (rows, anchor, payloads) they were derived from. verifyPack checks a pack with no
// storage: the trail by the very checks `audit verify` runs (verifySnapshot), and every section
// against what the trail says, so an edit to the readable part is found as surely as one to the
// trail. With a plain SHA-256 chain this proves the pack is self-consistent; with the HMAC key it
// also proves the app wrote it (README, "Evidence packs").
import { z } from 'zod';
import { canonicalStringify, verifySnapshot, type TrailSnapshot, type VerifyReport, type AuditProblem } from '../audit/index.js';
import { evidenceSections, type EvidenceSections } from './build.js';

export const EVIDENCE_FORMAT = 'lyncdr-evidence';
export const EVIDENCE_VERSION = 1;

export interface EvidencePack extends EvidenceSections {
  format: typeof EVIDENCE_FORMAT;
  v: typeof EVIDENCE_VERSION;
  /** When and by what the pack was made: not derived from the trail, so not checked against it. */
  generatedAt: string;
  generatedBy: string;
  verification: VerifyReport;
  trail: TrailSnapshot;
}

/** The sections verifyPack derives again from the trail and compares, in the pack's order. */
export const DERIVED_SECTIONS = ['run', 'plan', 'approvals', 'commands', 'confirmations', 'decisions', 'measures', 'deviations', 'timeline'] as const;

export function makePack(snapshot: TrailSnapshot, verification: VerifyReport, generatedAt: string, generatedBy: string): EvidencePack {
  return { format: EVIDENCE_FORMAT, v: EVIDENCE_VERSION, generatedAt, generatedBy, ...evidenceSections(snapshot), verification, trail: snapshot };
}

/** The pack is not one this version can read: "cannot check", never intact or tampered. */
export class EvidenceFormatError extends Error {
  override name = 'EvidenceFormatError';
}

const RowSchema = z.looseObject({ partitionKey: z.string(), rowKey: z.string() });
const PackEnvelope = z.looseObject({
  format: z.literal(EVIDENCE_FORMAT),
  v: z.literal(EVIDENCE_VERSION),
  trail: z.strictObject({
    runId: z.string().min(1),
    table: z.string().min(1),
    rows: z.array(RowSchema),
    anchor: z.string().nullable(),
    payloads: z.record(z.string(), z.string().nullable()),
  }),
});

/** The first place two JSON values differ, as a path (`approvals[0].votes[1].channel`). */
export function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (a === undefined || b === undefined) return a === b ? undefined : path || '(root)';
  if (canonicalStringify(a as never) === canonicalStringify(b as never)) return undefined;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path || '(root)'} (${a.length} items, the trail gives ${b.length})`;
    for (let i = 0; i < a.length; i++) { const d = firstDifference(a[i], b[i], `${path}[${i}]`); if (d) return d; }
  } else if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) { const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k); if (d) return d; }
  }
  return path || '(root)';
}

/**
 * Verifies a pack read from a file. Throws EvidenceFormatError for a file that is not a pack and
 * AuditConfigError for an HMAC-protected trail without the key.
 */
export function verifyPack(raw: unknown, hmacKey: string | undefined): VerifyReport {
  const env = PackEnvelope.safeParse(raw);
  if (!env.success) throw new EvidenceFormatError(`not a lyncdr evidence pack (format ${EVIDENCE_FORMAT}, version ${EVIDENCE_VERSION}): ${env.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ')}`);
  const trail = env.data.trail as TrailSnapshot;
  const report = verifySnapshot(trail, hmacKey);
  const problems: AuditProblem[] = [];
  for (const row of trail.rows) {
    if (row.partitionKey !== trail.runId) problems.push({ type: 'inserted', rowKey: row.rowKey, message: `row ${row.rowKey} belongs to partition ${row.partitionKey}, not to run ${trail.runId}` });
  }
  const pack = raw as Record<string, unknown>;
  const derived = evidenceSections(trail);
  for (const name of DERIVED_SECTIONS) {
    const where = firstDifference(pack[name], derived[name]);
    if (where) problems.push({ type: 'altered', rowKey: 'evidence', message: `the pack's ${name} section is not what its trail says (first difference at ${where}): it was edited after the pack was made` });
  }
  // What the pack says verification found, against what the same checks find now.
  const stated = pack.verification as VerifyReport | undefined;
  const now = { ...report, problems: [...report.problems] };
  const where = firstDifference(stated, now);
  if (where) problems.push({ type: 'altered', rowKey: 'evidence', message: `the pack's verification section says ${stated?.ok === true ? 'intact' : stated?.ok === false ? `${stated.problems?.length ?? '?'} problem(s)` : 'nothing readable'}, and the checks find ${now.ok ? 'the trail intact' : `${now.problems.length} problem(s)`} (first difference at ${where})` });
  report.problems.push(...problems);
  report.ok = report.problems.length === 0;
  return report;
}
