// The Teams ChannelSender: posts each notification as an Adaptive Card to the configured
// conversations through the Bot Connector, once per (run, notification key, conversation), and
// keeps one card per approval gate, updated in place as votes arrive and when it is decided.
//
// Around a crash: the ledger row is claimed before the post and marked sent after it. A retry
// (the notify activity's retry, or its replay after the host died) finds 'sent' and does nothing;
// finds a claim younger than the lease and fails, to be retried (another attempt may be posting);
// or finds an older claim and posts again. So: at least once, with a duplicate card only when the
// process died after the connector accepted the post and before the mark. Updates of a gate card
// are PUTs of a whole card, so repeating one is harmless; the gate's row is claimed for a version
// before its PUT, so a late or racing older version never puts the card back in time.
import { notificationKey, type ChannelSender, type Notification } from '../../../shared/runs/notifications.js';
import { CARD_CONTENT_TYPE, notificationCard, type Card } from './cards.js';
import { BotConnector } from './connector.js';
import type { TeamsSettings } from './settings.js';
import { TeamsStore, type ConversationRef, type GateCardRow } from './store.js';

type Sendable = Notification & { auditVerified?: boolean };
type GateNotification = Extract<Notification, { kind: 'gate' }>;

/** Orders a gate's versions: decided after pending, then votes seen, then escalation phase. */
export function gateVersion(n: GateNotification): number {
  const phase = { primary: 0, escalated: 1, 'timed-out': 2 }[n.gate.phase];
  return (n.gate.status === 'pending' ? 0 : 1_000_000) + n.gate.votes.length * 10 + phase;
}

/**
 * The gate notification as the table keeps it (a string property holds at most 32K characters):
 * the votes are left out when it is too long (a refresh reads them live from the gate), then most
 * of the listed changes.
 */
export function storedGate(n: GateNotification): string {
  const full = JSON.stringify(n);
  if (full.length <= 32_000) return full;
  const noVotes = { ...n, gate: { ...n.gate, votes: [] } };
  const lean = JSON.stringify(noVotes);
  return lean.length <= 32_000 ? lean : JSON.stringify({ ...noVotes, gate: { ...noVotes.gate, changes: noVotes.gate.changes.slice(0, 5), reason: noVotes.gate.reason.slice(0, 2000) } });
}

export function cardActivity(card: Card, summary: string): Record<string, unknown> {
  return { type: 'message', summary: summary.slice(0, 200), attachments: [{ contentType: CARD_CONTENT_TYPE, content: card }] };
}

const summaryOf = (n: Notification) => {
  switch (n.kind) {
    case 'gate': return `Approval ${n.gate.status === 'pending' ? 'needed' : n.gate.status}: ${n.gate.title}`;
    case 'decision-needed': return `Decision needed: ${n.stepTitle}`;
    case 'manual-waiting': return `Manual step waiting: ${n.stepTitle}`;
    case 'run-ended': return `Run ${n.outcome}: ${n.runTitle}`;
  }
};

export class TeamsSender implements ChannelSender {
  readonly name = 'teams' as const;
  constructor(private readonly s: TeamsSettings, private readonly store: TeamsStore, private readonly connector: BotConnector, private readonly log: (m: string) => void = () => undefined) {}

  static fromSettings(s: TeamsSettings, env: NodeJS.ProcessEnv = process.env): TeamsSender {
    return new TeamsSender(s, TeamsStore.fromEnv(s.table, env), new BotConnector(s, env));
  }

  private async targets(): Promise<ConversationRef[]> {
    // Unconfigured: the channels and group chats the bot is installed in, not people's 1:1 chats.
    if (!this.s.conversations) return (await this.store.conversations()).filter((r) => r.conversationType !== 'personal');
    const refs: ConversationRef[] = [];
    for (const id of this.s.conversations) {
      const ref = await this.store.conversation(id);
      // A configured conversation the bot was never installed in has no serviceUrl to post to.
      if (ref) refs.push(ref);
      else this.log(`teams: conversation ${id} is configured but the bot is not installed there (no reference): skipped`);
    }
    return refs;
  }

