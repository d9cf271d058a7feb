// The period report: per runbook, what an auditor of business continuity asks (SOC 2 A1.3,
// ISO 22301 clause 8.5): was it tested in the period, the last drill and its outcome, the RTO/RPO
// achieved against the targets, and each failure with what was done about it. Built from the runs'
// evidence sections (derived from their verified trails), so it says what the trails say. Pure.
import type { VerifyReport } from '../audit/index.js';
import type { EvidenceSections, MeasureEvidence } from './build.js';

export interface PeriodRun {
  runId: string; runbook: string; mode?: string; declaredAt?: string; endedAt?: string; outcome: string; error?: string;
  rto: MeasureEvidence | null; rpo: MeasureEvidence | null; deviations: number; decisions: string[];
  /** The trail's own verification: a run whose trail does not verify is a finding by itself. */
  intact: boolean; problems: string[];
}
export interface PeriodFailure {
  run: PeriodRun;
  /** What was done: the operators' decisions in the run, and the next run of the runbook that succeeded. */
  decisions: string[];
  resolvedBy: { runId: string; mode?: string; endedAt?: string } | null;
}
export interface RunbookPeriod {
  runbook: string;
  runs: number;
  lastDrill: PeriodRun | null;
  lastLive: PeriodRun | null;
  targets: { rtoMinutes?: number; rpoMinutes?: number };
  rtoMet: number; rtoMissed: number; rpoMet: number; rpoMissed: number;
  failures: PeriodFailure[];
  /** What an auditor would write down: not tested in the period, a failure not followed by a success, a missed target. */
  gaps: string[];
}
export interface PeriodReport {
  format: 'lyncdr-period-report'; v: 1; since: string; until: string; generatedAt: string; table: string;
  runs: PeriodRun[];
  runbooks: RunbookPeriod[];
  /** Runs whose trail does not verify, named on their own. */
  tampered: { runId: string; problems: string[] }[];
}

export interface RunEvidence { sections: EvidenceSections; verification: VerifyReport }

/** When a run is counted: the day it was declared, or its end for a trail that lost its start. */
export const runTime = (r: { declaredAt?: string; endedAt?: string }): string | undefined => r.declaredAt ?? r.endedAt;

export function periodRun(e: RunEvidence): PeriodRun {
  const s = e.sections;
  return {
    runId: s.run.runId, runbook: s.run.runbook ?? '(unknown: the trail lost its start)', ...(s.run.mode ? { mode: s.run.mode } : {}),
    ...(s.run.declaredAt ? { declaredAt: s.run.declaredAt } : {}), ...(s.run.endedAt ? { endedAt: s.run.endedAt } : {}), outcome: s.run.outcome, ...(s.run.error ? { error: s.run.error.slice(0, 500) } : {}),
    rto: s.measures.rto, rpo: s.measures.rpo, deviations: s.deviations.length,
    decisions: s.decisions.map((d) => `${d.at} ${d.by}: ${d.decision}${d.stepId ? ` ${d.stepId}` : ''}${d.reason ? ` (${d.reason})` : ''}`),
    intact: e.verification.ok, problems: e.verification.problems.map((p) => p.message),
  };
}

export function periodReport(opts: { since: string; until: string; generatedAt: string; table: string; catalog: readonly string[]; runs: RunEvidence[] }): PeriodReport {
  const runs = opts.runs.map(periodRun)
    .filter((r) => { const t = runTime(r); return t === undefined || (t >= opts.since && t < opts.until); })
    .sort((a, b) => (runTime(a) ?? '').localeCompare(runTime(b) ?? ''));
  const targetsOf = new Map<string, { rtoMinutes?: number; rpoMinutes?: number }>();
  for (const e of opts.runs) {
    const t = e.sections.plan?.targets as { rtoMinutes?: number; rpoMinutes?: number } | undefined;
    if (e.sections.run.runbook && t) targetsOf.set(e.sections.run.runbook, { rtoMinutes: t.rtoMinutes, rpoMinutes: t.rpoMinutes });
  }
  const names = [...new Set([...opts.catalog, ...runs.map((r) => r.runbook)])];
  const runbooks = names.map((runbook): RunbookPeriod => {
    const mine = runs.filter((r) => r.runbook === runbook);
    const last = (mode: string) => mine.filter((r) => r.mode === mode).at(-1) ?? null;
    const failures = mine.filter((r) => r.outcome !== 'succeeded').map((run): PeriodFailure => {
      const later = mine.find((r) => r.outcome === 'succeeded' && (runTime(r) ?? '') > (runTime(run) ?? ''));
      return { run, decisions: run.decisions, resolvedBy: later ? { runId: later.runId, ...(later.mode ? { mode: later.mode } : {}), ...(later.endedAt ? { endedAt: later.endedAt } : {}) } : null };
    });
    const count = (k: 'rto' | 'rpo', met: boolean) => mine.filter((r) => r[k]?.met === met).length;
    const gaps: string[] = [];
    if (!mine.some((r) => r.mode === 'drill' || r.mode === 'live')) gaps.push(`not tested between ${opts.since} and ${opts.until}: no drill or live run`);
    for (const f of failures) if (!f.resolvedBy) gaps.push(`run ${f.run.runId} ${f.run.outcome} and no later run of ${runbook} succeeded`);
    for (const r of mine) {
      if (r.rto?.met === false) gaps.push(`run ${r.runId}: RTO ${r.rto.minutes} min missed the ${r.rto.targetMinutes} min target`);
      if (r.rpo?.met === false) gaps.push(`run ${r.runId}: RPO ${r.rpo.minutes} min missed the ${r.rpo.targetMinutes} min target`);
      if (!r.intact) gaps.push(`run ${r.runId}: its audit trail does not verify`);
    }
    return {
      runbook, runs: mine.length, lastDrill: last('drill'), lastLive: last('live'), targets: targetsOf.get(runbook) ?? {},
      rtoMet: count('rto', true), rtoMissed: count('rto', false), rpoMet: count('rpo', true), rpoMissed: count('rpo', false), failures, gaps,
    };
  });
  return {
    format: 'lyncdr-period-report', v: 1, since: opts.since, until: opts.until, generatedAt: opts.generatedAt, table: opts.table, runs, runbooks,
    tampered: runs.filter((r) => !r.intact).map((r) => ({ runId: r.runId, problems: r.problems })),
  };
}
