// A real run's approval gate voted on through Teams: the app on the local host over Azurite, the
// Teams stand-in as Bot Framework, Entra and the Bot Connector, signed invokes as each person.
// Inbound authentication, every refusal shown to the voter, the sender's exactly-once, and two
// approvals through card clicks approving the gate.
import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, stepState } from '../runs/support.js';
import { answered, gateNotification, startTeamsEnv, type TeamsEnv } from './support.js';
import { cardProblems } from './card-schema.js';

let t: TeamsEnv;
beforeAll(async () => { t = await startTeamsEnv(); }, 90_000);
afterAll(async () => { await t?.stop(); });

const OPTIONS = { pool: 'eepool1.contoso.com' };
const GATE = 'declare-disaster';
const votes = async (id: string) => (await t.env.run(id)).gates[GATE]?.votes?.length ?? 0;

describe('a gate voted on through Teams', () => {
  it('authenticates every activity, shows each refusal, posts once, updates in place, and approves with two clicks', async () => {
    const { env, teams, sender } = t;
    const id = await env.start('alice', 'fe-pool-failover', OPTIONS);
    await env.waitFor(id, stepState(GATE, 'waiting-approval'));
    await env.waitFor(id, (r) => r.gates?.[GATE]?.status === 'pending');

    // The sender: the same notification twice (a retried or replayed notify) is one card.
    const n0 = await gateNotification(env, id, GATE, OPTIONS);
    await sender.send(n0);
    await sender.send(n0);
    let cards = teams.cards(id);
    expect(cards).toHaveLength(1);
    expect(cards[0]).toMatchObject({ posts: 1, updates: 0, conversationId: teams.conversationId });
    expect(cardProblems(cards[0].card)).toEqual([]);
    expect(JSON.stringify(cards[0].card)).toContain(n0.gate.planHash);

    // Inbound authentication: each bad token is 401 and the gate sees no vote.
    const button = (cards[0].card.actions as any[]).find((a) => a.verb === 'approve');
    const invoke = { type: 'invoke', name: 'adaptiveCard/action', channelId: 'msteams', serviceUrl: teams.serviceUrl, id: 'x1',
      from: { id: '29:bob', aadObjectId: teams.user('bob').aadObjectId }, recipient: { id: `28:${teams.appId}` },
      conversation: { id: teams.conversationId, conversationType: 'channel', tenantId: teams.tenantId }, channelData: { tenant: { id: teams.tenantId } },
      value: { action: { type: 'Action.Execute', verb: 'approve', data: button.data }, trigger: 'manual' } };
    const other = await generateKeyPair('RS256');
    const bad: Record<string, string | null> = {
      missing: null,
      expired: await teams.sign({ expiresIn: Math.floor(Date.now() / 1000) - 600 }),
      'wrong audience': await teams.sign({ claims: { aud: 'someone-else' } }),
      'wrong issuer': await teams.sign({ claims: { iss: 'https://evil.example' } }),
      'unknown key': await teams.sign({ kid: 'no-such-key', key: other.privateKey }),
      'wrongly signed': await teams.sign({ key: other.privateKey }),
      'another serviceUrl': await teams.sign({ claims: { serviceurl: 'http://127.0.0.1:9/elsewhere/' } }),
      'not a JWT': 'abc.def.ghi',
    };
    for (const [why, token] of Object.entries(bad)) {
      const r = await teams.deliver(invoke, { token });
      expect(r.status, why).toBe(401);
    }
    const notJson = await fetch(`${env.host.url}/api/messages`, { method: 'POST', body: '{not json', headers: { authorization: `Bearer ${await teams.sign()}` } });
    expect(notJson.status).toBe(400);
    expect(await votes(id)).toBe(0);

    // Refusals, each shown to the voter in the gate's own words.
    const self = answered(await teams.click({ runId: id, verb: 'approve', as: 'alice', comment: 'mine' }));
    expect(self).toContain('Your vote did not count');
    expect(self).toContain('alice requested this run and cannot approve it (self-approval)');
    const stranger = answered(await teams.click({ runId: id, verb: 'approve', as: 'eve' }));
    expect(stranger).toContain('eve is not in the approver groups of this gate (not-eligible)');
    const changed = answered(await teams.invoke('bob', { verb: 'approve', data: { ...button.data, planHash: `sha256:${'0'.repeat(64)}` } }));
    expect(changed).toContain('approvers approve exactly the plan they were shown (plan-mismatch)');

    // bob approves with a comment: counted; his answer is the gate card, without buttons for him.
    const bobs = answered(await teams.click({ runId: id, verb: 'approve', as: 'bob', comment: 'pool is gone' }));
    expect(bobs).toContain('Your approval counted.');
    expect(bobs).toContain('1 of 2 approvals; 1 more needed');
    expect(bobs).not.toContain('"verb":"approve"');
    expect(cardProblems(JSON.parse(bobs))).toEqual([]);

    // A newer gate version updates the same card once; repeating it or an older one does nothing.
    const n1 = await gateNotification(env, id, GATE, OPTIONS);
    expect(n1.gate.votes).toHaveLength(4);
    await sender.send(n1);
    await sender.send(n1);
    await sender.send(n0);
    cards = teams.cards(id);
    expect(cards).toHaveLength(1);
    expect(cards[0]).toMatchObject({ posts: 1, updates: 1 });
    expect(JSON.stringify(cards[0].card)).toContain('bob: approve');
    expect(cardProblems(cards[0].card)).toEqual([]);

    // A refresh shows carol her own view (she may still vote), bob his (he may not).
    expect(answered(await teams.invoke('carol', { verb: 'refresh', data: button.data }))).toContain('"verb":"approve"');
    expect(answered(await teams.invoke('bob', { verb: 'refresh', data: button.data }))).not.toContain('"verb":"approve"');

    // carol approves: the gate is approved, and the run goes on.
    const carols = answered(await teams.click({ runId: id, verb: 'approve', as: 'carol' }));
    expect(carols).toContain('Your approval counted.');
    const r = await env.waitFor(id, (x) => x.gates?.[GATE]?.status === 'approved');
    expect(r.gates[GATE].approvers).toEqual(['bob', 'carol']);
    const teamsVotes = (await env.trail.readRun(id)).filter((e) => e.kind === 'vote');
    expect(teamsVotes.length).toBe(5);
    expect(JSON.stringify(teamsVotes)).toContain('teams');

    // Too late: the gate is closed.
    const late = answered(await teams.invoke('dave', { verb: 'approve', data: button.data }));
    expect(late).toMatch(/no approval gate of this run is waiting for votes \(gate-closed\)|already approved/);

    const done = await env.waitFor(id, finished, 60_000);
    expect(done.status.phase).toBe('succeeded');
  }, 150_000);
});
