// report.html: an evidence pack for people, printable and self-contained (no script, no fetched
// resource: the Content-Security-Policy forbids both, so the file reads the same offline, in ten
// years, and from an auditor's mail). Every value comes from the trail, which is untrusted text:
// each one is escaped, none becomes markup.
import type { EvidencePack } from './pack.js';
import type { CommandEvidence, MeasureEvidence } from './build.js';

export const esc = (v: unknown): string =>
  String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Long outputs are cut in the page; evidence.json holds them whole. */
export const OUTPUT_SHOWN_CHARS = 1_500;

export const cell = (v: unknown) => `<td>${esc(v)}</td>`;
export const row = (cells: unknown[]) => `<tr>${cells.map(cell).join('')}</tr>`;
export const table = (cls: string, head: string[], rows: string[], empty: string) =>
  rows.length === 0
    ? `<p class="none">${esc(empty)}</p>`
    : `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
export const section = (id: string, title: string, body: string) => `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`;
const json = (v: unknown) => (v === undefined ? '' : JSON.stringify(v));
const cut = (s: string) => (s.length > OUTPUT_SHOWN_CHARS ? `${s.slice(0, OUTPUT_SHOWN_CHARS)}… (${s.length} characters; whole in evidence.json)` : s);

function measure(name: string, m: MeasureEvidence | null): string {
  if (!m) return row([name, 'not measured', '', '', '']);
  const verdict = m.met === undefined ? '' : m.met ? 'met' : 'MISSED';
  return `<tr class="${m.met === false ? 'missed' : ''}">${[name, m.minutes === undefined ? '-' : `${m.minutes} min`, m.targetMinutes === undefined ? '-' : `${m.targetMinutes} min`, verdict, `${m.basis ?? ''}${m.from ? ` (${m.from} → ${m.to ?? '?'})` : ''}`].map(cell).join('')}</tr>`;
}

function command(c: CommandEvidence): string {
  const checks = [
    c.precondition && `precondition ${c.precondition.ok ? 'held' : 'FAILED'}${c.precondition.description ? `: ${c.precondition.description}` : ''}`,
    c.postcondition && `check ${c.postcondition.ok ? 'held' : 'FAILED'}${c.postcondition.description ? `: ${c.postcondition.description}` : ''}${c.postcondition.error ? ` (${c.postcondition.error})` : ''}`,
    c.refusedResults ? `${c.refusedResults} result(s) refused` : undefined,
  ].filter(Boolean).join('; ');
  return `<tr class="outcome-${esc(c.outcome)}">${[
    c.stepId, c.attempt, c.site ?? '', c.dispatchedAt, c.answeredAt ?? '', c.answeredBy ?? '', c.outcome, c.exitCode ?? '',
  ].map(cell).join('')}<td><code>${esc(c.rendered ?? json(c.invocation))}</code>${c.error ? `<div class="error">${esc(c.error)}</div>` : ''}${c.output !== undefined ? `<pre>${esc(cut(json(c.output)))}</pre>` : ''}</td>${cell(checks)}</tr>`;
}

/** The pages' one style sheet, inline (nothing is fetched). */
export const STYLE = `body { font: 10.5pt/1.4 system-ui, sans-serif; margin: 2em; color: #111; }
h1 { font-size: 16pt; margin-bottom: .2em; } h2 { font-size: 13pt; border-bottom: 1px solid #999; margin-top: 1.6em; } h3 { font-size: 11pt; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; } th, td { border: 1px solid #bbb; padding: 2px 4px; vertical-align: top; text-align: left; }
th { background: #eee; } tr { break-inside: avoid; } pre { white-space: pre-wrap; word-break: break-all; margin: 2px 0; font-size: 8pt; max-height: none; }
code { word-break: break-all; } .verdict { font-weight: bold; padding: .3em .6em; display: inline-block; }
.verdict.ok { background: #dfd; } .verdict.bad { background: #fcc; } .missed, .outcome-failed, .outcome-timed-out, .outcome-malformed { background: #fee; }
.error { color: #900; } .none { color: #555; font-style: italic; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 1em; } dt { font-weight: bold; } dd { margin: 0; word-break: break-all; }
@media print { body { margin: 0; } section { break-inside: auto; } h2 { break-after: avoid; } a { color: inherit; } }
`;

/** The page's head: no script, no fetched resource. */
export const pageHead = (title: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${esc(title)}</title>
<style>
${STYLE}</style></head>`;

export function renderReport(p: EvidencePack): string {
  const r = p.run;
  const v = p.verification;
  const verdict = v.ok ? 'INTACT' : 'TAMPERED';
  const anchor = v.anchor === undefined ? '' : v.anchor === null ? 'no anchor outside the table: only the chain was checked'
    : `anchored outside the table: ${v.anchor.lines} line(s)${v.anchor.last ? `, up to entry ${v.anchor.last.seq} (${v.anchor.last.kind}, ${v.anchor.last.at})` : ''}${v.anchor.ended ? '; the run ended there' : ''}`;
  const head = v.head ? `${v.head.count} entries, ${v.head.alg}, last hash ${v.head.lastHash}` : 'no head row';

  const summary = `<dl class="summary">${[
    ['Run', r.runId], ['Runbook', r.runbook], ['Title', r.title], ['Mode', r.mode], ['Options', json(r.options)],
    ['Requested by', `${r.requestedBy ?? '?'}${r.requestedByName ? ` (${r.requestedByName})` : ''}`], ['Declared', r.declaredAt], ['Ended', r.endedAt ?? 'not ended'],
    ['Outcome', r.outcome], ['Error', r.error], ['Plan hash', p.plan?.hash], ['Trail', `${verdict}: ${head}`], ['Anchor', anchor],
  ].filter(([, x]) => x !== undefined && x !== '').map(([k, x]) => `<dt>${esc(k)}</dt><dd data-field="${esc(String(k).toLowerCase().replace(/ /g, '-'))}">${esc(x)}</dd>`).join('')}</dl>`;

  const plan = p.plan
    ? `<p>Plan hash <code>${esc(p.plan.hash)}</code>; targets ${esc(json(p.plan.targets))}; locks ${esc(p.plan.locks.join(', '))}.</p>` +
      table('plan', ['#', 'Step', 'Kind', 'Effect', 'Site', 'Command or instructions', 'After'], p.plan.steps.map((s, i) => row([i + 1, `${s.id}${s.title ? `: ${s.title}` : ''}`, s.kind, s.effect ?? '', s.site ?? '', s.rendered ?? s.instructions ?? '', s.dependsOn.join(', ')])), 'no steps')
    : '<p class="none">no plan was recorded (the run failed before its plan was built)</p>';

  const approvals = p.approvals.length === 0 ? '<p class="none">no approval gate</p>' : p.approvals.map((g) =>
    `<h3>${esc(g.title ?? g.gate)}</h3><p>Requested ${esc(g.requestedAt)} by ${esc(g.requestedBy)}; policy ${esc(g.policy)}, ${esc(g.required)} required of ${esc(json(g.approverGroups))}; plan hash <code>${esc(g.planHash)}</code>.</p>` +
    table('votes', ['Approver', 'Vote', 'Channel', 'At', 'Plan hash', 'Outcome', 'Comment'], g.votes.map((x) => row([`${x.approver}${x.approverName ? ` (${x.approverName})` : ''}`, x.decision, x.channel ?? '', x.at, x.planHash ?? '', x.outcome ?? '', x.comment ?? ''])), 'no votes') +
    (g.escalations.length ? `<p>Escalated: ${g.escalations.map((x) => `${esc(x.at)} to ${esc(x.added.join(', '))}`).join('; ')}.</p>` : '') +
    `<p class="decision">Decision: ${g.decision ? `${esc(g.decision.status)} at ${esc(g.decision.at)}${g.decision.approvers.length ? `, approved by ${esc(g.decision.approvers.join(', '))}` : ''}${g.decision.rejectors.length ? `, rejected by ${esc(g.decision.rejectors.join(', '))}` : ''}` : 'none recorded'}</p>`).join('');

  const commands = table('commands', ['Step', 'Attempt', 'Site', 'Sent', 'Answered', 'By', 'Outcome', 'Exit', 'Command and result', 'Checks'], p.commands.map(command), 'no command was sent');
  const confirmations = table('confirmations', ['At', 'Step', 'By', 'Channel', 'Comment', 'Check', 'Instructions'], p.confirmations.map((c) =>
    row([c.at, c.stepId, `${c.by}${c.byName ? ` (${c.byName})` : ''}`, c.channel ?? '', c.comment ?? '', c.check ? (c.check.ok ? 'held' : `FAILED: ${c.check.error ?? ''}`) : '', c.instructions ?? ''])), 'no manual step was confirmed');
  const decisions = table('decisions', ['At', 'By', 'Decision', 'Step', 'Attempt', 'Reason', 'Finding'], p.decisions.map((d) =>
    row([d.at, `${d.by}${d.byName ? ` (${d.byName})` : ''}`, d.decision, d.stepId ?? '', d.attempt ?? '', d.reason ?? '', d.finding ?? ''])), 'no operator decision');
  const measures = `<table class="measures"><thead><tr><th>Measure</th><th>Achieved</th><th>Target</th><th>Verdict</th><th>Basis</th></tr></thead><tbody>${measure('RTO', p.measures.rto)}${measure('RPO', p.measures.rpo)}</tbody></table>` +
    (p.measures.targetsSource ? `<p>Targets: ${esc(p.measures.targetsSource)}.</p>` : '');
  const deviations = p.deviations.length === 0 ? '<p class="none">none: every step succeeded unattended, within its targets</p>'
    : `<ul class="deviations">${p.deviations.map((d) => `<li>${d.seq !== undefined ? `entry ${esc(d.seq)}: ` : ''}${esc(d.text)}</li>`).join('')}</ul>`;
  const timeline = table('timeline', ['#', 'At', 'Kind', 'Actor', 'What'], p.timeline.map((t) => row([t.seq, t.at, t.kind, t.actor, t.text])), 'no entries');
  const problems = v.problems.length === 0 ? `<p>The hash chain, the payloads and the anchor agree: ${esc(head)}. ${esc(anchor)}.</p>`
    : table('problems', ['Where', 'Type', 'Problem'], v.problems.map((x) => row([x.seq !== undefined ? `entry ${x.seq}` : x.rowKey ?? '', x.type, x.message])), '');

  return `${pageHead(`Evidence: ${r.runbook ?? 'run'} ${r.runId}`)}
<body>
<h1>Evidence: ${esc(r.title ?? r.runbook ?? r.runId)}</h1>
<p class="verdict ${v.ok ? 'ok' : 'bad'}" id="verdict">Audit trail ${verdict}</p>
<p>Generated ${esc(p.generatedAt)} by ${esc(p.generatedBy)} from audit table ${esc(p.trail.table)}. Every fact below is read from the run's audit trail; <code>lyncdr audit verify --file evidence.json</code> checks the trail and this content offline.</p>
${section('summary', 'Summary', summary)}
${section('measures', 'RTO and RPO against targets', measures)}
${section('deviations', 'Deviations', deviations)}
${section('approvals', 'Approvals', approvals)}
${section('confirmations', 'Manual confirmations', confirmations)}
${section('decisions', 'Operator decisions', decisions)}
${section('commands', 'Commands and results', commands)}
${section('plan', 'Plan', plan)}
${section('timeline', 'Timeline', timeline)}
${section('verification', 'Verification', problems)}
</body></html>
`;
}
