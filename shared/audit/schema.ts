// The shapes of the audit trail. Inputs are parsed at the boundary (activities pass what the
// orchestrator gave them); stored rows are parsed again on read because the table is exactly the
// thing a tamperer would edit.
import { z } from 'zod';
import type { AnchorSummary } from './anchor.js';

export const AUDIT_KINDS = [
  'run-declared',
  'plan',
  'approval-requested',
  'vote',
  'gate-escalated',
  'gate-decided',
  'step-dispatched',
  'step-result',
  'result-refused',
  'step-timed-out',
  'precondition-checked',
  'postcondition-checked',
  'operator-decision',
  'manual-confirmed',
  'rto-rpo',
  'failback-state',
  'run-completed',
  'run-failed',
  'run-aborted',
  'lock-released',
  'run-paused',
  'run-resumed',
  // A schedule's trail (partition schedule-<name>): each occurrence, run, skipped or missed.
  'schedule-occurrence',
] as const;
export const AuditKindSchema = z.enum(AUDIT_KINDS);
export type AuditKind = z.infer<typeof AuditKindSchema>;

// Run ids become PartitionKeys and entry keys become part of RowKeys. Azure forbids / \ # ? and
// control characters there, and quotes or spaces make OData filters and URLs fragile, so an
// allow-list is used rather than trying to escape.
const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._:@=+,-]*$/;
export const RunIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(SAFE_KEY, 'run id: letters, digits and . _ : @ = + , - only, starting with a letter or digit');
export const EntryKeySchema = z
  .string()
  .min(1)
  .max(400)
  .regex(SAFE_KEY, 'entry key: letters, digits and . _ : @ = + , - only, starting with a letter or digit');

// Control characters in an actor would let a crafted name rewrite the CLI's terminal output.
export const ActorSchema = z
  .string()
  .min(1)
  .max(256)
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  .regex(/^[^\u0000-\u001f\u007f-\u009f]+$/, 'actor: no control characters');

/** What a caller appends. `at` comes from the caller because orchestrations own the clock. */
export const AuditEntryInputSchema = z.strictObject({
  kind: AuditKindSchema,
  actor: ActorSchema,
  at: z.iso.datetime({ offset: true }),
  data: z.unknown(),
});
export type AuditEntryInput = z.input<typeof AuditEntryInputSchema>;

export const HashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');
export const ChainAlgSchema = z.enum(['sha256', 'hmac-sha256']);
export type ChainAlg = z.infer<typeof ChainAlgSchema>;

/** The fields the hash covers, in the brief's words: {runId, seq, key, kind, actor, at, data, prevHash}. */
export interface HashedFields {
  runId: string;
  seq: number;
  key: string;
  kind: string;
  actor: string;
  at: string;
  data: unknown;
  prevHash: string;
}

/**
 * A stored entry as read back. `kind` is any string here: a trail written by an older or newer
 * version with kinds this build does not know must still verify.
 */
export const AuditEntrySchema = z.strictObject({
  runId: RunIdSchema,
  seq: z.number().int().positive(),
  key: EntryKeySchema,
  kind: z.string().min(1),
  actor: ActorSchema,
  at: z.string().min(1),
  data: z.json(),
  prevHash: HashSchema,
  hash: HashSchema,
  alg: ChainAlgSchema,
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** One finding of verify(). `seq` is the chain position (RowKey) the problem is about. */
export interface AuditProblem {
  type: 'altered' | 'deleted' | 'inserted' | 'reordered';
  seq?: number;
  rowKey?: string;
  message: string;
}

export interface VerifyReport {
  runId: string;
  ok: boolean;
  /** Entry rows found in the partition (tampered ones included). */
  entries: number;
  /** What the head row claims: entry count and last hash (null when the head is missing). */
  head: { count: number; lastHash: string; alg: ChainAlg } | null;
  problems: AuditProblem[];
  /** The run's anchor outside the table (shared/audit/anchor.ts); null when it has none. */
  anchor?: AnchorSummary | null;
}
