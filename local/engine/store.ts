// The task hub in Azure Storage: a History table (one partition per instance: a sentinel row with
// the instance's state plus one row per committed episode), an Instances table (the query index),
// a control queue (events for orchestrations), a work-item queue (activities), a poison queue and
// a blob container for payloads too large for a table property or a queue message.
import { randomUUID } from 'node:crypto';
import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import type { QueueClient } from '@azure/storage-queue';
import type { ContainerClient } from '@azure/storage-blob';
import { blobService, ensureTable, queueService, tableClient } from '../../shared/storage/connection.js';
import { checkEntity, joinText, splitText, MAX_BATCH_OPERATIONS } from '../../shared/storage/entity-limits.js';
import type { HistoryEvent } from './history.js';

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated' | 'ContinuedAsNew' | 'Suspended';
export const TERMINAL: ReadonlySet<RuntimeStatus> = new Set(['Completed', 'Failed', 'Terminated']);

/** An episode's packed events larger than this go to a blob instead of its history row. */
export const EPISODE_ROW_MAX_CHARS = 480 * 1024;
/** Payloads above this go to a blob, as Durable Functions does (its threshold is about 45 KB). */
export const LARGE_PAYLOAD_CHARS = 45 * 1024;
/** Queue messages are limited to 64 KB; leave room for the envelope. */
const LARGE_MESSAGE_CHARS = 48 * 1024;
const BLOB_FIELDS = ['Input', 'Result', 'Details'] as const;

export interface InstanceState {
  instanceId: string;
  name: string;
  status: RuntimeStatus;
  executionId: string;
  inputJson?: string;
  outputJson?: string;
  customStatusJson?: string;
  createdTime: string;
  lastUpdatedTime: string;
  parentInstanceId?: string;
  parentExecutionId?: string;
  parentTaskId?: number;
  /** Episodes committed in the current execution. */
  episode: number;
  /** How often recovery re-dispatched each pending activity (task id -> count): a task whose
   * host keeps dying is given up on, as a poison message would be. */
  redispatch?: Record<string, number>;
  /** Events that arrived while the instance was suspended, in arrival order (payloads packed):
   * kept with the state, so they survive a restart, and delivered first once it is resumed. */
  held?: HistoryEvent[];
}

export interface LoadedInstance {
  state: InstanceState;
  etag: string;
  history: HistoryEvent[];
}

export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

export interface QueuedRef { queue: 'control' | 'workitems'; messageId: string; popReceipt: string; dequeueCount: number }

export interface InstanceQuery {
  runtimeStatus?: RuntimeStatus[];
  createdTimeFrom?: string;
  createdTimeTo?: string;
  instanceIdPrefix?: string;
  top?: number;
  continuationToken?: string;
}

export interface InstanceRow {
  instanceId: string;
  name: string;
  status: RuntimeStatus;
  createdTime: string;
  lastUpdatedTime: string;
  customStatusJson?: string;
  executionId: string;
}

const pad = (n: number) => String(n).padStart(8, '0');
const historyKey = (executionId: string, episode: number) => `h-${executionId}-${pad(episode)}`;
const isStatus = (s: { statusCode?: number }, ...codes: number[]) => codes.includes(s.statusCode ?? 0);

export function validateHubName(hub: string): void {
  if (!/^[A-Za-z][A-Za-z0-9]{2,44}$/.test(hub)) {
    throw new Error(`task hub name '${hub}' is invalid: 3 to 45 letters and digits, starting with a letter`);
  }
}

export class TaskHubStore {
  readonly history: TableClient;
  readonly instances: TableClient;
  readonly queues: Record<'control' | 'workitems' | 'poison', QueueClient>;
  readonly blobs: ContainerClient;

  constructor(readonly connectionString: string, readonly hub: string) {
    validateHubName(hub);
    this.history = tableClient(connectionString, `${hub}History`);
    this.instances = tableClient(connectionString, `${hub}Instances`);
    const qs = queueService(connectionString);
    const lower = hub.toLowerCase();
    this.queues = {
      control: qs.getQueueClient(`${lower}-control`),
      workitems: qs.getQueueClient(`${lower}-workitems`),
      poison: qs.getQueueClient(`${lower}-poison`),
    };
    this.blobs = blobService(connectionString).getContainerClient(`${lower}-largemessages`);
  }

  async init(): Promise<void> {
    await Promise.all([
      ensureTable(this.history),
      ensureTable(this.instances),
      ...Object.values(this.queues).map((q) => q.createIfNotExists()),
      this.blobs.createIfNotExists(),
    ]);
  }

