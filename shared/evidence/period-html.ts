// report.html of `lyncdr audit report`: the period report for people, self-contained and
// printable like a run's evidence page (same head: no script, nothing fetched; every value escaped).
import { esc, pageHead, row, section, table } from './report-html.js';
import type { MeasureEvidence } from './build.js';
import type { PeriodReport, PeriodRun } from './period.js';

const measure = (m: MeasureEvidence | null) =>
  !m || m.minutes === undefined ? 'not measured' : `${m.minutes} min of ${m.targetMinutes ?? '?'} (${m.met === false ? 'MISSED' : m.met ? 'met' : '?'})`;
const when = (r: PeriodRun | null) => (r ? `${r.declaredAt ?? r.endedAt ?? '?'}: ${r.outcome} (${r.runId})` : 'none in the period');

export function renderPeriodReport(p: PeriodReport): string {
  const gaps = p.runbooks.flatMap((b) => b.gaps.map((g) => `${b.runbook}: ${g}`));
  const overview = table('runbooks', ['Runbook', 'Runs', 'Last drill', 'Last live run', 'RTO met / missed', 'RPO met / missed', 'Targets', 'Failures', 'Gaps'],
    p.runbooks.map((b) => `<tr data-runbook="${esc(b.runbook)}">${[
      b.runbook, b.runs, when(b.lastDrill), when(b.lastLive), `${b.rtoMet} / ${b.rtoMissed}`, `${b.rpoMet} / ${b.rpoMissed}`,
      b.targets.rtoMinutes !== undefined ? `RTO ${b.targets.rtoMinutes} min, RPO ${b.targets.rpoMinutes} min` : '', b.failures.length, b.gaps.length,
    ].map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`), 'no runbook');
  const failures = table('failures', ['Runbook', 'Run', 'When', 'Outcome', 'Error', 'What was done', 'Resolved by'],
    p.runbooks.flatMap((b) => b.failures.map((f) => row([b.runbook, f.run.runId, f.run.declaredAt ?? f.run.endedAt ?? '', f.run.outcome, f.run.error ?? '',
      f.decisions.join('; ') || 'no operator decision', f.resolvedBy ? `${f.resolvedBy.runId} (${f.resolvedBy.mode ?? '?'}, ended ${f.resolvedBy.endedAt ?? '?'})` : 'NOT RESOLVED in the period']))), 'no failure in the period');
  const runs = table('runs', ['Run', 'Runbook', 'Mode', 'Declared', 'Ended', 'Outcome', 'RTO', 'RPO', 'Deviations', 'Trail'],
    p.runs.map((r) => row([r.runId, r.runbook, r.mode ?? '', r.declaredAt ?? '', r.endedAt ?? '', r.outcome, measure(r.rto), measure(r.rpo), r.deviations, r.intact ? 'intact' : 'TAMPERED'])), 'no run in the period');
  const tampered = table('tampered', ['Run', 'Problems'], p.tampered.map((t) => row([t.runId, t.problems.join(' | ')])), 'every trail of the period verifies');
  return `${pageHead(`DR test report ${p.since} to ${p.until}`)}
<body>
<h1>Disaster-recovery tests, ${esc(p.since)} to ${esc(p.until)}</h1>
<p class="verdict ${p.tampered.length ? 'bad' : 'ok'}" id="verdict">${p.tampered.length ? `${p.tampered.length} trail(s) TAMPERED` : 'Every trail verifies'}</p>
<p>Generated ${esc(p.generatedAt)} from audit table ${esc(p.table)}: ${p.runs.length} run(s), each read from its audit trail and verified (hash chain and anchor). <code>lyncdr audit evidence &lt;run&gt;</code> gives any run's full evidence.</p>
${section('runbooks', 'Per runbook', overview)}
${section('gaps', 'Gaps', gaps.length ? `<ul class="gaps">${gaps.map((g) => `<li>${esc(g)}</li>`).join('')}</ul>` : '<p class="none">none</p>')}
${section('failures', 'Failures and what was done', failures)}
${section('integrity', 'Trail integrity', tampered)}
${section('runs', 'Runs', runs)}
</body></html>
`;
}
