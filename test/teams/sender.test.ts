// The Teams sender's exactly-once, against the stand-in's Bot Connector and a table in Azurite:
// retries and replays, two attempts at once, a crash after the claim, gate versions out of order.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Activity } from '@microsoft/agents-activity';
import { BotConnector } from '../../functions/channels/teams/connector.js';
import { teamsIdentity } from '../../functions/channels/teams/identity.js';
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
    // One of the two posted; the other either found the post or was told to retry.
    expect(both.some((r) => r.status === 'fulfilled')).toBe(true);
    for (const r of both) expect(r.status === 'fulfilled' ? 'posted' : String(r.reason)).toMatch(/^posted$|another attempt: retry later/);
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

describe('Teams identities', () => {
  const activity = (from: string, tenant: string) => Activity.fromObject({
    type: 'invoke', name: 'adaptiveCard/action', channelId: 'msteams', serviceUrl: teams.serviceUrl,
    from: { id: teams.user(from).id, aadObjectId: teams.user(from).aadObjectId }, recipient: { id: '28:bot' },
    conversation: { id: teams.conversationId, tenantId: tenant }, channelData: { tenant: { id: tenant } },
  });
  const settingsWith = (extra: Record<string, string>) => teamsSettings({ ...teams.settings, LYNCDR_TEAMS_TABLE: 'TeamsIds', ...extra })!;

  it('the UPN comes from the connector\'s member lookup, or from LYNCDR_TEAMS_UPN_MAP (object id -> UPN) first; another tenant is refused', async () => {
    const s = settingsWith({});
    const viaConnector = await teamsIdentity(activity('Bob', teams.tenantId), s, new BotConnector(s), store);
    expect(viaConnector).toEqual({ ok: true, user: 'bob', aadObjectId: teams.user('bob').aadObjectId });
    const mapped = settingsWith({ LYNCDR_TEAMS_UPN_MAP: JSON.stringify({ [teams.user('bob').aadObjectId.toUpperCase()]: 'Bob@Contoso.com' }) });
    expect(await teamsIdentity(activity('bob', teams.tenantId), mapped, new BotConnector(mapped), store)).toMatchObject({ ok: true, user: 'bob@contoso.com' });
    expect(await teamsIdentity(activity('bob', 'another-tenant'), s, new BotConnector(s), store)).toMatchObject({ ok: false, why: expect.stringContaining('not another-tenant') });
  });

  it('settings: off without an app id; the public cloud by default', () => {
    expect(teamsSettings({})).toBeUndefined();
    expect(teamsSettings({ LYNCDR_TEAMS_APP_ID: 'app', LYNCDR_TEAMS_TENANT_ID: 'contoso' })).toMatchObject({
      openIdMetadata: 'https://login.botframework.com/v1/.well-known/openidconfiguration', issuers: ['https://api.botframework.com'],
      tokenUrl: 'https://login.microsoftonline.com/contoso/oauth2/v2.0/token', tokenScope: 'https://api.botframework.com/.default', table: 'LyncdrTeams',
    });
    expect(() => teamsSettings({ LYNCDR_TEAMS_APP_ID: 'app', LYNCDR_TEAMS_OPENID_METADATA: 'not a url' })).toThrow(/LYNCDR_TEAMS_OPENID_METADATA/);
  });
});
