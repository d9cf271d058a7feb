// The Teams channel reached through the notify activity, as `npm start` and the drill run it: a
// real run on the local host over Azurite with LYNCDR_CHANNELS=teams, the Teams stand-in as Bot
// Framework, Entra and the Bot Connector. Nothing here calls the sender: the gate card the
// stand-in records was POSTed by the run's own notify activity, and the votes cast through
// signed invokes come back as PUTs of that same card.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelsSetting } from '../../local/stack.js';
import { startTeamsStandin, type RecordedCard, type TeamsStandin } from '../../local/teams-standin.js';
import { uniqueName } from '../support/azurite.js';
import { finished, startRunsEnv, stepState, type RunsEnv } from '../runs/support.js';
import { cardProblems } from './card-schema.js';
import { answered, OPERATORS } from './support.js';

let dir: string;
let teams: TeamsStandin;
let env: RunsEnv;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-teams-notify-'));
  teams = await startTeamsStandin({ dir });
  env = await startRunsEnv({
    settings: {
      ...teams.settings, LYNCDR_CHANNELS: 'teams', LYNCDR_TEAMS_TABLE: uniqueName('Teams'),
      LYNCDR_OPERATORS: JSON.stringify(OPERATORS), LYNCDR_PUBLIC_URL: 'http://127.0.0.1:7071',
    },
  });
  teams.setAppUrl(env.host.url);
  const installed = await teams.install();
  if (installed.status !== 200) throw new Error(`install: ${installed.status} ${JSON.stringify(installed.body)}`);
}, 90_000);
afterAll(async () => {
  await env?.stop();
  await teams?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const OPTIONS = { pool: 'eepool1.contoso.com' };
const GATE = 'declare-disaster';
const text = (x: unknown) => JSON.stringify(x);
/** The run's gate card: the one first posted with an Approve button. */
const gateCards = (runId: string) => teams.cards(runId).filter((c) => text(c.history[0].card).includes('"verb":"approve"'));

/** Polls the stand-in's recorded cards until `ok` holds for the run's gate cards. */
async function waitForCards(runId: string, ok: (cards: RecordedCard[]) => boolean, what: string, timeoutMs = 30_000): Promise<RecordedCard[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cards = gateCards(runId);
    if (ok(cards)) return cards;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; the stand-in has ${text(teams.cards(runId).map((c) => ({ id: c.activityId, posts: c.posts, updates: c.updates })))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Teams through the notify activity', () => {
  it('the gate card is POSTed once by notify; two Approve clicks update it in place (PUT) with both votes and the approved state; the run succeeds', async () => {
    const id = await env.start('alice', 'fe-pool-failover', OPTIONS);
    await env.waitFor(id, stepState(GATE, 'waiting-approval'));
    const [posted] = await waitForCards(id, (c) => c.length === 1, 'the gate card posted by notify');
    expect(posted).toMatchObject({ posts: 1, conversationId: teams.conversationId });
    expect(posted.history[0].op).toBe('post');
    expect(cardProblems(posted.history[0].card)).toEqual([]);
    const { planHash } = (await env.run(id)).gates[GATE];
    expect(text(posted.history[0].card)).toContain(planHash);

    const bob = answered(await teams.click({ runId: id, verb: 'approve', as: 'bob', comment: 'pool is gone' }));
    expect(bob).toContain('Your approval counted.');
    // The vote reaches the shared card through the gate's next notification: a PUT, not a new post.
    await waitForCards(id, (c) => c.length === 1 && text(c[0].card).includes('bob: approve'), "bob's vote on the card");

    const carol = answered(await teams.click({ runId: id, verb: 'approve', as: 'carol' }));
    expect(carol).toContain('Your approval counted.');
    const r = await env.waitFor(id, (x) => x.gates?.[GATE]?.status === 'approved');
    expect(r.gates[GATE].approvers).toEqual(['bob', 'carol']);
    const [done] = await waitForCards(id, (c) => c.length === 1 && text(c[0].card).includes('carol: approve') && text(c[0].card).includes(': approved'), 'the approved card');

    expect(done.activityId).toBe(posted.activityId);
    expect(done.posts).toBe(1);
    expect(done.updates).toBeGreaterThanOrEqual(2);
    expect(done.history.slice(1).every((h) => h.op === 'update')).toBe(true);
    const card = text(done.card);
    expect(card).toContain('bob: approve');
    expect(card).toContain('carol: approve');
    expect(card).not.toContain('"verb":"approve"');
    expect(cardProblems(done.card)).toEqual([]);
    // One gate card in the conversation, whatever else the run told it.
    expect(gateCards(id)).toHaveLength(1);

    const end = await env.waitFor(id, finished, 60_000);
    expect(end.status.phase).toBe('succeeded');
  }, 120_000);
});

describe('the channels of the local stack (npm start, the drill)', () => {
  it('unset, both channels when the mail sink and the Teams stand-in run; an explicit setting wins', () => {
    expect(channelsSetting({ mail: true, teams: true }, {})).toEqual({ LYNCDR_CHANNELS: 'email,teams' });
    expect(channelsSetting({ mail: true, teams: false }, {})).toEqual({ LYNCDR_CHANNELS: 'email' });
    expect(channelsSetting({ mail: true, teams: true }, { LYNCDR_CHANNELS: '' })).toEqual({ LYNCDR_CHANNELS: 'email,teams' });
    expect(channelsSetting({ mail: true, teams: true }, { LYNCDR_CHANNELS: 'email' })).toEqual({});
    expect(channelsSetting({ mail: true, teams: true }, { LYNCDR_CHANNELS: 'teams' })).toEqual({});
    expect(channelsSetting({ mail: false, teams: true }, {})).toEqual({});
  });
});
