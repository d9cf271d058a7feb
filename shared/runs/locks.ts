// Run locks: one row per locked resource (a pool, the pChat pool, the CMS) in a table. Rows are
// inserted in one entity-group transaction, so a run gets all its locks or none; the insert fails
// when a row exists, which is the guard (no read-then-write race). Release deletes only the rows
// this run holds, each under the ETag it was read with.
//
// The API reserves a run's locks when it accepts the run (reserved: true, before the Durable
// instance exists), so of two overlapping starts one is refused at once; the run's own
// acquisition finds the rows already its own and confirms them. A reservation whose run never
// came to exist is released by the next start after LYNCDR_LOCK_RESERVATION_SECONDS.
//
// Shared locks (SHARED_LOCKS: what read-only runbooks take) are one row per holder, so any number
// of runs hold them at once; no run takes them exclusively.
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { tableClient, tableOnFirstUse } from '../storage/connection.js';

const PARTITION = 'locks';
/** Locks many runs hold at once: readiness reads the estate and changes nothing. */
export const SHARED_LOCKS: ReadonlySet<string> = new Set(['readiness']);
export const isShared = (lock: string) => SHARED_LOCKS.has(lock);
/** Row keys may not contain / \ # ? or control characters: keep a readable, reversible form. */
export const lockRowKey = (lock: string) => encodeURIComponent(lock).replace(/%/g, '~');
const rowKeyOf = (lock: string, runId: string) => (isShared(lock) ? `${lockRowKey(lock)}@${lockRowKey(runId)}` : lockRowKey(lock));

export type AcquireResult = { ok: true } | { ok: false; lock: string; heldBy: string; since?: string; reserved?: boolean };
export interface LockRow { lock: string; runId: string; since?: string; reserved?: boolean }

export class RunLocks {
  private readonly client: TableClient;
  private readonly table: () => Promise<void>;
  constructor(connectionString: string, table: string) {
    this.client = tableClient(connectionString, table);
    this.table = tableOnFirstUse(this.client);
  }

  /** All or none; `reserved` for the API's reservation at acceptance, which the run's own acquisition confirms. */
  async acquire(runId: string, locks: string[], at: string, opts: { reserved?: boolean } = {}): Promise<AcquireResult> {
    await this.table();
    const unique = [...new Set(locks)];
    const actions: TransactionAction[] = unique.map((lock) => ['create', { partitionKey: PARTITION, rowKey: rowKeyOf(lock, runId), lock, runId, since: at, reserved: !!opts.reserved }]);
    try {
      await this.client.submitTransaction(actions);
      return { ok: true };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
    }
    // Someone holds at least one: if every row is ours, this is a redelivered activity or our reservation.
    const held = (await this.holders(unique)).filter((h) => !isShared(h.lock) || h.runId === runId);
    const foreign = held.find((h) => h.runId !== runId);
    if (foreign) return { ok: false, lock: foreign.lock, heldBy: foreign.runId, since: foreign.since, reserved: foreign.reserved };
    if (held.length === unique.length) {
      if (!opts.reserved) await this.confirm(runId, held.filter((h) => h.reserved).map((h) => h.lock));
      return { ok: true };
    }
    // A lock was released between our insert and our read: try again once, from scratch.
    return this.acquire(runId, unique, at, opts);
  }

  /** The run exists and took its reserved rows: they are held now, not reserved. */
  private async confirm(runId: string, locks: string[]): Promise<void> {
    if (!locks.length) return;
    await this.client.submitTransaction(locks.map((lock) => ['update', { partitionKey: PARTITION, rowKey: rowKeyOf(lock, runId), reserved: false }, 'Merge']));
  }

  async release(runId: string, locks: string[]): Promise<number> {
    await this.table();
    let released = 0;
    for (const lock of new Set(locks)) {
      try {
        const row = await this.client.getEntity<{ runId: string }>(PARTITION, rowKeyOf(lock, runId));
        if (row.runId !== runId) continue;
        await this.client.deleteEntity(PARTITION, rowKeyOf(lock, runId), { etag: row.etag });
        released++;
      } catch (err) {
        if (![404, 412].includes((err as { statusCode?: number }).statusCode ?? 0)) throw err;
      }
    }
    return released;
  }

  async holders(locks?: string[]): Promise<LockRow[]> {
    await this.table();
    const out: LockRow[] = [];
    for await (const e of this.client.listEntities<LockRow>({ queryOptions: { filter: odata`PartitionKey eq ${PARTITION}` } })) {
      if (!locks || locks.includes(e.lock)) out.push({ lock: e.lock, runId: e.runId, since: e.since, ...(e.reserved ? { reserved: true } : {}) });
    }
    return out;
  }
}