  async send(n: Sendable): Promise<void> {
    const failures: Error[] = [];
    for (const ref of await this.targets()) {
      try {
        if (n.kind === 'gate') await this.sendGate(n, ref);
        else await this.sendOnce(n, ref);
      } catch (err) {
        failures.push(err as Error);
      }
    }
    // Every conversation was tried; throwing makes the notify activity retry the ones that failed
    // (the ledger skips those already done).
    if (failures.length) throw new AggregateError(failures, `teams: ${failures.length} conversation(s) failed: ${failures.map((e) => e.message).join('; ')}`);
  }

  private async sendOnce(n: Sendable, ref: ConversationRef): Promise<void> {
    const key = notificationKey(n);
    const claim = await this.store.claim(n.runId, key, ref.conversationId);
    if (claim === 'done') return;
    if (claim === 'busy') throw new Error(`teams: ${key} of ${n.runId} is being sent to ${ref.conversationId} by another attempt: retry later`);
    const card = notificationCard(n, { publicUrl: this.s.publicUrl, userIds: [] });
    const id = await this.connector.post(ref.serviceUrl, ref.conversationId, cardActivity(card, summaryOf(n)));
    await this.store.markSent(n.runId, key, ref.conversationId, id);
  }

  private async gateActivity(n: GateNotification): Promise<Record<string, unknown>> {
    const userIds = await this.store.mris(n.gate.eligible);
    return cardActivity(notificationCard(n, { publicUrl: this.s.publicUrl, userIds }), summaryOf(n));
  }

  private async sendGate(n: GateNotification, ref: ConversationRef): Promise<void> {
    const version = gateVersion(n);
    const row = { version, final: n.gate.status !== 'pending', notification: storedGate(n) };
    // The row is claimed for this version before the card is updated (ETag), so of two updates
    // racing, the older one never overwrites the newer one's row.
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.store.gateCard(n.runId, n.gate.stepId, ref.conversationId);
      if (existing && existing.version >= version) return;
      if (!existing) return this.postGate(n, ref, row);
      if (!(await this.store.saveGateCard(n.runId, n.gate.stepId, ref.conversationId, { ...row, activityId: existing.activityId }, existing.etag))) continue;
      await this.connector.update(ref.serviceUrl, ref.conversationId, existing.activityId, await this.gateActivity(n));
      // A newer version claimed while this PUT was on its way may have been overtaken by it: the
      // card ends as the newest version says.
      const after = await this.store.gateCard(n.runId, n.gate.stepId, ref.conversationId);
      if (after && after.version > version) {
        const newer = JSON.parse(after.notification) as GateNotification;
        await this.connector.update(ref.serviceUrl, ref.conversationId, existing.activityId, await this.gateActivity(newer));
      }
      return;
    }
    throw new Error(`teams: the card of gate ${n.gate.stepId} of ${n.runId} keeps changing under this update: retry later`);
  }

  private async postGate(n: GateNotification, ref: ConversationRef, row: Omit<GateCardRow, 'activityId'>): Promise<void> {
    const key = `gate:${n.gate.stepId}:card`;
    const claim = await this.store.claim(n.runId, key, ref.conversationId);
    if (claim === 'done') return;
    if (claim === 'busy') throw new Error(`teams: the card of gate ${n.gate.stepId} of ${n.runId} is being posted by another attempt: retry later`);
    const id = await this.connector.post(ref.serviceUrl, ref.conversationId, await this.gateActivity(n));
    if (id) await this.store.saveGateCard(n.runId, n.gate.stepId, ref.conversationId, { ...row, activityId: id });
    await this.store.markSent(n.runId, key, ref.conversationId, id);
  }
}