  // ---- payloads ---------------------------------------------------------------------------

  private async putBlob(instanceId: string, text: string): Promise<string> {
    const name = `${encodeURIComponent(instanceId)}/${randomUUID()}.json`;
    await this.blobs.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
    return name;
  }

  private async getBlob(name: string): Promise<string> {
    return (await this.blobs.getBlockBlobClient(name).downloadToBuffer()).toString('utf8');
  }

  /** Moves large Input / Result / Details of an event to blobs before it is stored or queued. */
  async packEvent(instanceId: string, e: HistoryEvent): Promise<HistoryEvent> {
    let out = e;
    for (const f of BLOB_FIELDS) {
      const v = e[f];
      if (typeof v === 'string' && v.length > LARGE_PAYLOAD_CHARS) {
        out = { ...out, [f]: undefined, [`Lyncdr${f}Blob`]: await this.putBlob(instanceId, v) } as HistoryEvent;
      }
    }
    return out;
  }

  async unpackEvent(e: HistoryEvent): Promise<HistoryEvent> {
    let out = e;
    for (const f of BLOB_FIELDS) {
      const ref = (e as unknown as Record<string, unknown>)[`Lyncdr${f}Blob`];
      if (typeof ref === 'string') {
        out = { ...out, [f]: await this.getBlob(ref) };
        delete (out as unknown as Record<string, unknown>)[`Lyncdr${f}Blob`];
      }
    }
    return out;
  }

  private async packText(instanceId: string, name: string, text: string | undefined): Promise<Record<string, string | number>> {
    if (text === undefined) return { [`${name}N`]: -1 };
    if (text.length > LARGE_PAYLOAD_CHARS) return { [`${name}N`]: -2, [`${name}Blob`]: await this.putBlob(instanceId, text) };
    return splitText(name, text);
  }

  private async unpackText(name: string, entity: Record<string, unknown>): Promise<string | undefined> {
    const n = entity[`${name}N`];
    if (n === -1 || n === undefined) return undefined;
    if (n === -2) return this.getBlob(String(entity[`${name}Blob`]));
    return joinText(name, entity);
  }

  // ---- instances --------------------------------------------------------------------------

  async toSentinel(s: InstanceState): Promise<Record<string, unknown> & { partitionKey: string; rowKey: string }> {
    return {
      partitionKey: s.instanceId,
      rowKey: 'sentinel',
      name: s.name,
      status: s.status,
      executionId: s.executionId,
      createdTime: s.createdTime,
      lastUpdatedTime: s.lastUpdatedTime,
      parentInstanceId: s.parentInstanceId ?? '',
      parentExecutionId: s.parentExecutionId ?? '',
      parentTaskId: s.parentTaskId ?? -1,
      episode: s.episode,
      redispatch: s.redispatch && Object.keys(s.redispatch).length ? JSON.stringify(s.redispatch) : '',
      ...(await this.packText(s.instanceId, 'input', s.inputJson)),
      ...(await this.packText(s.instanceId, 'output', s.outputJson)),
      ...(await this.packText(s.instanceId, 'customStatus', s.customStatusJson)),
      ...(await this.packText(s.instanceId, 'held', s.held?.length ? JSON.stringify(s.held) : undefined)),
    };
  }

  private async fromSentinel(e: Record<string, unknown>): Promise<InstanceState> {
    return {
      ...instanceFieldsOf(e),
      parentInstanceId: (e.parentInstanceId as string) || undefined,
      parentExecutionId: (e.parentExecutionId as string) || undefined,
      parentTaskId: typeof e.parentTaskId === 'number' && e.parentTaskId >= 0 ? e.parentTaskId : undefined,
      episode: Number(e.episode ?? 0),
      redispatch: e.redispatch ? JSON.parse(String(e.redispatch)) : undefined,
      inputJson: await this.unpackText('input', e),
      outputJson: await this.unpackText('output', e),
      customStatusJson: await this.unpackText('customStatus', e),
      held: await this.unpackText('held', e).then((t) => (t ? (JSON.parse(t) as HistoryEvent[]) : undefined)),
    };
  }

  async readState(instanceId: string): Promise<{ state: InstanceState; etag: string } | undefined> {
    try {
      const e = await this.history.getEntity(instanceId, 'sentinel');
      return { state: await this.fromSentinel(e), etag: e.etag };
    } catch (err) {
      if (isStatus(err as { statusCode?: number }, 404)) return undefined;
      throw err;
    }
  }

