// Which notification went to whom: one row per run (partition), notification key and recipient.
// The sender asks before it sends and records after it sent (see sender.ts for why in that order).
import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { tableClient, tableOnFirstUse } from '../../../shared/storage/connection.js';

export interface SentRow { key: string; recipient: string; address: string; messageId: string; sentAt: string; kind: string }

// Row keys may not hold / \ # ? or control characters; a digest of the pair is safe and fixed-size.
const rowKey = (key: string, recipient: string) => createHash('sha256').update(`${key}\n${recipient}`).digest('hex');

export class SentLog {
  private readonly client: TableClient;
  private readonly table: () => Promise<void>;
  constructor(connectionString: string, table: string) {
    this.client = tableClient(connectionString, table);
    this.table = tableOnFirstUse(this.client);
  }

  async wasSent(runId: string, key: string, recipient: string): Promise<boolean> {
    await this.table();
    try {
      await this.client.getEntity(runId, rowKey(key, recipient));
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      throw err;
    }
  }

  /** Upsert: a second execution that sent the same message records the same row. */
  async record(runId: string, row: SentRow): Promise<void> {
    await this.table();
    await this.client.upsertEntity({ partitionKey: runId, rowKey: rowKey(row.key, row.recipient), ...row }, 'Replace');
  }

  async rows(runId: string): Promise<SentRow[]> {
    await this.table();
    const out: SentRow[] = [];
    for await (const e of this.client.listEntities<SentRow>({ queryOptions: { filter: odata`PartitionKey eq ${runId}` } })) out.push(e);
    return out;
  }
}
