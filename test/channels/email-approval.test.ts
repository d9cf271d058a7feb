// The e-mail channel over the real local stack: a host over Azurite running the app, sim workers,
// and the real local SMTP sink as the SMTP peer. People act only through the mailed links (GET the
// page, POST its form), as `lyncdr lab mail click` does.
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerLabCommands } from '../../cli/commands/lab.js';
import { clickLink } from '../../local/mail-click.js';
import { appSettings, runConfigFrom } from '../../shared/config/index.js';
import { ORCHESTRATION } from '../../shared/runs/contract.js';
import { seal } from '../../functions/runs/signing.js';
import { DECISION_KEY } from '../runs/support.js';
import { finished, stepState } from '../runs/support.js';
import { claimsOf, linkOf, mailsFor, mintLink, startEmailEnv, tampered, waitForMail, type EmailEnv } from './support.js';

let e: EmailEnv;
beforeAll(async () => { e = await startEmailEnv(); }, 60_000);
afterAll(async () => { await e?.stop(); });

/** The activities an instance scheduled, in order. */
const scheduled = async (instance: string): Promise<string[]> => {
  const h = (await (await fetch(`${e.env.host.url}/runtime/webhooks/durabletask/instances/${encodeURIComponent(instance)}?showHistory=true`)).json()) as { historyEvents: Array<{ EventType: string; FunctionName?: string }> };
  return h.historyEvents.filter((x) => x.EventType === 'TaskScheduled').map((x) => x.FunctionName!.replace(/^runs-/, ''));
};

/** `lyncdr lab mail --mail-dir <sink> ...`, as typed. */
async function labMail(...args: string[]): Promise<{ text: string; code: number }> {
  let text = '';
  let code = 0;
  const program = new Command('lyncdr').exitOverride();
  registerLabCommands(program, { env: {}, out: (t) => { text += t; }, setExitCode: (c) => { code = c; } });
  await program.parseAsync(['node', 'lyncdr', 'lab', 'mail', '--mail-dir', e.sink.dir, ...args]);
  return { text, code };
}

const gateVotes = async (id: string, step = 'declare') => ((await e.env.run(id)).gates?.[step]?.votes ?? []) as Array<{ approver: string; outcome: string; code?: string }>;

