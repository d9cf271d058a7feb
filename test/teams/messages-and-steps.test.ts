// Talking to the bot and acting on steps through Teams, over the real local stack with the Teams
// stand-in: a start shows the what-if and only an operator's Declare starts it; status and runs;
// retry / skip / abort and confirm go through the decisions module with the API's refusals; the
// Action.Submit fallback; who a Teams user is; install and uninstall.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, stepState } from '../runs/support.js';
import { cardProblems } from './card-schema.js';
import { answered, startTeamsEnv, type TeamsEnv } from './support.js';

let t: TeamsEnv;
beforeAll(async () => { t = await startTeamsEnv(); }, 90_000);
afterAll(async () => { await t?.stop(); });

const at = () => new Date().toISOString();
const replyOf = (r: { reply?: { card: Record<string, unknown> } }) => {
  if (!r.reply) throw new Error('the bot did not reply');
  expect(cardProblems(r.reply.card)).toEqual([]);
  return JSON.stringify(r.reply.card);
};
const declareData = (card: string) => JSON.parse(card).actions.find((a: any) => a.verb === 'declare').data;

describe('messages to the bot', () => {
  it('"failover site East" answers the what-if (plan hash, steps, forecast) and starts nothing', async () => {
    const before = (await t.env.call('alice', 'GET', 'runs')).body.runs.length;
    const r = await t.teams.message('bob', 'failover site East');
    expect(r.status).toBe(200);
    const card = replyOf(r);
    expect(card).toContain('What-if: ');
    expect(card).toMatch(/sha256:[0-9a-f]{64}/);
    expect(card).toContain('RTO forecast');
    expect(declareData(card)).toMatchObject({ runbook: 'site-failover', options: { failedSite: 'East' }, mode: 'drill' });
    expect((await t.env.call('alice', 'GET', 'runs')).body.runs.length).toBe(before);
  });

  it('"failover site east" plans the topology\'s East with the same hash; an unknown site is answered with the sites', async () => {
    const hashOf = (card: string) => declareData(card).planHash as string;
    const upper = replyOf(await t.teams.message('bob', 'failover site East'));
    const lower = replyOf(await t.teams.message('bob', 'failover site east'));
    expect(hashOf(lower)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(hashOf(lower)).toBe(hashOf(upper));
    const unknown = replyOf(await t.teams.message('bob', 'failover site north'));
    expect(unknown).toContain('Cannot plan that');
    expect(unknown).toContain('unknown site \\"north\\"; the estate has East, West');
  });

  it('"plan fe-pool-failover pool=..." plans any runbook; a bad option is answered, not thrown', async () => {
    expect(declareData(replyOf(await t.teams.message('bob', 'plan fe-pool-failover pool=eepool1.contoso.com')))).toMatchObject({ runbook: 'fe-pool-failover', options: { pool: 'eepool1.contoso.com' } });
    expect(replyOf(await t.teams.message('bob', 'plan fe-pool-failover pool=nowhere.contoso.com'))).toContain('Cannot plan that');
    expect(replyOf(await t.teams.message('bob', 'plan no-such-runbook'))).toContain('no runbook no-such-runbook');
    expect(replyOf(await t.teams.message('bob', 'hello'))).toContain('status <run id>');
  });

  it('Declare: refused to a non-operator and for a plan that changed; an operator\'s starts the run, which status and runs then show', async () => {
    const what = replyOf(await t.teams.message('eve', 'plan readiness'));
    const data = declareData(what);
    const eve = answered(await t.teams.invoke('eve', { verb: 'declare', data }));
    expect(eve).toContain('eve may not start a run: only operators may');
    const changed = answered(await t.teams.invoke('bob', { verb: 'declare', data: { ...data, planHash: `sha256:${'1'.repeat(64)}` } }));
    expect(changed).toContain('The plan changed since this what-if');
    expect(changed).toContain('"verb":"declare"');
    expect((await t.env.call('alice', 'GET', 'runs')).body.runs.filter((x: any) => x.runbook === 'readiness')).toHaveLength(0);

    const started = answered(await t.teams.invoke('bob', { verb: 'declare', data }));
    expect(started).toContain('Run started');
    const runId = /(run-[0-9a-z]+-[0-9a-f]{6})/.exec(started)![1];
    const done = await t.env.waitFor(runId, finished, 60_000);
    expect(done.status).toMatchObject({ runbook: 'readiness', requestedBy: 'bob', phase: 'succeeded', planHash: data.planHash });

    expect(replyOf(await t.teams.message('eve', `status ${runId}`))).toContain(`Run ${runId}: succeeded`);
    expect(replyOf(await t.teams.message('eve', 'runs'))).toContain(`${runId}: readiness succeeded`);
    expect(replyOf(await t.teams.message('eve', 'status run-nope'))).toContain('no run run-nope');
  }, 90_000);
});

describe('steps waiting for people', () => {
  it('decision-needed: the card once, Retry refused to a non-operator, Skip by an operator skips the step', async () => {
    const { env, teams, sender } = t;
    await env.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: 2 });
    const id = await env.start('operator1', 'readiness', { fixture: 'faulty', tag: 'teams' });
    const r = await env.waitFor(id, (x) => stepState('failing', 'waiting-decision')(x) && x.status.steps.failing.lastError !== undefined);
    const n = { kind: 'decision-needed' as const, runId: id, runbook: 'readiness', runTitle: r.status.title, at: at(), stepId: 'failing', stepTitle: r.status.steps.failing.title, attempt: 2, error: r.status.steps.failing.lastError };
    await sender.send(n);
    await sender.send(n);
    expect(teams.cards(id)).toHaveLength(1);
    expect(answered(await teams.click({ runId: id, verb: 'retry', as: 'eve' }))).toContain('eve may not decide on a failed step: only operators may');
    expect(answered(await teams.click({ runId: id, verb: 'skip', as: 'bob', comment: 'known fault' }))).toContain('bob decided skip for step failing');
    const done = await env.waitFor(id, finished);
    expect(done.status.steps.failing).toMatchObject({ state: 'skipped', decisions: [{ decision: 'skip', by: 'bob' }] });
    // The step no longer waits: a second click is the API's 409, shown.
    expect(answered(await teams.click({ runId: id, verb: 'abort', as: 'bob' }))).toMatch(/is Completed|is skipped/);
  }, 90_000);

  it('manual-waiting: Confirm through the Action.Submit fallback (a message carrying the verb) confirms the step', async () => {
    const { env, teams, sender } = t;
    const id = await env.start('operator1', 'readiness', { fixture: 'manual', lock: 'test:teams-manual' });
    const r = await env.waitFor(id, stepState('recreate-log-shipping', 'waiting-confirmation'));
    await sender.send({ kind: 'manual-waiting', runId: id, runbook: 'readiness', runTitle: r.status.title, at: at(), stepId: 'recreate-log-shipping', stepTitle: 'Re-create log shipping', instructions: 'Run the SSMS log shipping wizard' });
    const card = teams.cards(id)[0].card as any;
    const confirm = card.actions.find((a: any) => a.verb === 'confirm');
    const reply = await teams.message('alice', '', { ...confirm.fallback.data, comment: 'wizard done' });
    expect(replyOf(reply)).toContain('alice confirmed step recreate-log-shipping');
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('succeeded');

    // run-ended: posted once, with the audit verdict.
    const ended = { kind: 'run-ended' as const, runId: id, runbook: 'readiness', runTitle: r.status.title, at: at(), outcome: 'succeeded' as const, auditVerified: true };
    await sender.send(ended);
    await sender.send(ended);
    const endedCards = teams.cards(id).filter((c) => JSON.stringify(c.card).includes('Run succeeded'));
    expect(endedCards).toHaveLength(1);
    expect(JSON.stringify(endedCards[0].card)).toContain('verified (hash chain intact)');
  }, 90_000);
});

