// The pages an e-mailed link opens: the confirmation (GET: shows, changes nothing), and what the
// decision came to (POST). Server-rendered, every value escaped, no script: mail scanners that
// fetch the link and run its scripts find nothing to click.
import { esc, page, rows } from './html.js';
import type { LinkClaims } from './links.js';
import { shownAll } from '../../../shared/identity/display.js';

export interface LinkContext {
  runTitle?: string;
  runbook?: string;
  runPhase?: string;
  stepTitle?: string;
  stepState?: string;
  /** The plan hash the run has now (a link for another one will be refused by the gate). */
  runPlanHash?: string;
  /** `names`: the approvers' display names, by identity (from their signed votes). */
  gate?: { approvers: string[]; names?: Record<string, string>; required: number; status: string };
}

const WHAT: Record<LinkClaims['d'], string> = {
  approve: 'Approve', reject: 'Reject', confirm: 'Confirm the manual step is done', retry: 'Retry the step', skip: 'Skip the step', abort: 'Abort the run',
};
const COLOUR: Record<LinkClaims['d'], string> = { approve: '#107c10', confirm: '#107c10', retry: '#0063b1', skip: '#8a6d00', reject: '#a4262c', abort: '#a4262c' };

export function confirmPage(c: LinkClaims, user: string, ctx: LinkContext, csrf: string, how: string, problem?: string): string {
  const gate = c.d === 'approve' || c.d === 'reject';
  const facts = rows([
    ['Run', c.r], ['Runbook', ctx.runbook], ['Run title', ctx.runTitle], ['Run phase', ctx.runPhase],
    [gate ? 'Approval' : 'Step', `${ctx.stepTitle ?? c.s} (${c.s})`], ['Step state', ctx.stepState],
    ...(gate ? [['Plan hash (this link)', c.h] as [string, string], ['Plan hash (the run now)', ctx.runPlanHash] as [string, string | undefined]] : []),
    ...(ctx.gate ? [['Approvals', `${ctx.gate.approvers.length} of ${ctx.gate.required}${ctx.gate.approvers.length ? ` (${shownAll(ctx.gate.approvers, ctx.gate.names).join(', ')})` : ''}, ${ctx.gate.status}`] as [string, string]] : []),
    ...(c.a ? [['Attempt', String(c.a)] as [string, string]] : []),
    ['Acting as', `${user} (${how})`], ['Link expires', new Date(c.e * 1000).toISOString()],
  ]);
  const changed = gate && ctx.runPlanHash && ctx.runPlanHash !== c.h
    ? '<p style="color:#a4262c;font-weight:bold">The run\'s plan hash differs from the one this link was issued for: the gate will refuse this vote.</p>' : '';
  return page(`lyncdr: ${WHAT[c.d]}`, `<h1 style="font-size:20px">${esc(WHAT[c.d])}?</h1>`
    + (problem ? `<p style="color:#a4262c;font-weight:bold">${esc(problem)}</p>` : '')
    + `<p>Nothing has been decided yet. Check what you are deciding, then press the button.</p>`
    + `<table role="presentation" style="border-collapse:collapse">${facts}</table>${changed}`
    + `<form method="post" style="margin-top:20px">`
    + `<input type="hidden" name="csrf" value="${esc(csrf)}">`
    + `<label for="comment" style="display:block;margin-bottom:4px">Comment${c.d === 'reject' ? ' (required: say why)' : ' (optional)'}</label>`
    + `<textarea id="comment" name="comment" rows="4" cols="60" maxlength="2000"${c.d === 'reject' ? ' required' : ''} style="width:100%;font:inherit"></textarea>`
    + `<p><button type="submit" name="decision" value="${esc(c.d)}" style="background:${COLOUR[c.d]};color:#fff;border:0;border-radius:4px;padding:10px 18px;font:inherit;font-weight:bold;cursor:pointer">${esc(WHAT[c.d])}</button></p>`
    + `</form>`);
}

export function resultPage(title: string, message: string, details: Array<[string, string | undefined]> = []): string {
  return page(`lyncdr: ${title}`, `<h1 style="font-size:20px">${esc(title)}</h1><p>${esc(message)}</p>`
    + (details.length ? `<table role="presentation" style="border-collapse:collapse">${rows(details)}</table>` : ''));
}