describe('a whole run through e-mail', () => {
  it('gate mails arrive, two approvers click, the operator confirms by mail, the run ends and everyone hears once', async () => {
    const id = await e.env.start('operator1', 'readiness', { fixture: 'email-flow', tag: 'whole' });
    await e.env.waitFor(id, stepState('declare', 'waiting-approval'));
    // One invitation per eligible approver; never the requester.
    const invites = mailsFor(await waitForMail(e.sink, (all) => mailsFor(all, id, /^gate:declare:invite/).length >= 3), id, /^gate:declare:invite/);
    expect(invites.flatMap((m) => m.to).sort()).toEqual(['alice@example.test', 'bob@example.test', 'carol@example.test']);
    const planHash = (await e.env.run(id)).status.planHash;
    for (const m of invites) {
      expect(m.links.map((l) => l.decision)).toEqual(['approve', 'reject']);
      expect(claimsOf(linkOf(m, 'approve'))).toMatchObject({ r: id, s: 'declare', h: planHash, d: 'approve' });
    }

    const alice = invites.find((m) => m.to.includes('alice@example.test'))!;
    const bob = invites.find((m) => m.to.includes('bob@example.test'))!;
    // GET alone (a link scanner) changes nothing.
    const scanned = await fetch(linkOf(alice, 'approve'));
    expect(scanned.status).toBe(200);
    expect(await scanned.text()).toContain('Nothing has been decided yet');
    expect(await gateVotes(id)).toHaveLength(0);

    const a = await clickLink(linkOf(alice, 'approve'), { comment: 'plan <b>reviewed</b>' });
    expect(a, a.text).toMatchObject({ status: 200 });
    expect(a.text).toMatch(/Your approval was recorded/);
    // Bob uses the CLI: list, open, then click (the page, then its form, as bob).
    expect((await labMail('list')).text).toMatch(new RegExp(`\\s${bob.n}\\s+bob@example.test\\s+\\[lyncdr\\] Approval needed: Declare the <disaster> & fail over .*\\[approve reject\\]`));
    expect((await labMail('open', String(bob.n))).text).toMatch(/Plan hash: sha256:/);
    const b = await labMail('click', String(bob.n), 'approve', '--as', 'bob', '--comment', 'ok');
    expect(b, b.text).toMatchObject({ code: 0 });
    expect(b.text).toMatch(/Your approval was recorded/);

    // The manual step: its mail goes to the operators, one of whom confirms through it.
    await e.env.waitFor(id, stepState('do-by-hand', 'waiting-confirmation'));
    const manual = mailsFor(await waitForMail(e.sink, (all) => mailsFor(all, id, /^manual:do-by-hand$/).length >= 2), id, /^manual:do-by-hand$/);
    expect(manual.flatMap((m) => m.to).sort()).toEqual(['operator1@example.test', 'operator2@example.test']);
    const c = await clickLink(linkOf(manual.find((m) => m.to.includes('operator2@example.test'))!, 'confirm'), { comment: 'SRV removed' });
    expect(c.status, c.text).toBe(200);

    const done = await e.env.waitFor(id, finished, 60_000);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps['do-by-hand'].decisions[0]).toMatchObject({ decision: 'confirm', by: 'operator2' });

    // The trail records the channel of every vote and of the confirmation.
    const trail = await e.env.trail.readRun(id);
    const votes = trail.filter((x) => x.kind === 'vote');
    expect(votes.map((v) => [v.actor, (v.data as any).outcome, (v.data as any).channel])).toEqual([['alice', 'accepted', 'email'], ['bob', 'accepted', 'email']]);
    expect((votes[1].data as any).comment).toBe('ok');
    // Where each decision came from: the user agent, and the address (none on the local host).
    expect((votes[1].data as any).client).toEqual({ userAgent: 'lyncdr-cli (lab mail click)', address: 'unknown' });
    expect((trail.find((x) => x.kind === 'manual-confirmed')!.data as any).client).toEqual({ userAgent: 'lyncdr-cli (lab mail click)', address: 'unknown' });
    expect((votes[0].data as any).comment).toBe('plan <b>reviewed</b>');
    expect((trail.find((x) => x.kind === 'manual-confirmed')!.data as any).channel).toBe('email');

    // The end, to the operators and the approvers asked, with the trail's verdict.
    const ended = mailsFor(await waitForMail(e.sink, (all) => mailsFor(all, id, /^run-ended$/).length >= 5), id, /^run-ended$/);
    expect(ended.flatMap((m) => m.to).sort()).toEqual(['alice', 'bob', 'carol', 'operator1', 'operator2'].map((x) => `${x}@example.test`));
    expect(ended[0].subject).toBe(`[lyncdr] Run succeeded: E-mail flow <whole>`);
    const raw = await import('node:fs').then((fs) => fs.readFileSync(`${e.sink.dir}/${ended[0].file}`, 'utf8'));
    expect(raw).toMatch(/Audit trail: verified/);

    // Executor version 4: the gate notifies on opening, on each vote and on its decision; the run
    // when the manual step waits and when it ends. Version 5: each vote's signature is checked first.
    expect(await scheduled(`${id}:gate:declare`)).toEqual(['audit', 'notify', 'verifyDecision', 'audit', 'notify', 'verifyDecision', 'audit', 'notify', 'audit', 'notify']);
    expect((await scheduled(id)).filter((x) => x === 'notify')).toHaveLength(2);

    // Exactly one message per (notification key, recipient) over the whole run, replays included.
    const mine = e.sink.messages().filter((m) => m.run === id);
    const pairs = mine.map((m) => `${m.key} -> ${m.to.join(',')}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(new Set(mine.map((m) => m.messageId)).size).toBe(mine.length);
  }, 120_000);
});

describe('runs started by older code', () => {
  it('a run of executor version 3 (before notifications) schedules no notify activity, in the run or its gate, and mails nobody', async () => {
    const config = { ...runConfigFrom(appSettings({ ...process.env, ...e.env.values })), executorVersion: 3 };
    const id = `run-v3-${Date.now().toString(36)}`;
    // Sealed with the app's key: a new run may name an older version only so (no downgrade, README Security).
    const input = seal(DECISION_KEY, { kind: 'run', runId: id, target: 'run' }, { runId: id, runbook: 'readiness', options: { fixture: 'email-flow', tag: 'v3' }, mode: 'drill', requestedBy: 'operator1', requestedAt: new Date().toISOString(), config });
    const res = await fetch(`${e.env.host.url}/runtime/webhooks/durabletask/orchestrators/${ORCHESTRATION.runPlan}/${id}`, { method: 'POST', body: JSON.stringify(input), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(202);
    await e.env.waitFor(id, stepState('declare', 'waiting-approval'));
    for (const who of ['alice', 'bob']) expect((await e.env.vote(who, id, 'approve')).body.outcome).toBe('accepted');
    await e.env.waitFor(id, stepState('do-by-hand', 'waiting-confirmation'));
    expect((await e.env.call('operator1', 'POST', `runs/${id}/steps/do-by-hand/confirm`, {})).status).toBe(202);
    expect((await e.env.waitFor(id, finished)).status.phase).toBe('succeeded');
    expect(await scheduled(`${id}:gate:declare`)).toEqual(['audit', 'audit', 'audit', 'audit']);
    expect(await scheduled(id)).not.toContain('notify');
    expect(e.sink.messages().filter((m) => m.run === id)).toHaveLength(0);
  }, 60_000);
});

describe('refusals and link checks', () => {
  let id: string;
  let planHash: string;
  let carol: string;
  let base: string;
  beforeAll(async () => {
    id = await e.env.start('operator1', 'readiness', { fixture: 'email-flow', tag: 'refusals' });
    await e.env.waitFor(id, stepState('declare', 'waiting-approval'));
    planHash = (await e.env.run(id)).status.planHash;
    const invites = mailsFor(await waitForMail(e.sink, (all) => mailsFor(all, id, /^gate:declare:invite/).length >= 3), id, /^gate:declare:invite/);
    carol = linkOf(invites.find((m) => m.to.includes('carol@example.test'))!, 'approve');
    base = e.env.host.url;
  }, 60_000);

  it('a changed field of the link breaks its signature: 403 page, no vote', async () => {
    const c = claimsOf(carol);
    const changes: Array<Partial<typeof c>> = [
      { r: `${id}x` }, { s: 'other-gate' }, { u: 'bob' }, { h: 'sha256:' + '1'.repeat(64) }, { d: 'reject' }, { e: c.e + 3600 }, { i: 'A'.repeat(24) }, { a: 2 },
    ];
    for (const change of changes) {
      const url = tampered(carol, change);
      const got = await fetch(url);
      expect(got.status, JSON.stringify(change)).toBe(403);
      expect(await got.text()).toMatch(/signature does not match/);
      const posted = await fetch(url, { method: 'POST', body: 'csrf=x&comment=y', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(posted.status).toBe(403);
    }
    expect((await fetch(`${base}/api/links/v1.garbage`)).status).toBe(400);
    expect(await gateVotes(id)).toHaveLength(0);
  });

  it('an expired link: 410, no vote', async () => {
    const url = mintLink(base, { r: id, s: 'declare', u: 'carol', h: planHash, d: 'approve', e: Math.floor(Date.now() / 1000) - 1 });
    const r = await fetch(url);
    expect(r.status).toBe(410);
    expect(await r.text()).toMatch(/expired/);
    expect((await clickLink(url, {})).status).toBe(410);
    expect(await gateVotes(id)).toHaveLength(0);
  });

  it('a form without the page\'s CSRF token is refused, and the link stays usable', async () => {
    const url = mintLink(base, { r: id, s: 'declare', u: 'carol', h: planHash, d: 'approve' });
    const r = await fetch(url, { method: 'POST', body: 'csrf=forged&comment=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBe(403);
    expect((await fetch(url)).status).toBe(200);
    expect(await gateVotes(id)).toHaveLength(0);
  });

  it('someone else than the link\'s approver: 403 locally (x-lyncdr-user) and in easy-auth mode; no sign-in in easy-auth: 401', async () => {
    expect((await clickLink(carol, { as: 'bob' })).status).toBe(403);
    // Easy Auth's principal: the link's approver is resolved to an object id through the directory.
    const tenant = '7f1a4c2e-0000-4000-8000-00000000a001';
    const oids: Record<string, string> = { bob: '2b8e7d10-2222-4222-8222-00000000b002', carol: '2b8e7d10-3333-4333-8333-00000000b003' };
    const principal = (who: string) => Buffer.from(JSON.stringify({ userDetails: `${who}@contoso.com`, claims: [
      { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: oids[who] },
      { typ: 'http://schemas.microsoft.com/identity/claims/tenantid', val: tenant },
    ] })).toString('base64');
    Object.assign(process.env, { LYNCDR_IDENTITY: 'easy-auth', LYNCDR_TENANT_ID: tenant, LYNCDR_DIRECTORY: JSON.stringify(oids) });
    try {
      expect((await fetch(carol)).status).toBe(401);
      expect((await fetch(carol, { headers: { 'x-lyncdr-user': 'carol' } })).status).toBe(401);
      const foreign = await fetch(carol, { headers: { 'x-ms-client-principal': principal('bob') } });
      expect(foreign.status).toBe(403);
      expect(await foreign.text()).toMatch(/issued to carol; you are signed in as bob@contoso.com \(2b8e7d10-2222-4222-8222-00000000b002\)/);
      const own = await fetch(carol, { headers: { 'x-ms-client-principal': principal('carol') } });
      expect(own.status).toBe(200);
    } finally {
      delete process.env.LYNCDR_IDENTITY;
      delete process.env.LYNCDR_TENANT_ID;
      delete process.env.LYNCDR_DIRECTORY;
    }
    expect(await gateVotes(id)).toHaveLength(0);
  });

  it('self-approval, not an approver and a changed plan are refused by the gate, shown with its reason and audited as refused', async () => {
    const self = await clickLink(mintLink(base, { r: id, s: 'declare', u: 'operator1', h: planHash, d: 'approve' }), {});
    expect(self.status).toBe(409);
    expect(self.text).toMatch(/operator1 requested this run and cannot approve it/);
    const stranger = await clickLink(mintLink(base, { r: id, s: 'declare', u: 'mallory', h: planHash, d: 'approve' }), {});
    expect(stranger.status).toBe(409);
    expect(stranger.text).toMatch(/mallory is not in the approver groups/);
    const otherPlan = await clickLink(mintLink(base, { r: id, s: 'declare', u: 'alice', h: 'sha256:' + '2'.repeat(64), d: 'approve' }), {});
    expect(otherPlan.status).toBe(409);
    expect(otherPlan.text).toMatch(/approvers approve exactly the plan they were shown/);
    expect((await gateVotes(id)).map((v) => [v.approver, v.outcome, v.code])).toEqual([
      ['operator1', 'refused', 'self-approval'], ['mallory', 'refused', 'not-eligible'], ['alice', 'refused', 'plan-mismatch'],
    ]);
    const audited = (await e.env.trail.readRun(id)).filter((x) => x.kind === 'vote').map((x) => [x.actor, (x.data as any).code, (x.data as any).channel]);
    expect(audited).toEqual([['operator1', 'self-approval', 'email'], ['mallory', 'not-eligible', 'email'], ['alice', 'plan-mismatch', 'email']]);
  });

  it('a rejection without a comment is sent back to the form, and the link is not used up', async () => {
    const url = mintLink(base, { r: id, s: 'declare', u: 'dave', h: planHash, d: 'reject' });
    const r = await clickLink(url, {});
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/A rejection must say why/);
    expect((await fetch(url)).status).toBe(200);
  });

  it('a link works once; once the gate is decided, a valid link is refused with gate-closed', async () => {
    const alice = mintLink(base, { r: id, s: 'declare', u: 'alice', h: planHash, d: 'approve' });
    expect((await clickLink(alice, {})).status).toBe(200);
    const again = await clickLink(alice, {});
    expect(again.status).toBe(410);
    expect(again.text).toMatch(/already used/);
    // Two racing posts of one page: exactly one gets through.
    const bob = mintLink(base, { r: id, s: 'declare', u: 'bob', h: planHash, d: 'approve' });
    const page = await (await fetch(bob)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1];
    const post = () => fetch(bob, { method: 'POST', body: `csrf=${encodeURIComponent(csrf)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }).then((x) => x.status);
    expect((await Promise.all([post(), post()])).sort()).toEqual([200, 410]);

    await e.env.waitFor(id, (r) => r.gates?.declare?.status === 'approved');
    const late = await clickLink(carol, {});
    expect(late.status).toBe(409);
    expect(late.text).toMatch(/gate-closed/);
    expect((await gateVotes(id)).filter((v) => v.outcome === 'accepted').map((v) => v.approver)).toEqual(['alice', 'bob']);

    // Tidy up: the run waits at its manual step; cancel it so its lock goes.
    await e.env.waitFor(id, stepState('do-by-hand', 'waiting-confirmation'));
    await e.env.call('operator1', 'POST', `runs/${id}/cancel`, { reason: 'test done' });
    await e.env.waitFor(id, finished);
  }, 60_000);
});

