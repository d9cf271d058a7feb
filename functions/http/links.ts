// The e-mailed links: GET /api/links/{token} shows what the link would do and changes nothing
// (mail scanners such as Safe Links fetch every link within seconds); POST, from the page's own
// form with its CSRF token, decides, through functions/runs/decisions.ts like every channel.
//
// Who may use a link: the identity it was issued to. In Azure (LYNCDR_IDENTITY=easy-auth) the
// page requires sign-in, and the signed-in user must be that identity. Locally there is no sign-in
// (a browser opened from a mail client sends no x-lyncdr-user): when the request names an identity
// (x-lyncdr-user, `lyncdr lab mail click --as`), it must be the link's; when it names none, the
// signed link stands for its identity, as a password-reset link does, which is what a local lab
// can offer. A link is used once: its id is inserted in a table before the decision is sent.
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { IdentitySchema } from '../../shared/approvals/schema.js';
import { gateInstanceId, type GateCustomStatus } from '../../shared/runs/contract.js';
import { storageConnectionString } from '../../shared/storage/connection.js';
import { csrfOk, csrfTokenFor, verifyLink, type LinkClaims } from '../channels/email/links.js';
import { confirmPage, resultPage, type LinkContext } from '../channels/email/pages.js';
import { linkSettings, type LinkSettings } from '../channels/email/settings.js';
import { UsedLinks } from '../channels/email/used-links.js';
import { castVote, confirmStep, decideStep, type DecisionAnswer, type DecisionClient } from '../runs/decisions.js';
import { findRun, runView, statusOf, type Client } from '../runs/read.js';
import { identityOf } from './identity.js';
import { nameBeside, namesOfVotes, shownAs } from '../../shared/identity/display.js';
import { identityMode, resolveConfigured } from '../../shared/identity/index.js';

const SECURITY_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // The token is in the URL: never send it on as a referrer; no framing; forms post here only.
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};
const html = (status: number, body: string): HttpResponseInit => ({ status, headers: SECURITY_HEADERS, body });

let used: { table: string; links: UsedLinks } | undefined;
const usedLinks = (s: LinkSettings) => {
  if (used?.table !== s.linksTable) used = { table: s.linksTable, links: new UsedLinks(storageConnectionString(), s.linksTable) };
  return used.links;
};

type Who = { ok: true; user: string; name?: string; how: string } | { ok: false; res: HttpResponseInit };

function whoUses(req: HttpRequest, c: LinkClaims, token: string): Who {
  const named = req.headers.has('x-ms-client-principal') || req.headers.has('x-lyncdr-user');
  if (identityMode() !== 'easy-auth' && !named) return { ok: true, user: c.u, how: 'local lab: the link stands for its identity' };
  const who = identityOf(req);
  if (!who.ok) {
    const login = `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(`/api/links/${token}`)}`;
    return { ok: false, res: html(401, resultPage('Sign in first', `${who.error}. Sign in (${login}), then open the link again.`)) };
  }
  // A link names its person as the run's configuration did: resolved the same way as the caller.
  if (who.user !== resolveConfigured(IdentitySchema.parse(c.u))) {
    return { ok: false, res: html(403, resultPage('This link is not yours', `This link was issued to ${c.u}; you are signed in as ${shownAs(who.user, who.display)}. Nothing was changed.`)) };
  }
  const name = nameBeside(who.user, who.display);
  return { ok: true, user: who.user, ...(name ? { name } : {}), how: who.source === 'easy-auth' ? 'signed in' : 'x-lyncdr-user' };
}

async function contextOf(client: Client, c: LinkClaims): Promise<LinkContext> {
  const run = await findRun(client, c.r);
  const st = run ? (await runView(run))?.steps[c.s] : undefined;
  const ctx: LinkContext = {
    runTitle: run?.custom?.title, runbook: run?.custom?.runbook, runPhase: run?.custom?.phase ?? (run ? String(run.status.runtimeStatus) : 'no such run'),
    stepTitle: st?.title, stepState: st?.state, runPlanHash: run?.custom?.planHash,
  };
  if (st?.kind === 'approval' && st.state !== 'pending') {
    const g = (await statusOf(client, gateInstanceId(c.r, c.s)))?.customStatus as GateCustomStatus | undefined;
    if (g) ctx.gate = { approvers: g.approvers, names: namesOfVotes(g.votes), required: g.required, status: g.status };
  }
  return ctx;
}

const DONE: Record<LinkClaims['d'], string> = {
  approve: 'Your approval', reject: 'Your rejection', confirm: 'Your confirmation', retry: 'Your decision (retry)', skip: 'Your decision (skip)', abort: 'Your decision (abort)',
};

