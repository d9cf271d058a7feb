// Issue 13 §4: in easy-auth mode people are compared on their Entra object id, and their UPN is
// shown beside it. Over the real local host (easy-auth mode, Azurite, simulated workers): two
// principals with different object ids and the same UPN are two approvers; a principal with the
// requester's UPN but another object id is not the requester; the trail, the status and
// `lyncdr status` show each object id with its UPN; a name changed on its way is a bad signature,
// and a signed vote without a name (as the API raised them before) still counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seal, sign } from '../../functions/runs/signing.js';
import { appSettings, EXECUTOR_VERSION, runConfigFrom } from '../../shared/config/index.js';
import { gateInstanceId } from '../../shared/runs/contract.js';
import { lyncdr } from '../support/cli.js';
import { entraPrincipal, startEasyAuthFront, type EasyAuthFront } from '../support/easy-auth-front.js';
import { api, type Api } from '../support/host.js';
import { DECISION_KEY, startRunsEnv, trailUntil, type RunsEnv } from './support.js';

const TENANT = '7f1a4c2e-0000-4000-8000-00000000d001';
const OPS = '2b8e7d10-1111-4111-8111-00000000d011';
const A = '2b8e7d10-2222-4222-8222-00000000d022';
const B = '2b8e7d10-3333-4333-8333-00000000d033';
const C = '2b8e7d10-4444-4444-8444-00000000d044';
// A and B sign in with the operator's (the requester's) UPN: a reused or mistyped name must not
// make them one person, nor the requester.
const UPN = 'ops@contoso.com';

const principal = (oid: string, upn: string) => entraPrincipal(oid, TENANT, upn);
const PRINCIPALS = { ops: principal(OPS, UPN), a: principal(A, UPN), b: principal(B, UPN), c: principal(C, 'carol@contoso.com') };
type Who = keyof typeof PRINCIPALS;

const policy = { required: 2, approverGroups: { primary: [A, B, C] }, timeoutMinutes: 30, escalationTimeoutMinutes: 30 };

let env: RunsEnv;
let durable: Api;
let front: EasyAuthFront;
beforeAll(async () => {
  env = await startRunsEnv({
    settings: {
      LYNCDR_IDENTITY: 'easy-auth', LYNCDR_TENANT_ID: TENANT,
      // The operator is configured by UPN, resolved to the object id by the directory.
      LYNCDR_DIRECTORY: JSON.stringify({ [UPN]: OPS }), LYNCDR_OPERATORS: JSON.stringify([UPN]),
      LYNCDR_APPROVAL_POLICIES: JSON.stringify({ default: policy, 'declare-disaster': policy }),
    },
  });
  durable = api(env.host);
  front = await startEasyAuthFront(env.host.url, { 'token-c': PRINCIPALS.c });
}, 60_000);
afterAll(async () => { await front?.stop(); await env?.stop(); });

