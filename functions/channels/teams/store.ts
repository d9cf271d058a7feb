// What the Teams channel keeps in Table Storage (one table, LYNCDR_TEAMS_TABLE):
// - the conversations the bot is installed in (their references: serviceUrl, id, tenant), written
//   on install and on every message, removed on uninstall: proactive posts need them;
// - per run, what was sent where: one row per notification key and conversation (the exactly-once
//   ledger) and one per gate and conversation (the card's activity id, to update it in place);
// - the Teams user ids (MRIs) of the people seen, so a gate card can ask Teams to refresh it for
//   the approvers (refresh.userIds).
import type { TableClient } from '@azure/data-tables';
import { storageConnectionString, tableClient, tableOnFirstUse } from '../../../shared/storage/connection.js';

/** Row keys may not hold / \ # ? or control characters: encode every part. */
const part = (s: string) => encodeURIComponent(s).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export interface ConversationRef { conversationId: string; serviceUrl: string; tenantId?: string; conversationType?: string; name?: string }
export interface SentRow { state: 'posting' | 'sent'; activityId?: string }
export interface GateCardRow { activityId: string; version: number; final: boolean; notification: string }

/** How long a claimed, unfinished post counts as in flight before another caller may retry it. */
export const CLAIM_LEASE_MS = 60_000;

const isStatus = (err: unknown, code: number) => (err as { statusCode?: number }).statusCode === code;

export class TeamsStore {
  private readonly ready: () => Promise<void>;
  constructor(private readonly table: TableClient) {
    this.ready = tableOnFirstUse(table);
  }

  static fromEnv(tableName: string, env: NodeJS.ProcessEnv = process.env): TeamsStore {
    return new TeamsStore(tableClient(storageConnectionString(env), tableName));
  }

  private async t(): Promise<TableClient> {
    await this.ready();
    return this.table;
  }

  private async get<T extends object>(pk: string, rk: string): Promise<(T & { etag: string }) | undefined> {
    try {
      return await (await this.t()).getEntity<T>(pk, rk) as T & { etag: string };
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }

  // ---- conversations ----
  async saveConversation(ref: ConversationRef): Promise<void> {
    await (await this.t()).upsertEntity({ partitionKey: 'conversation', rowKey: part(ref.conversationId), ...ref, savedAt: new Date().toISOString() }, 'Replace');
  }
  async removeConversation(conversationId: string): Promise<void> {
    try { await (await this.t()).deleteEntity('conversation', part(conversationId)); } catch (err) { if (!isStatus(err, 404)) throw err; }
  }
  async conversation(conversationId: string): Promise<ConversationRef | undefined> {
    const r = await this.get<ConversationRef>('conversation', part(conversationId));
    return r && { conversationId: r.conversationId, serviceUrl: r.serviceUrl, tenantId: r.tenantId, conversationType: r.conversationType, name: r.name };
  }
  async conversations(): Promise<ConversationRef[]> {
    const out: ConversationRef[] = [];
    for await (const r of (await this.t()).listEntities<ConversationRef>({ queryOptions: { filter: "PartitionKey eq 'conversation'" } })) {
      out.push({ conversationId: r.conversationId, serviceUrl: r.serviceUrl, tenantId: r.tenantId, conversationType: r.conversationType, name: r.name });
    }
    return out;
  }

  // ---- the exactly-once ledger ----
  /**
   * Claims (runId, key, conversation) for a post: 'post' when this caller should post, 'done' when
   * it was sent, 'busy' when another caller claimed it moments ago (its post may be in flight: the
   * caller retries later). A claim older than CLAIM_LEASE_MS (a crash or a failed post after the
   * claim) is taken over: the post is retried, so a notification is sent at least once, and twice
   * only if the process died between the connector accepting the post and markSent.
   */
  async claim(runId: string, key: string, conversationId: string, now = Date.now()): Promise<'post' | 'done' | 'busy'> {
    const rk = `sent~${part(key)}~${part(conversationId)}`;
    const t = await this.t();
    try {
      await t.createEntity({ partitionKey: runId, rowKey: rk, state: 'posting', claimedAt: now });
      return 'post';
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
    }
    const row = await this.get<SentRow & { claimedAt?: number }>(runId, rk);
    if (!row) return 'busy';
    if (row.state === 'sent') return 'done';
    if (now - (row.claimedAt ?? 0) < CLAIM_LEASE_MS) return 'busy';
    try {
      await t.updateEntity({ partitionKey: runId, rowKey: rk, state: 'posting', claimedAt: now }, 'Replace', { etag: row.etag });
      return 'post';
    } catch (err) {
      if (isStatus(err, 412)) return 'busy';
      throw err;
    }
  }
  async markSent(runId: string, key: string, conversationId: string, activityId: string | undefined): Promise<void> {
    await (await this.t()).upsertEntity({ partitionKey: runId, rowKey: `sent~${part(key)}~${part(conversationId)}`, state: 'sent', activityId: activityId ?? '', at: new Date().toISOString() }, 'Replace');
  }

  // ---- gate cards ----
  async gateCard(runId: string, stepId: string, conversationId: string): Promise<(GateCardRow & { etag: string }) | undefined> {
    const r = await this.get<GateCardRow>(runId, `gate~${part(stepId)}~${part(conversationId)}`);
    return r && { activityId: r.activityId, version: r.version, final: r.final, notification: r.notification, etag: r.etag };
  }
  /** Writes the gate card's row; with `etag`, only over that version of it (false: someone else wrote first). */
  async saveGateCard(runId: string, stepId: string, conversationId: string, row: GateCardRow, etag?: string): Promise<boolean> {
    const entity = { partitionKey: runId, rowKey: `gate~${part(stepId)}~${part(conversationId)}`, ...row };
    if (!etag) {
      await (await this.t()).upsertEntity(entity, 'Replace');
      return true;
    }
    try {
      await (await this.t()).updateEntity(entity, 'Replace', { etag });
      return true;
    } catch (err) {
      if (isStatus(err, 412)) return false;
      throw err;
    }
  }
  /** The latest gate notification sent for this gate (any conversation): the static part of a refreshed card. */
  async latestGate(runId: string, stepId: string): Promise<GateCardRow | undefined> {
    let best: GateCardRow | undefined;
    const prefix = `gate~${part(stepId)}~`;
    for await (const r of (await this.t()).listEntities<GateCardRow>({ queryOptions: { filter: `PartitionKey eq '${runId.replace(/'/g, "''")}' and RowKey ge '${prefix}' and RowKey lt '${prefix}\uffff'` } })) {
      if (!best || r.version > best.version) best = { activityId: r.activityId, version: r.version, final: r.final, notification: r.notification };
    }
    return best;
  }

  // ---- people ----
  async saveUser(upn: string, mri: string): Promise<void> {
    await (await this.t()).upsertEntity({ partitionKey: 'user', rowKey: part(upn), upn, mri }, 'Replace');
  }
  async mris(upns: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const u of upns) {
      const r = await this.get<{ mri: string }>('user', part(u));
      if (r?.mri) out.push(r.mri);
    }
    return out;
  }
}
