// Single use: a link is used when its id's row is inserted (partition: the run). The insert is
// the check, so two clicks racing cannot both pass: the second gets 409. The row keeps who used
// it, from where and with what, and what the decision was answered.
import type { TableClient } from '@azure/data-tables';
import { tableClient, tableOnFirstUse } from '../../../shared/storage/connection.js';

export interface LinkUse { user: string; decision: string; at: string; userAgent: string; address: string }

export class UsedLinks {
  private readonly client: TableClient;
  private readonly table: () => Promise<void>;
  constructor(connectionString: string, table: string) {
    this.client = tableClient(connectionString, table);
    this.table = tableOnFirstUse(this.client);
  }

  /** True when this call used the link; false when it was used before. */
  async claim(runId: string, linkId: string, use: LinkUse): Promise<boolean> {
    await this.table();
    try {
      await this.client.createEntity({ partitionKey: runId, rowKey: linkId, ...use, userAgent: use.userAgent.slice(0, 1000), address: use.address.slice(0, 200) });
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 409) return false;
      throw err;
    }
  }

  async isUsed(runId: string, linkId: string): Promise<LinkUse | undefined> {
    await this.table();
    try {
      return await this.client.getEntity<LinkUse>(runId, linkId);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** What the decision was answered (kept with the use, for whoever looks at the link again). */
  async answer(runId: string, linkId: string, status: number, outcome: string): Promise<void> {
    await this.client.updateEntity({ partitionKey: runId, rowKey: linkId, answerStatus: status, answer: outcome.slice(0, 2000) }, 'Merge');
  }

  /** The decision never reached the run (an error on our side): the link may be used again. */
  async release(runId: string, linkId: string): Promise<void> {
    try {
      await this.client.deleteEntity(runId, linkId);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }
}
