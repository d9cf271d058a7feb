// What the app sent, per run: the dispatch activity records each command (site, step, attempt)
// before it is sent, so a result can be matched against the command it claims to answer.
import type { TableClient } from '@azure/data-tables';
import { tableClient, tableOnFirstUse } from '../storage/connection.js';

export interface SentCommand {
  runId: string;
  commandId: string;
  stepId: string;
  site: string;
  attempt: number;
}

export class SentCommands {
  private readonly client: TableClient;
  private readonly table: () => Promise<void>;
  constructor(connectionString: string, table: string) {
    this.client = tableClient(connectionString, table);
    this.table = tableOnFirstUse(this.client);
  }

  /** Idempotent: a redelivered dispatch writes the same row. Run and command ids are key-safe (their schemas). */
  async record(c: SentCommand): Promise<void> {
    await this.table();
    await this.client.upsertEntity({ partitionKey: c.runId, rowKey: c.commandId, stepId: c.stepId, site: c.site, attempt: c.attempt }, 'Replace');
  }

  async find(runId: string, commandId: string): Promise<SentCommand | undefined> {
    // eslint-disable-next-line no-control-regex -- characters Table keys forbid: such a result names no command of ours
    if (/[/\\#?\u0000-\u001f\u007f-\u009f]/.test(runId + commandId)) return undefined;
    await this.table();
    try {
      const e = await this.client.getEntity<{ stepId: string; site: string; attempt: number }>(runId, commandId);
      return { runId, commandId, stepId: e.stepId, site: e.site, attempt: e.attempt };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }
}