async function call(who: Who, method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${env.host.url}/api/${p}`, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-ms-client-principal': PRINCIPALS[who] },
  });
  return { status: res.status, body: await res.json() };
}
const run = async (id: string) => (await call('c', 'GET', `runs/${id}`)).body;
async function waitFor(id: string, pred: (r: any) => boolean, ms = 45_000): Promise<any> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await run(id);
    if (pred(r)) return r;
    if (Date.now() > deadline) throw new Error(`run ${id}: condition not reached; last: ${JSON.stringify(r?.status ?? r)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
const stepIs = (step: string, state: string) => (r: any) => r?.status?.steps?.[step]?.state === state;
const ended = (r: any) => ['Completed', 'Failed', 'Terminated'].includes(r?.runtimeStatus);
async function start(runbook: string, options: Record<string, unknown>): Promise<string> {
  const r = await call('ops', 'POST', 'runs', { runbook, options, mode: 'drill' });
  if (r.status !== 202) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.runId;
}
const vote = async (who: Who, id: string) => call(who, 'POST', `runs/${id}/votes`, { decision: 'approve', planHash: (await run(id)).status.planHash, comment: `by ${who}` });

describe('the object id decides, the UPN is shown beside it (issue 13 §4)', () => {
  it('two principals with the requester\'s UPN and their own object ids are two approvers, neither the requester; the trail, the status and lyncdr status name each by object id with the UPN', async () => {
    const id = await start('site-failover', { failedSite: 'East' });
    await waitFor(id, stepIs('declare-disaster', 'waiting-approval'), 30_000);
    // The requester cannot approve: compared on the object id.
    expect((await vote('ops', id)).body).toMatchObject({ outcome: 'refused', code: 'self-approval' });
    expect((await vote('a', id)).body).toMatchObject({ outcome: 'accepted', gate: { approvers: [A] } });
    expect((await vote('b', id)).body).toMatchObject({ outcome: 'accepted', gate: { approvers: [A, B], status: 'approved' } });
    const approved = await waitFor(id, stepIs('declare-disaster', 'succeeded'));
    expect(approved.status.steps['declare-disaster']).toMatchObject({ approvers: [A, B], approverNames: { [A]: UPN, [B]: UPN } });
    expect(approved.gates['declare-disaster'].votes.map((v: any) => [v.approver, v.approverName, v.outcome])).toEqual([
      [OPS, UPN, 'refused'], [A, UPN, 'accepted'], [B, UPN, 'accepted'],
    ]);

    const shown = await lyncdr(['status', id, '--url', front.url, '--token', 'token-c'], { PATH: process.env.PATH });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`gate declare-disaster: approved (${UPN} (${A}), ${UPN} (${B}) of 2`);
    expect(shown.stdout).toMatch(new RegExp(`declare-disaster +succeeded +approved by ${UPN} \\(${A}\\), ${UPN} \\(${B}\\)`));

    expect((await call('ops', 'POST', `runs/${id}/cancel`, { reason: 'test over' })).status).toBe(202);
    const done = await waitFor(id, ended, 60_000);
    expect(done.status).toMatchObject({ phase: 'cancelled', cancelRequested: { by: OPS, byName: UPN, reason: 'test over' }, error: `cancelled by ${UPN} (${OPS}): test over` });

    const t = await trailUntil(env.trail, id, (e) => e.some((x) => x.key === 'run:end'));
    expect(t.filter((e) => e.kind === 'vote').map((e) => [e.actor, (e.data as any).actorName, (e.data as any).outcome])).toEqual([
      [OPS, UPN, 'refused'], [A, UPN, 'accepted'], [B, UPN, 'accepted'],
    ]);
    expect(t.find((e) => e.key === 'run:cancel')).toMatchObject({ actor: OPS, data: { decision: 'cancel', actorName: UPN } });
    // The name is data like the rest: the chain verifies.
    expect((await env.trail.verify(id)).ok).toBe(true);
  }, 150_000);

  it('a run paused, resumed and its manual step confirmed by a signed-in operator: the status and the trail carry the UPN beside the object id', async () => {
    const id = await start('readiness', { fixture: 'manual', lock: 'test:upn-manual' });
    await waitFor(id, stepIs('recreate-log-shipping', 'waiting-confirmation'));
    // Paused and resumed first: the signed pause names the operator with the UPN too.
    expect((await call('ops', 'POST', `runs/${id}/pause`, { reason: 'freeze' })).status).toBe(202);
    expect((await waitFor(id, (r) => !!r.status?.paused)).status.paused).toMatchObject({ by: OPS, byName: UPN, reason: 'freeze' });
    expect((await call('ops', 'POST', `runs/${id}/resume`, { reason: 'thaw' })).status).toBe(202);
    await waitFor(id, (r) => r.status && !r.status.paused);
    expect((await call('ops', 'POST', `runs/${id}/steps/recreate-log-shipping/confirm`, { comment: 'done' })).status).toBe(202);
    const done = await waitFor(id, ended);
    expect(done.status.steps['recreate-log-shipping'].decisions).toEqual([expect.objectContaining({ decision: 'confirm', by: OPS, byName: UPN })]);
    const t = await trailUntil(env.trail, id, (e) => e.some((x) => x.kind === 'manual-confirmed'));
    expect(t.find((e) => e.kind === 'manual-confirmed')).toMatchObject({ actor: OPS, data: { actorName: UPN, comment: 'done' } });
    expect(t.filter((e) => e.kind === 'run-paused' || e.kind === 'run-resumed').map((e) => [e.kind, e.actor, (e.data as any).actorName])).toEqual([
      ['run-paused', OPS, UPN], ['run-resumed', OPS, UPN],
    ]);
    const shown = await lyncdr(['status', id, '--url', front.url, '--token', 'token-c'], { PATH: process.env.PATH });
    expect(shown.stdout).toContain(`confirm by ${UPN} (${OPS})`);
    // Who started it: the object id decides (the requester), the UPN sealed into the run's input
    // with it is shown beside it, in the summary, the whole status, the trail and the CLI.
    expect(done.status).toMatchObject({ requestedBy: OPS, requestedByName: UPN });
    expect(done.summary).toMatchObject({ requestedBy: OPS, requestedByName: UPN });
    expect(t.find((e) => e.key === 'run:declared')).toMatchObject({ actor: OPS, data: { actorName: UPN } });
    expect(shown.stdout).toContain(`requested by ${UPN} (${OPS})`);
    const listed = await lyncdr(['runs', '--url', front.url, '--token', 'token-c'], { PATH: process.env.PATH });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${id} .*${UPN} \\(${OPS}\\)`));
  }, 90_000);

  it('the starter\'s name is sealed with the run\'s input: changed after the API sealed it, the run is refused and shows no name', async () => {
    const runId = 'upn-renamed-starter-1';
    const input = seal(DECISION_KEY, { kind: 'run', runId, target: 'run' }, {
      runId, runbook: 'readiness', options: { fixture: 'quick-gate', tag: 'upn-renamed' }, mode: 'drill', requestedBy: OPS, requestedByName: UPN,
      requestedAt: new Date().toISOString(), config: { ...runConfigFrom(appSettings({ ...process.env, ...env.values })), executorVersion: EXECUTOR_VERSION },
    });
    await durable.start('runPlan', { ...input, requestedByName: 'ceo@contoso.com' }, runId);
    const s = await durable.waitFor(runId, undefined, 60_000);
    expect(s.output).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/not started by the lyncdr API/) });
    expect(s.customStatus.requestedBy).toBe(OPS);
    expect(s.customStatus.requestedByName).toBeUndefined();
  }, 90_000);

  it('a vote whose name was changed after the API signed it is refused (bad signature); the signed one counts, and so does a signed vote without a name', async () => {
    // A gate in front of one read: nothing this test does depends on, or changes, the estate the
    // first test's cancelled failover left behind.
    const id = await start('readiness', { fixture: 'quick-gate', policy: 'default', tag: 'upn' });
    await waitFor(id, stepIs('declare', 'waiting-approval'), 30_000);
    const gateId = gateInstanceId(id, 'declare');
    // The step waits before its gate instance exists: raise into it once it runs.
    await durable.waitFor(gateId, (s) => s?.runtimeStatus === 'Running');
    const planHash = (await run(id)).status.planHash as string;
    const signedFor = { kind: 'vote' as const, runId: id, target: 'gate:declare' };
    const signed = sign(DECISION_KEY, signedFor, { voteId: 'v-named', approver: A, approverName: 'alice@contoso.com', decision: 'approve', planHash, channel: 'http' });
    // Someone between the API and the gate puts another name beside A's object id.
    expect(await durable.raise(gateId, 'vote', { ...signed, approverName: 'ceo@contoso.com' })).toBe(202);
    const g1 = await durable.waitFor(gateId, (s) => (s?.customStatus?.votes ?? []).length === 1);
    expect(g1.customStatus.votes).toEqual([expect.objectContaining({ voteId: 'v-named', approver: A, outcome: 'refused', code: 'bad-signature', reason: expect.stringMatching(/signature does not match/) })]);
    // Not shown: a name whose signature did not hold is not repeated.
    expect(g1.customStatus.votes[0].approverName).toBeUndefined();
    // The vote as the API signed it counts, with its name (a refused signature took no nonce).
    expect(await durable.raise(gateId, 'vote', signed)).toBe(202);
    const g2 = await durable.waitFor(gateId, (s) => (s?.customStatus?.votes ?? []).length === 2);
    expect(g2.customStatus.votes[1]).toMatchObject({ voteId: 'v-named', approver: A, approverName: 'alice@contoso.com', outcome: 'accepted' });
    // As the API signed votes before names were carried: no name, it still verifies and counts.
    expect(await durable.raise(gateId, 'vote', sign(DECISION_KEY, signedFor, { voteId: 'v-old', approver: B, decision: 'approve', planHash, channel: 'http' }))).toBe(202);
    const g3 = await durable.waitFor(gateId, (s) => (s?.customStatus?.votes ?? []).length === 3);
    expect(g3.customStatus.votes[2]).toEqual(expect.objectContaining({ voteId: 'v-old', approver: B, outcome: 'accepted' }));
    expect(g3.customStatus.votes[2].approverName).toBeUndefined();
    expect(g3.customStatus).toMatchObject({ status: 'approved', approvers: [A, B] });
    expect((await waitFor(id, ended, 60_000)).status.phase).toBe('succeeded');
  }, 150_000);
});
