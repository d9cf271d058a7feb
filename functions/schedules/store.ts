// Where the scheduler keeps what it did: one state row per schedule (the last occurrence it
// handled, guarded by its ETag so two ticks never take the same occurrence) and one row per
// occurrence, newest first, for `lyncdr schedules`. The same facts go to the audit trail
// (partition schedule-<name>), which is the record an auditor verifies.
import type { TableClient } from '@azure/data-tables';
import { tableClient, tableOnFirstUse } from '../../shared/storage/connection.js';

export type OccurrenceOutcome = 'started' | 'skipped' | 'missed' | 'refused';
export type OccurrenceTrigger = 'schedule' | 'topology-change';

export interface ScheduleState {
  /** The newest occurrence handled (ISO); before the first, when the schedule was first seen. */
  lastOccurrence: string;
  lastRunId?: string;
  /** 'starting' between taking an occurrence and its run existing: the next tick finishes it. */
  lastOutcome?: OccurrenceOutcome | 'starting';
  lastTrigger?: OccurrenceTrigger;
  /** While 'starting': the occurrence being started (a topology change's time is not lastOccurrence). */
  startingOccurrence?: string;
  topologyHash?: string;
  cron: string;
}

export interface OccurrenceRow {
  occurrence: string;
  trigger: OccurrenceTrigger;
  outcome: OccurrenceOutcome;
  handledAt: string;
  runId?: string;
  /** Why it was skipped, refused or missed. */
  reason?: string;
  /** Handled after the grace: it ran, but not on time. */
  late?: boolean;
}

const STATE = 'state';
const occPartition = (name: string) => `occ-${name}`;
// Newest first: row keys sort ascending.
const occKey = (at: string, trigger: OccurrenceTrigger) => `${String(9_999_999_999_999 - Date.parse(at)).padStart(13, '0')}-${trigger}`;

export class ScheduleStore {
  private readonly client: TableClient;
  private readonly ready: () => Promise<void>;
  constructor(connectionString: string, table: string) {
    this.client = tableClient(connectionString, table);
    this.ready = tableOnFirstUse(this.client);
  }

  async state(name: string): Promise<{ state: ScheduleState; etag: string } | undefined> {
    await this.ready();
    try {
      const row = await this.client.getEntity<ScheduleState>(STATE, name);
      const { partitionKey: _p, rowKey: _r, etag, timestamp: _t, ...state } = row as typeof row & { timestamp?: string };
      return { state: state as ScheduleState, etag };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Writes the state if nobody else did since `etag` was read (undefined: if there is none yet); false if someone did. */
  async putState(name: string, state: ScheduleState, etag: string | undefined): Promise<boolean> {
    await this.ready();
    const entity = { partitionKey: STATE, rowKey: name, ...state };
    try {
      if (etag === undefined) await this.client.createEntity(entity);
      else await this.client.updateEntity(entity, 'Replace', { etag });
      return true;
    } catch (err) {
      if ([409, 412].includes((err as { statusCode?: number }).statusCode ?? 0)) return false;
      throw err;
    }
  }

  async record(name: string, row: OccurrenceRow): Promise<void> {
    await this.ready();
    await this.client.upsertEntity({ partitionKey: occPartition(name), rowKey: occKey(row.occurrence, row.trigger), ...row }, 'Replace');
  }

  /** The newest `max` occurrences, newest first. */
  async recent(name: string, max = 20): Promise<OccurrenceRow[]> {
    await this.ready();
    const out: OccurrenceRow[] = [];
    const pages = this.client.listEntities<OccurrenceRow>({ queryOptions: { filter: `PartitionKey eq '${occPartition(name)}'` } }).byPage({ maxPageSize: max });
    for await (const page of pages) {
      for (const e of page) {
        const { partitionKey: _p, rowKey: _r, etag: _e, timestamp: _t, ...row } = e as typeof e & { timestamp?: string };
        out.push(row as OccurrenceRow);
      }
      break;
    }
    return out.slice(0, max);
  }
}
