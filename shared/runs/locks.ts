// Run locks: one row per locked resource (a pool, the pChat pool, the CMS) in a table. Rows are
// inserted in one entity-group transaction, so a run gets all its locks or none; the insert fails
// when a row exists, which is the guard (no read-then-write race). Release deletes only the rows
// this run holds, each under the ETag it was read with.
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { tableClient, tableOnFirstUse } from '../storage/connection.js';

const PARTITION = 'locks';
/** Row keys may not contain / \ # ? or control characters: keep a readable, reversible form. */
export const lockRowKey = (lock: string) => encodeURIComponent(lock).replace(/%/g, '~');

export type AcquireResult = { ok: true } | { ok: false; lock: string; heldBy: string; since?: string };

export class RunLocks {
  private readonly client: TableClient;
  private readonly table: () => Promise<void>;
  constructor(connectionString: string, table: string) {
    this.client = tableClient(connectionString, table);
    this.table = tableOnFirstUse(this.client);
  }

  async acquire(runId: string, locks: string[], at: string): Promise<AcquireResult> {
    await this.table();
    const unique = [...new Set(locks)];
    const actions: TransactionAction[] = unique.map((lock) => ['create', { partitionKey: PARTITION, rowKey: lockRowKey(lock), lock, runId, since: at }]);
    try {
      await this.client.submitTransaction(actions);
      return { ok: true };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
    }
    // Someone holds at least one: if every row is ours, this is a redelivered activity.
    const held = await this.holders(unique);
    const foreign = held.find((h) => h.runId !== runId);
    if (foreign) return { ok: false, lock: foreign.lock, heldBy: foreign.runId, since: foreign.since };
    if (held.length === unique.length) return { ok: true };
    // A lock was released between our insert and our read: try again once, from scratch.
    return this.acquire(runId, unique, at);
  }

  async release(runId: string, locks: string[]): Promise<number> {
    await this.table();
    let released = 0;
    for (const lock of new Set(locks)) {
      try {
        const row = await this.client.getEntity<{ runId: string }>(PARTITION, lockRowKey(lock));
        if (row.runId !== runId) continue;
        await this.client.deleteEntity(PARTITION, lockRowKey(lock), { etag: row.etag });
        released++;
      } catch (err) {
        if (![404, 412].includes((err as { statusCode?: number }).statusCode ?? 0)) throw err;
      }
    }
    return released;
  }

  async holders(locks?: string[]): Promise<Array<{ lock: string; runId: string; since?: string }>> {
    await this.table();
    const out: Array<{ lock: string; runId: string; since?: string }> = [];
    for await (const e of this.client.listEntities<{ lock: string; runId: string; since?: string }>({ queryOptions: { filter: odata`PartitionKey eq ${PARTITION}` } })) {
      if (!locks || locks.includes(e.lock)) out.push({ lock: e.lock, runId: e.runId, since: e.since });
    }
    return out;
  }
}