describe('who is who, install and uninstall', () => {
  it('an activity whose Entra object id is not the member\'s is refused, with nothing done', async () => {
    const { teams } = t;
    const r = await teams.deliver({
      type: 'invoke', name: 'adaptiveCard/action', channelId: 'msteams', serviceUrl: teams.serviceUrl, id: 'spoof',
      from: { id: '29:bob', aadObjectId: teams.user('mallory').aadObjectId }, recipient: { id: `28:${teams.appId}` },
      conversation: { id: teams.conversationId, tenantId: teams.tenantId }, channelData: { tenant: { id: teams.tenantId } },
      value: { action: { type: 'Action.Execute', verb: 'declare', data: { runbook: 'readiness', options: {}, planHash: 'sha256:x' } } },
    });
    expect(answered(r)).toContain('the member Teams answered is not the sender of this activity');
  });

  it('after the bot is uninstalled the sender posts nothing there', async () => {
    const { teams, sender } = t;
    const removed = await teams.deliver({
      type: 'installationUpdate', action: 'remove', channelId: 'msteams', serviceUrl: teams.serviceUrl, id: 'bye',
      from: { id: '29:admin', aadObjectId: teams.user('admin').aadObjectId }, recipient: { id: `28:${teams.appId}` },
      conversation: { id: teams.conversationId, tenantId: teams.tenantId }, channelData: { tenant: { id: teams.tenantId } },
    });
    expect(removed.status).toBe(200);
    const before = teams.cards().length;
    await sender.send({ kind: 'run-ended', runId: 'run-20261201t000000z-000000', runbook: 'readiness', runTitle: 'x', at: at(), outcome: 'failed' });
    expect(teams.cards()).toHaveLength(before);
    expect((await teams.install()).status).toBe(200);
    await sender.send({ kind: 'run-ended', runId: 'run-20261201t000000z-000000', runbook: 'readiness', runTitle: 'x', at: at(), outcome: 'failed' });
    expect(teams.cards()).toHaveLength(before + 1);
  });
});