  /** The sentinel plus the history of the current execution, payloads resolved. */
  async load(instanceId: string): Promise<LoadedInstance | undefined> {
    const rows: TableEntityResult<Record<string, unknown>>[] = [];
    for await (const r of this.history.listEntities({ queryOptions: { filter: `PartitionKey eq '${instanceId.replace(/'/g, "''")}'` } })) rows.push(r);
    const sentinel = rows.find((r) => r.rowKey === 'sentinel');
    if (!sentinel) return undefined;
    const state = await this.fromSentinel(sentinel);
    const prefix = `h-${state.executionId}-`;
    const episodes = rows.filter((r) => r.rowKey!.startsWith(prefix)).sort((a, b) => (a.rowKey! < b.rowKey! ? -1 : 1));
    const history: HistoryEvent[] = [];
    for (const row of episodes) {
      const text = row.eventsBlob ? await this.getBlob(String(row.eventsBlob)) : joinText('events', row) ?? '[]';
      for (const e of JSON.parse(text) as HistoryEvent[]) history.push(await this.unpackEvent({ ...e, IsPlayed: true }));
    }
    return { state, etag: sentinel.etag, history };
  }

  /**
   * Commits one episode atomically: the new history row and the sentinel, in one transaction on
   * the instance's partition, guarded by the sentinel's ETag. Two dispatchers that loaded the same
   * state can never both commit: the second gets a ConflictError.
   */
  async commit(state: InstanceState, etag: string | undefined, events: HistoryEvent[] | undefined): Promise<string> {
    const actions: TransactionAction[] = [];
    if (events && events.length) {
      const packed = await Promise.all(events.map((e) => this.packEvent(state.instanceId, { ...e, IsPlayed: false })));
      const text = JSON.stringify(packed);
      const row: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
        partitionKey: state.instanceId,
        rowKey: historyKey(state.executionId, state.episode),
        count: events.length,
      };
      // A Table entity holds 1 MiB and strings count two bytes a character: an episode's events
      // above about 480 K characters (with room for the split's property names) go to a blob.
      if (text.length > EPISODE_ROW_MAX_CHARS) row.eventsBlob = await this.putBlob(state.instanceId, text);
      else Object.assign(row, splitText('events', text));
      checkEntity(row);
      actions.push(['create', row]);
    }
    const sentinel = await this.toSentinel(state);
    checkEntity(sentinel);
    actions.push(etag ? ['update', sentinel, 'Replace', { etag }] : ['create', sentinel]);
    if (actions.length > MAX_BATCH_OPERATIONS) throw new Error('episode exceeds the transaction size');
    try {
      const res = await this.history.submitTransaction(actions);
      const last = res.subResponses[res.subResponses.length - 1];
      return last?.etag ?? (await this.history.getEntity(state.instanceId, 'sentinel')).etag;
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      if (code === 409 || code === 412) {
        throw new ConflictError(`instance ${state.instanceId}: another dispatcher committed first (HTTP ${code})`);
      }
      throw err;
    }
  }

  async upsertIndex(row: InstanceRow): Promise<void> {
    const entity = {
      partitionKey: row.instanceId,
      rowKey: '',
      name: row.name,
      status: row.status,
      createdTime: row.createdTime,
      lastUpdatedTime: row.lastUpdatedTime,
      executionId: row.executionId,
      customStatus: row.customStatusJson && row.customStatusJson.length < 30000 ? row.customStatusJson : '',
    };
    checkEntity(entity);
    await this.instances.upsertEntity(entity, 'Replace');
  }

  async queryIndex(q: InstanceQuery): Promise<{ rows: InstanceRow[]; continuationToken?: string }> {
    const parts: string[] = [];
    const esc = (v: string) => v.replace(/'/g, "''");
    if (q.runtimeStatus?.length) parts.push(`(${q.runtimeStatus.map((s) => `status eq '${esc(s)}'`).join(' or ')})`);
    if (q.createdTimeFrom) parts.push(`createdTime ge '${esc(q.createdTimeFrom)}'`);
    if (q.createdTimeTo) parts.push(`createdTime le '${esc(q.createdTimeTo)}'`);
    if (q.instanceIdPrefix) {
      const p = q.instanceIdPrefix;
      const next = p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);
      parts.push(`PartitionKey ge '${esc(p)}' and PartitionKey lt '${esc(next)}'`);
    }
    const pages = this.instances
      .listEntities<Record<string, unknown>>({ queryOptions: parts.length ? { filter: parts.join(' and ') } : undefined })
      .byPage({ maxPageSize: q.top && q.top > 0 ? Math.min(q.top, 1000) : 1000, continuationToken: q.continuationToken });
    const page = await pages.next();
    const entities = page.done ? [] : page.value;
    return {
      rows: entities.map((e) => ({
        ...instanceFieldsOf(e),
        customStatusJson: (e.customStatus as string) || undefined,
      })),
      continuationToken: page.done ? undefined : (page.value as { continuationToken?: string }).continuationToken,
    };
  }

  /** Deletes every row of an instance (purge) and its blobs. */
  async deleteInstance(instanceId: string): Promise<void> {
    await this.deleteRows(instanceId, () => true);
    try { await this.instances.deleteEntity(instanceId, ''); } catch (err) { if (!isStatus(err as { statusCode?: number }, 404)) throw err; }
    for await (const b of this.blobs.listBlobsFlat({ prefix: `${encodeURIComponent(instanceId)}/` })) {
      await this.blobs.deleteBlob(b.name).catch(() => undefined);
    }
  }

  /** Deletes the history rows of executions other than the current one (after continueAsNew). */
  async deleteOldExecutions(instanceId: string, currentExecutionId: string): Promise<void> {
    await this.deleteRows(instanceId, (rk) => rk.startsWith('h-') && !rk.startsWith(`h-${currentExecutionId}-`));
  }

  private async deleteRows(instanceId: string, keep: (rowKey: string) => boolean): Promise<void> {
    const keys: string[] = [];
    for await (const r of this.history.listEntities({ queryOptions: { filter: `PartitionKey eq '${instanceId.replace(/'/g, "''")}'`, select: ['RowKey'] } })) {
      if (keep(r.rowKey!)) keys.push(r.rowKey!);
    }
    for (let i = 0; i < keys.length; i += MAX_BATCH_OPERATIONS) {
      const batch = keys.slice(i, i + MAX_BATCH_OPERATIONS).map((rowKey): TransactionAction => ['delete', { partitionKey: instanceId, rowKey }]);
      await this.history.submitTransaction(batch);
    }
  }

  // ---- queues -----------------------------------------------------------------------------

  async send(queue: 'control' | 'workitems' | 'poison', body: unknown, visibilitySeconds = 0): Promise<QueuedRef> {
    let text = JSON.stringify(body);
    if (text.length > LARGE_MESSAGE_CHARS) text = JSON.stringify({ lyncdrBlob: await this.putBlob('messages', text) });
    const r = await this.queues[queue].sendMessage(text, { visibilityTimeout: Math.max(0, Math.ceil(visibilitySeconds)) });
    return { queue: queue as 'control', messageId: r.messageId, popReceipt: r.popReceipt, dequeueCount: 0 };
  }

  async receive(queue: 'control' | 'workitems', max: number, visibilitySeconds: number): Promise<Array<{ body: unknown; ref: QueuedRef; raw: string }>> {
    const r = await this.queues[queue].receiveMessages({ numberOfMessages: max, visibilityTimeout: visibilitySeconds });
    const out = [];
    for (const m of r.receivedMessageItems) {
      let body: unknown;
      try {
        body = JSON.parse(m.messageText);
        const blob = (body as { lyncdrBlob?: string }).lyncdrBlob;
        if (blob) body = JSON.parse(await this.getBlob(blob));
      } catch {
        body = undefined;
      }
      out.push({ body, raw: m.messageText, ref: { queue, messageId: m.messageId, popReceipt: m.popReceipt, dequeueCount: m.dequeueCount } });
    }
    return out;
  }

  async deleteMessage(ref: QueuedRef): Promise<void> {
    try {
      await this.queues[ref.queue].deleteMessage(ref.messageId, ref.popReceipt);
    } catch (err) {
      // 404: the message was already deleted or redelivered to someone else; either is fine.
      if (!isStatus(err as { statusCode?: number }, 404, 400)) throw err;
    }
  }

  async extendLease(ref: QueuedRef, visibilitySeconds: number): Promise<QueuedRef> {
    const r = await this.queues[ref.queue].updateMessage(ref.messageId, ref.popReceipt, undefined, visibilitySeconds);
    return { ...ref, popReceipt: r.popReceipt! };
  }
}

/** The fields the sentinel and the index row both carry, read back from either. */
function instanceFieldsOf(e: Record<string, unknown>): Pick<InstanceState, 'instanceId' | 'name' | 'status' | 'executionId' | 'createdTime' | 'lastUpdatedTime'> {
  return {
    instanceId: String(e.partitionKey),
    name: String(e.name),
    status: e.status as RuntimeStatus,
    executionId: String(e.executionId),
    createdTime: String(e.createdTime),
    lastUpdatedTime: String(e.lastUpdatedTime),
  };
}
