// The run-steps table: one row per step of a run (partition: the run id, row: the step id), so a
// run's details scale with its plan while its customStatus stays small. The run's activities
// write the rows (the plan builder the first ones, then whichever activity the run calls next);
// each carries the run's write counter, and a row is replaced only by a newer one, so a retried
// or redelivered activity never puts an older state back. The API and the CLI read them.
import { odata, type TableClient, type TableEntity } from '@azure/data-tables';
import { checkEntity, joinText, splitText } from '../storage/entity-limits.js';
import { tableClient, tableOnFirstUse } from '../storage/connection.js';
import { StepRow } from './contract.js';

/** Row keys may not contain / \ # ? or control characters: a readable, reversible form. */
export const stepRowKey = (stepId: string) => encodeURIComponent(stepId).replace(/%/g, '~');

type Entity = TableEntity<Record<string, unknown>> & { seq: number };

const toEntity = (runId: string, row: StepRow): Entity => {
  const entity = { partitionKey: runId, rowKey: stepRowKey(row.stepId), seq: row.seq, state: row.state, ...splitText('row', JSON.stringify(row)) };
  checkEntity(entity);
  return entity;
};

function fromEntity(e: Record<string, unknown>): StepRow | undefined {
  const text = joinText('row', e);
  if (text === undefined) return undefined;
  const parsed = StepRow.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : undefined;
}

export class RunStepsTable {
  private readonly client: TableClient;
  private readonly table: () => Promise<void>;
  constructor(connectionString: string, readonly tableName: string) {
    this.client = tableClient(connectionString, tableName);
    this.table = tableOnFirstUse(this.client);
  }

  /** Writes each row unless the table already holds a newer (or the same) one for its step. */
  async write(runId: string, rows: StepRow[]): Promise<void> {
    if (!rows.length) return;
    await this.table();
    // Rows of one step in one call: the newest wins.
    const latest = new Map<string, StepRow>();
    for (const r of rows) if ((latest.get(r.stepId)?.seq ?? -1) <= r.seq) latest.set(r.stepId, r);
    await Promise.all([...latest.values()].map((r) => this.writeOne(runId, r)));
  }

  private async writeOne(runId: string, row: StepRow): Promise<void> {
    const entity = toEntity(runId, row);
    for (let attempt = 1; attempt <= 10; attempt++) {
      let current: { seq?: number; etag: string } | undefined;
      try {
        current = await this.client.getEntity<{ seq?: number }>(runId, entity.rowKey, { queryOptions: { select: ['seq'] } });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
      if (current && (current.seq ?? -1) >= row.seq) return;
      try {
        if (current) await this.client.updateEntity(entity, 'Replace', { etag: current.etag });
        else await this.client.createEntity(entity);
        return;
      } catch (err) {
        // Another writer got there first: read again and decide again.
        if (![409, 412].includes((err as { statusCode?: number }).statusCode ?? 0)) throw err;
      }
    }
    throw new Error(`step ${row.stepId} of run ${runId}: its row kept changing while being written`);
  }

  async read(runId: string): Promise<StepRow[]> {
    await this.table();
    const rows: StepRow[] = [];
    for await (const e of this.client.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${runId}` } })) {
      const r = fromEntity(e as Record<string, unknown>);
      if (r) rows.push(r);
    }
    return rows.sort((a, b) => a.index - b.index);
  }

  async readOne(runId: string, stepId: string): Promise<StepRow | undefined> {
    await this.table();
    try {
      return fromEntity(await this.client.getEntity(runId, stepRowKey(stepId)) as Record<string, unknown>);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }
}
