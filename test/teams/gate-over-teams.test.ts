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

let id: string;
let n0: Awaited<ReturnType<typeof gateNotification>>;
let button: { verb: string; data: Record<string, unknown> };

describe('a gate voted on through Teams', () => {
  it('the sender posts the gate card once, whatever the retries (same notification twice: one post)', async () => {
    const { env, teams, sender } = t;
    id = await env.start('alice', 'fe-pool-failover', OPTIONS);
    await env.waitFor(id, stepState(GATE, 'waiting-approval'));
    await env.waitFor(id, (r) => r.gates?.[GATE]?.status === 'pending');
    n0 = await gateNotification(env, id, GATE, OPTIONS);
    await sender.send(n0);
    await sender.send(n0);
    const cards = teams.cards(id);
    expect(cards).toHaveLength(1);
    expect(cards[0]).toMatchObject({ posts: 1, updates: 0, conversationId: teams.conversationId });
    expect(cardProblems(cards[0].card)).toEqual([]);
    expect(JSON.stringify(cards[0].card)).toContain(n0.gate.planHash);
    button = (cards[0].card.actions as any[]).find((a) => a.verb === 'approve');
  }, 60_000);

  describe('inbound authentication: 401 and no vote', () => {
    const invoke = () => ({
      type: 'invoke', name: 'adaptiveCard/action', channelId: 'msteams', serviceUrl: t.teams.serviceUrl, id: 'x1',
      from: { id: '29:bob', aadObjectId: t.teams.user('bob').aadObjectId }, recipient: { id: `28:${t.teams.appId}` },
      conversation: { id: t.teams.conversationId, conversationType: 'channel', tenantId: t.teams.tenantId }, channelData: { tenant: { id: t.teams.tenantId } },
      value: { action: { type: 'Action.Execute', verb: 'approve', data: button.data }, trigger: 'manual' },
    });
    const cases: Array<[string, () => Promise<string | null>]> = [
      ['missing', async () => null],
      ['expired', () => t.teams.sign({ expiresIn: Math.floor(Date.now() / 1000) - 600 })],
      ['wrong audience', () => t.teams.sign({ claims: { aud: 'someone-else' } })],
      ['wrong issuer', () => t.teams.sign({ claims: { iss: 'https://evil.example' } })],
      ['unknown key', async () => t.teams.sign({ kid: 'no-such-key', key: (await generateKeyPair('RS256')).privateKey })],
      ['wrongly signed (the known kid, another key)', async () => t.teams.sign({ key: (await generateKeyPair('RS256')).privateKey })],
      ['unsigned (alg none)', async () => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'https://api.botframework.com', aud: t.teams.appId, serviceurl: t.teams.serviceUrl, exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url')}.`],
      ['for another serviceUrl', () => t.teams.sign({ claims: { serviceurl: 'http://127.0.0.1:9/elsewhere/' } })],
      ['without a serviceurl claim', () => t.teams.sign({ omitServiceUrl: true })],
      ['signed by a published key that is endorsed for Web Chat, not for Teams', () => t.teams.sign({ webchatKey: true })],
    ];
    it.each(cases)('%s', async (_why, token) => {
      const r = await t.teams.deliver(invoke(), { token: await token() });
      expect(r.status).toBe(401);
      expect(await votes(id)).toBe(0);
    });
    it('a body that is not JSON is 400', async () => {
      const r = await fetch(`${t.env.host.url}/api/messages`, { method: 'POST', body: '{not json', headers: { authorization: `Bearer ${await t.teams.sign()}` } });
      expect(r.status).toBe(400);
      expect(await votes(id)).toBe(0);
    });
  });

  it('refusals are shown to the voter in the gate\'s words: self-approval, not an approver, plan changed', async () => {
    const { teams } = t;
    const self = answered(await teams.click({ runId: id, verb: 'approve', as: 'alice', comment: 'mine' }));
    expect(self).toContain('Your vote did not count');
    expect(self).toContain('alice requested this run and cannot approve it (self-approval)');
    const stranger = answered(await teams.click({ runId: id, verb: 'approve', as: 'eve' }));
    expect(stranger).toContain('eve is not in the approver groups of this gate (not-eligible)');
    const changed = answered(await teams.invoke('bob', { verb: 'approve', data: { ...button.data, planHash: `sha256:${'0'.repeat(64)}` } }));
    expect(changed).toContain('approvers approve exactly the plan they were shown (plan-mismatch)');
    expect(await votes(id)).toBe(3);
  }, 60_000);

  it('two approvers click Approve through signed invokes: the gate is approved; a newer gate version is one PUT of the same card', async () => {
    const { env, teams, sender } = t;
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
    const cards = teams.cards(id);
    expect(cards).toHaveLength(1);
    expect(cards[0]).toMatchObject({ posts: 1, updates: 1 });
    expect(JSON.stringify(cards[0].card)).toContain('bob: approve');
    expect(cardProblems(cards[0].card)).toEqual([]);

    // A refresh shows each person their own view: carol may still vote, bob may not.
    expect(answered(await teams.invoke('carol', { verb: 'refresh', data: button.data }))).toContain('"verb":"approve"');
    expect(answered(await teams.invoke('bob', { verb: 'refresh', data: button.data }))).not.toContain('"verb":"approve"');

    const carols = answered(await teams.click({ runId: id, verb: 'approve', as: 'carol' }));
    expect(carols).toContain('Your approval counted.');
    const r = await env.waitFor(id, (x) => x.gates?.[GATE]?.status === 'approved');
    expect(r.gates[GATE].approvers).toEqual(['bob', 'carol']);
    const trail = (await env.trail.readRun(id)).filter((e) => e.kind === 'vote');
    expect(trail).toHaveLength(5);
    expect(JSON.stringify(trail)).toContain('"channel":"teams"');
  }, 90_000);

  it('a vote after the gate closed is refused (gate closed), and the run goes on to succeed', async () => {
    const late = answered(await t.teams.invoke('dave', { verb: 'approve', data: button.data }));
    expect(late).toContain('no approval gate of this run is waiting for votes (gate-closed)');
    const done = await t.env.waitFor(id, finished, 60_000);
    expect(done.status.phase).toBe('succeeded');
  }, 90_000);
});