describe('a failed step decided by mail', () => {
  it('the operators get retry / skip / abort links for the failed attempt; skip through one lets the run finish', async () => {
    const id = await e.env.start('operator1', 'readiness', { fixture: 'email-flow', tag: 'decision' });
    await e.env.waitFor(id, stepState('declare', 'waiting-approval'));
    const planHash = (await e.env.run(id)).status.planHash;
    for (const who of ['alice', 'bob']) expect((await e.env.vote(who, id, 'approve')).body.outcome).toBe('accepted');
    await e.env.waitFor(id, stepState('do-by-hand', 'waiting-confirmation'));
    await e.env.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: 1 });
    expect((await e.env.call('operator1', 'POST', `runs/${id}/steps/do-by-hand/confirm`, {})).status).toBe(202);
    await e.env.waitFor(id, stepState('read-fabric', 'waiting-decision'));
    const mails = mailsFor(await waitForMail(e.sink, (all) => mailsFor(all, id, /^decision:read-fabric:attempt:1$/).length >= 2), id, /^decision:read-fabric:attempt:1$/);
    const m = mails.find((x) => x.to.includes('operator2@example.test'))!;
    expect(m.links.map((l) => l.decision)).toEqual(['retry', 'skip', 'abort']);
    expect(claimsOf(linkOf(m, 'skip'))).toMatchObject({ a: 1, u: 'operator2', h: '' });
    // A non-operator's decision link (signed, but for alice) is refused by the decisions module.
    const notOperator = await clickLink(mintLink(e.env.host.url, { r: id, s: 'read-fabric', u: 'alice', d: 'abort', a: 1 }), {});
    expect(notOperator.status).toBe(403);
    expect(notOperator.text).toMatch(/only operators may/);
    const skip = await clickLink(linkOf(m, 'skip'), { comment: 'fabric read is optional' });
    expect(skip.status, skip.text).toBe(200);
    const done = await e.env.waitFor(id, finished);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps['read-fabric']).toMatchObject({ state: 'skipped', decisions: [{ decision: 'skip', by: 'operator2' }] });
    const decision = (await e.env.trail.readRun(id)).find((x) => x.kind === 'operator-decision')!;
    expect((decision.data as any).channel).toBe('email');
    expect((decision.data as any).client).toEqual({ userAgent: 'lyncdr-cli (lab mail click)', address: 'unknown' });
    expect(planHash).toMatch(/^sha256:/);
  }, 90_000);
});
