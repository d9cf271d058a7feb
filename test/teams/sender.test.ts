// The Teams sender's exactly-once, against the stand-in's Bot Connector and a table in Azurite:
// retries and replays, two attempts at once, a crash after the claim, gate versions out of order.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotConnector } from '../../functions/channels/teams/connector.js';
import { TeamsSender } from '../../functions/channels/teams/sender.js';
import { teamsSettings } from '../../functions/channels/teams/settings.js';
import { TeamsStore } from '../../functions/channels/teams/store.js';
import { startTeamsStandin, type TeamsStandin } from '../../local/teams-standin.js';
import type { Notification } from '../../shared/runs/notifications.js';
import { notificationKey } from '../../shared/runs/notifications.js';
import { azurite, uniqueName } from '../support/azurite.js';

let teams: TeamsStandin;
let store: TeamsStore;
let sender: TeamsSender;
const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-teams-sender-'));
let n = 0;
const runId = () => `run-20261201t100000z-${(n++).toString(16).padStart(6, '0')}`;
const at = '2026-12-01T10:00:00.000Z';

beforeAll(async () => {
  teams = await startTeamsStandin({ dir });
  const env = { ...teams.settings, LYNCDR_TEAMS_TABLE: uniqueName('TeamsSender'), AzureWebJobsStorage: azurite() };
  const s = teamsSettings(env)!;
  store = TeamsStore.fromEnv(s.table, env);
  sender = new TeamsSender(s, store, new BotConnector(s, env));
  await store.saveConversation({ conversationId: teams.conversationId, serviceUrl: teams.serviceUrl, conversationType: 'channel' });
});
afterAll(async () => { await teams?.stop(); rmSync(dir, { recursive: true, force: true }); });

const ended = (id: string): Notification => ({ kind: 'run-ended', runId: id, runbook: 'readiness', runTitle: 'Readiness', at, outcome: 'succeeded' });
const gate = (id: string, votes: number, status: 'pending' | 'approved' = 'pending'): Extract<Notification, { kind: 'gate' }> => ({
  kind: 'gate', runId: id, runbook: 'fe-pool-failover', runTitle: 'Fail over', at,
  gate: {
    stepId: 'declare-disaster', title: 'Declare', reason: 'down', planHash: `sha256:${'b'.repeat(64)}`, requester: 'alice', status, phase: 'primary', required: 2,
    approvers: ['bob', 'carol'].slice(0, votes), rejectors: [], eligible: status === 'pending' ? ['carol'] : [],
    votes: ['bob', 'carol'].slice(0, votes).map((approver) => ({ approver, decision: 'approve', outcome: 'accepted' as const, at })), changes: [], changesTotal: 0,
  },
});

describe('Teams sender, exactly once', () => {
  it('a notification sent twice, or by two attempts at once, is one post (the loser is told to retry)', async () => {
    const id = runId();
    await sender.send(ended(id));
    await sender.send(ended(id));
    expect(teams.cards(id)).toHaveLength(1);
    const id2 = runId();
    const both = await Promise.allSettled([sender.send(ended(id2)), sender.send(ended(id2))]);
    expect(teams.cards(id2)).toHaveLength(1);
    for (const r of both) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/another attempt: retry later/);
    await sender.send(ended(id2));
    expect(teams.cards(id2)).toHaveLength(1);
  });

  it('a claim left by an attempt that died before posting is taken over once its lease ran out: the card is posted (at least once)', async () => {
    const id = runId();
    expect(await store.claim(id, notificationKey(ended(id)), teams.conversationId, Date.now() - 120_000)).toBe('post');
    await sender.send(ended(id));
    expect(teams.cards(id)).toHaveLength(1);
    // ... but a fresh claim of another attempt is left alone.
    const id2 = runId();
    expect(await store.claim(id2, notificationKey(ended(id2)), teams.conversationId)).toBe('post');
    await expect(sender.send(ended(id2))).rejects.toThrow(/retry later/);
    expect(teams.cards(id2)).toHaveLength(0);
  });

  it('gate versions: one post, then one PUT per newer version; older or repeated versions change nothing, racing ones end at the newest', async () => {
    const id = runId();
    await sender.send(gate(id, 0));
    await sender.send(gate(id, 1));
    await sender.send(gate(id, 1));
    await sender.send(gate(id, 0));
    let [card] = teams.cards(id);
    expect(teams.cards(id)).toHaveLength(1);
    expect(card).toMatchObject({ posts: 1, updates: 1 });
    await Promise.allSettled([sender.send(gate(id, 2, 'approved')), sender.send(gate(id, 2))]);
    [card] = teams.cards(id);
    expect(JSON.stringify(card.card)).toContain('Declare: approved');
    expect(JSON.stringify(card.card)).not.toContain('"verb":"approve"');
  });
});
