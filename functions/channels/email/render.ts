// What each notification says by mail: a subject, a plain-text part and an HTML part (tables and
// inline styles, no scripts, no images: what Outlook shows as sent). Links open a confirmation
// page; nothing is decided by opening one.
import { formatDuration } from '../../../shared/plan/rto.js';
import type { Measure } from '../../../shared/runs/contract.js';
import type { Notification } from '../../../shared/runs/notifications.js';
import { button, esc, rows } from './html.js';
import { namesOfVotes, shownAll } from '../../../shared/identity/display.js';

export interface MailLink { label: string; decision: string; url: string }
export interface RenderedMail { subject: string; text: string; html: string }

const COLOURS: Record<string, string> = { approve: '#107c10', confirm: '#107c10', retry: '#0063b1', skip: '#8a6d00', reject: '#a4262c', abort: '#a4262c' };

type Sendable = Notification & { auditVerified?: boolean };

const measure = (label: string, m: Measure | undefined) =>
  m ? `${label}: ${m.minutes === null ? 'not measured' : `${m.minutes.toFixed(1)} min`} (target ${m.targetMinutes} min${m.met === null ? '' : m.met ? ', met' : ', MISSED'})` : undefined;

function facts(n: Sendable): Array<[string, string | undefined]> {
  const common: Array<[string, string | undefined]> = [['Run', n.runId], ['Runbook', n.runbook], ['Run title', n.runTitle]];
  switch (n.kind) {
    case 'gate': {
      const g = n.gate;
      // People as shownAs says: the UPN their signed vote carried beside the object id.
      const names = namesOfVotes(g.votes);
      return [...common,
        ['Approval', g.title], ['Why', g.reason], ['Requested by', g.requester], ['Plan hash', g.planHash],
        ['Approvals', `${g.approvers.length} of ${g.required}${g.approvers.length ? ` (${shownAll(g.approvers, names).join(', ')})` : ''}`],
        ['Rejected by', shownAll(g.rejectors, names).join(', ') || undefined], ['Phase', g.phase], ['Decide before', g.deadline],
        ['RTO forecast', g.rtoForecastMinutes !== undefined ? `${formatDuration(g.rtoForecastMinutes * 60_000)}${g.rtoTargetMinutes !== undefined ? ` (target ${g.rtoTargetMinutes} min)` : ''}` : undefined],
      ];
    }
    case 'manual-waiting':
      return [...common, ['Step', `${n.stepTitle} (${n.stepId})`], ['What to do', n.instructions]];
    case 'decision-needed':
      return [...common, ['Step', `${n.stepTitle} (${n.stepId})`], ['Attempt', String(n.attempt)], ['Error', n.error]];
    case 'run-ended':
      return [...common, ['Outcome', n.outcome], ['Error', n.error], ['RTO', measure('RTO', n.rto)?.slice(5)], ['RPO', measure('RPO', n.rpo)?.slice(5)],
        ['Audit trail', n.auditVerified === undefined ? undefined : n.auditVerified ? 'verified: every entry is there, unaltered, in order' : 'VERIFICATION FAILED: run lyncdr audit verify']];
  }
}

export function subjectOf(n: Sendable): string {
  switch (n.kind) {
    case 'gate': return `[lyncdr] Approval needed: ${n.gate.title} (${n.runTitle})`;
    case 'manual-waiting': return `[lyncdr] Manual step waiting: ${n.stepTitle} (${n.runTitle})`;
    case 'decision-needed': return `[lyncdr] Step failed, decision needed: ${n.stepTitle} (${n.runTitle})`;
    case 'run-ended': return `[lyncdr] Run ${n.outcome}: ${n.runTitle}`;
  }
}

const intro = (n: Sendable): string => {
  switch (n.kind) {
    case 'gate': return 'Your approval is requested. Check the plan hash against the plan you reviewed (lyncdr plan / lyncdr status).';
    case 'manual-waiting': return 'A manual step waits for you. Do it, then confirm it.';
    case 'decision-needed': return 'A step failed after its retries and waits for an operator: retry it, skip it, or abort the run.';
    case 'run-ended': return `The run ended: ${n.outcome}.`;
  }
};

export function renderMail(n: Sendable, links: MailLink[]): RenderedMail {
  const subject = subjectOf(n).slice(0, 250);
  const f = facts(n);
  const changes = n.kind === 'gate' ? n.gate.changes : [];
  const more = n.kind === 'gate' ? n.gate.changesTotal - changes.length : 0;
  const linkNote = 'Each link opens a page that asks you to confirm; opening it changes nothing. A link works once, only for you, until it expires.';

  const text = [
    intro(n), '',
    ...f.filter(([, v]) => v).map(([k, v]) => `${k}: ${v}`),
    ...(changes.length ? ['', `What changes (${n.kind === 'gate' ? n.gate.changesTotal : 0} steps):`, ...changes.map((c) => `  - ${c.title}${c.site ? ` [${c.site}]` : ''} (${c.id})`), ...(more > 0 ? [`  ... and ${more} more`] : [])] : []),
    ...(links.length ? ['', ...links.map((l) => `${l.label}: ${l.url}`), '', linkNote] : []),
    '', '-- lyncdr',
  ].join('\n');

  const changesHtml = changes.length
    ? `<h3 style="font-size:15px;margin:20px 0 6px">What changes (${n.kind === 'gate' ? n.gate.changesTotal : 0} steps)</h3><table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse">`
      + changes.map((c) => `<tr><td style="padding:2px 12px 2px 0">${esc(c.title)}</td><td style="padding:2px 12px 2px 0;color:#555">${esc(c.site ?? '')}</td><td style="padding:2px 0;color:#777;font-family:Consolas,monospace;font-size:12px">${esc(c.id)}</td></tr>`).join('')
      + (more > 0 ? `<tr><td colspan="3" style="padding:2px 0;color:#555">... and ${esc(more)} more</td></tr>` : '') + '</table>'
    : '';
  const linksHtml = links.length
    ? `<table role="presentation" cellpadding="0" cellspacing="0" style="margin:20px 0 8px"><tr>${links.map((l) => button(l.label, l.url, COLOURS[l.decision] ?? '#0063b1')).join('')}</tr></table>`
      + `<p style="font-size:12px;color:#555;margin:4px 0">${esc(linkNote)}</p>`
    : '';
  const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(subject)}</title></head>`
    + `<body style="margin:0;padding:0"><table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td style="padding:16px;font-family:Segoe UI,Arial,sans-serif;font-size:14px;color:#222">`
    + `<p style="margin:0 0 12px">${esc(intro(n))}</p><table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse">${rows(f)}</table>`
    + changesHtml + linksHtml + `<p style="font-size:12px;color:#777;margin:16px 0 0">lyncdr</p></td></tr></table></body></html>`;
  return { subject, text, html };
}