function answerPage(c: LinkClaims, a: DecisionAnswer): HttpResponseInit {
  const b = a.body as { outcome?: string; error?: string; code?: string; gate?: { approvers?: string[]; required?: number; status?: string } };
  const gate = b.gate ? `${b.gate.approvers?.length ?? 0} of ${b.gate.required} approvals, gate ${b.gate.status}` : undefined;
  if (a.status === 200 || a.status === 202) {
    const pending = b.outcome === 'pending';
    return html(200, resultPage(pending ? 'Sent' : 'Recorded', pending ? `${DONE[c.d]} was sent to the gate, which has not answered yet: see lyncdr status ${c.r}.` : `${DONE[c.d]} was recorded.`,
      [['Run', c.r], ['Step', c.s], ['Gate', gate]]));
  }
  return html(a.status, resultPage('Refused', `${DONE[c.d]} was refused: ${b.error ?? 'no reason given'}`, [['Run', c.r], ['Step', c.s], ['Code', b.code], ['Gate', gate]]));
}

async function decide(client: Client, c: LinkClaims, user: string, name: string | undefined, comment: string | undefined, from: DecisionClient): Promise<DecisionAnswer> {
  const common = { ...(comment ? { comment } : {}), ...(name ? { name } : {}), channel: 'email' as const, client: from };
  switch (c.d) {
    case 'approve': case 'reject':
      return castVote(client, c.r, user, { decision: c.d, planHash: c.h, step: c.s, ...common });
    case 'confirm':
      return confirmStep(client, c.r, c.s, user, common);
    case 'retry': case 'skip': case 'abort':
      return decideStep(client, c.r, c.s, user, { decision: c.d, ...common });
  }
}

export async function handleLink(req: HttpRequest, client: Client): Promise<HttpResponseInit> {
  let s: LinkSettings;
  try { s = linkSettings(); } catch { return html(404, resultPage('Not found', 'E-mailed links are not enabled on this app (LYNCDR_LINK_KEY).')); }
  const token = req.params.token ?? '';
  const check = verifyLink(s.key, token, Date.now());
  if (!check.ok) {
    const status = check.code === 'expired' ? 410 : check.code === 'bad-signature' ? 403 : 400;
    return html(status, resultPage(check.code === 'expired' ? 'This link has expired' : 'This link is not valid', `${check.reason}. Nothing was changed.`));
  }
  const c = check.claims;
  const who = whoUses(req, c, token);
  if (!who.ok) return who.res;
  const links = usedLinks(s);
  const earlier = await links.isUsed(c.r, c.i);
  if (earlier) return html(410, resultPage('This link was already used', `It was used by ${earlier.user} at ${earlier.at}; a link works once. Nothing was changed.`));

  const csrf = csrfTokenFor(s.key, c.i);
  if (req.method === 'GET') return html(200, confirmPage(c, who.user, await contextOf(client, c), csrf, who.how));

  const form = new URLSearchParams(await req.text());
  if (!csrfOk(s.key, c.i, form.get('csrf') ?? undefined)) {
    return html(403, resultPage('Not accepted', 'The form did not come from this link\'s page (its token does not match). Open the link again. Nothing was changed.'));
  }
  const comment = (form.get('comment') ?? '').trim().slice(0, 2000) || undefined;
  if (c.d === 'reject' && !comment) return html(400, confirmPage(c, who.user, await contextOf(client, c), csrf, who.how, 'A rejection must say why: add a comment.'));
  if (c.a) {
    // A decision is for the attempt that failed: a link from an earlier failure decides nothing now.
    const run = await findRun(client, c.r);
    const now = run ? (await runView(run))?.steps[c.s] : undefined;
    if (now && now.attempt !== c.a) return html(409, resultPage('Refused', `This link is for attempt ${c.a}; step ${c.s} is at attempt ${now.attempt} (${now.state}). Nothing was changed.`));
  }
  // Where the decision came from, for the trail: App Service passes the client's address in
  // x-forwarded-for / client-ip; the local host passes none.
  const from: DecisionClient = {
    userAgent: (req.headers.get('user-agent') ?? '').slice(0, 500),
    address: (req.headers.get('x-forwarded-for') ?? req.headers.get('client-ip') ?? 'unknown').slice(0, 100),
  };
  const use = { user: who.user, decision: c.d, at: new Date().toISOString(), ...from };
  if (!(await links.claim(c.r, c.i, use))) return html(410, resultPage('This link was already used', 'A link works once. Nothing was changed.'));
  let a: DecisionAnswer;
  try {
    a = await decide(client, c, who.user, who.name, comment, from);
  } catch (err) {
    // The decision did not reach the run: give the link back.
    await links.release(c.r, c.i);
    throw err;
  }
  await links.answer(c.r, c.i, a.status, String((a.body as { outcome?: string; error?: string }).error ?? (a.body as { outcome?: string }).outcome ?? a.status));
  return answerPage(c, a);
}

app.http('links', {
  route: 'links/{token}', methods: ['GET', 'POST'], authLevel: 'anonymous', extraInputs: [df.input.durableClient()],
  handler: async (req: HttpRequest, context: InvocationContext) => {
    try {
      return await handleLink(req, df.getClient(context));
    } catch (err) {
      context.error(`links: ${(err as Error).stack ?? err}`);
      return html(500, resultPage('Something went wrong', 'Try the link again in a moment; lyncdr status shows whether your decision reached the run.'));
    }
  },
});
