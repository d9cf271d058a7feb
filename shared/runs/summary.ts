// The run's summary (its customStatus, contract v2) and the full view the API shows (RunStatus),
// put back together from the summary and the run-steps table's rows. Pure: the executor
// summarizes with it and the API assembles with it, so both read one definition.
import type { PlanStep } from '../plan/schema.js';
import {
  SUMMARY_CONTRACT_VERSION, STATUS_CONTRACT_VERSION,
  type ActiveStep, type RunReport, type RunStatus, type RunSummary, type StepRow, type StepState, type StepStatus,
} from './contract.js';

/** Steps listed by name in the summary, at most: the rest are counted (about 80 characters each). */
export const MAX_ACTIVE = 40;
/** Texts in the summary are cut to these lengths (the whole text is in the step rows or the report). */
const MAX_TITLE = 300;
const MAX_ERROR = 1000;
const MAX_REASON = 500;

const WAITING: StepState[] = ['waiting-approval', 'waiting-decision', 'waiting-confirmation'];
const cut = (s: string | undefined, n: number) => (s === undefined || s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/** The step's status when the plan is built: what the executor starts from and the table's first row. */
export function initialStepStatus(s: PlanStep): StepStatus {
  return { kind: s.kind, title: s.title, state: 'pending', attempt: 0, ...(s.kind === 'command' ? { rendered: s.rendered } : {}) };
}

/**
 * A step whose command may still be running on a worker: running, or stopped without knowing what
 * became of its command (no answer, "outcome unknown", or a dispatch that failed after it may have
 * sent it). A lock held by an ended run with such a step is not stale.
 */
export function mayBeInFlight(st: StepStatus): boolean {
  if (st.state === 'succeeded' || st.state === 'skipped' || st.state === 'pending') return false;
  return st.state === 'running' || /outcome[ -]unknown|^system error/.test(st.lastError ?? '');
}

export function summarize(status: RunStatus): RunSummary {
  const counts: RunSummary['counts'] = {};
  const waiting: ActiveStep[] = [];
  const running: ActiveStep[] = [];
  const inFlight: string[] = [];
  for (const id of status.order) {
    const st = status.steps[id];
    counts[st.state] = (counts[st.state] ?? 0) + 1;
    const entry: ActiveStep = { id, kind: st.kind, state: st.state, attempt: st.attempt };
    if (WAITING.includes(st.state)) waiting.push(entry);
    else if (st.state === 'running') running.push(entry);
    if (st.kind === 'command' && mayBeInFlight(st)) inFlight.push(id);
  }
  const active = [...waiting, ...running];
  return {
    v: SUMMARY_CONTRACT_VERSION, runId: status.runId, runbook: status.runbook, mode: status.mode, requestedBy: status.requestedBy, phase: status.phase,
    ...(status.requestedByName ? { requestedByName: status.requestedByName } : {}),
    ...(status.planHash !== undefined ? { planHash: status.planHash } : {}),
    ...(status.title !== undefined ? { title: cut(status.title, MAX_TITLE) } : {}),
    total: status.order.length, counts,
    active: active.slice(0, MAX_ACTIVE), activeTotal: active.length,
    inFlight: inFlight.slice(0, MAX_ACTIVE), inFlightTotal: inFlight.length,
    ...(status.error !== undefined ? { error: cut(status.error, MAX_ERROR) } : {}),
    ...(status.cancelRequested ? { cancelRequested: { ...status.cancelRequested, reason: cut(status.cancelRequested.reason, MAX_REASON)! } } : {}),
    ...(status.windowOpensAt ? { windowOpensAt: status.windowOpensAt } : {}),
    ...(status.paused ? { paused: { ...status.paused, reason: cut(status.paused.reason, MAX_REASON)! } } : {}),
    ...(status.rto ? { rto: status.rto } : {}),
    ...(status.rpo ? { rpo: status.rpo } : {}),
    updatedAt: status.updatedAt,
  };
}

/**
 * The run as the API shows it: the rows give every step's details; the summary is newer for the
 * steps it names (a row is written by the next activity of the run, the summary with every
 * change), and once the run has ended its report holds every step's final status.
 */
export function assembleRun(summary: RunSummary, rows: StepRow[], report?: Pick<RunReport, 'steps'>): RunStatus {
  const sorted = [...rows].sort((a, b) => a.index - b.index);
  const steps: Record<string, StepStatus> = {};
  for (const { stepId, index: _index, seq: _seq, ...st } of sorted) steps[stepId] = st;
  for (const a of summary.active) {
    const st = steps[a.id];
    if (st) steps[a.id] = { ...st, state: a.state, attempt: a.attempt };
  }
  if (report?.steps) for (const [id, st] of Object.entries(report.steps)) steps[id] = st;
  const order = sorted.map((r) => r.stepId);
  for (const id of Object.keys(steps)) if (!order.includes(id)) order.push(id);
  return {
    v: STATUS_CONTRACT_VERSION, runId: summary.runId, runbook: summary.runbook, mode: summary.mode, requestedBy: summary.requestedBy, phase: summary.phase,
    ...(summary.requestedByName ? { requestedByName: summary.requestedByName } : {}),
    ...(summary.planHash !== undefined ? { planHash: summary.planHash } : {}),
    ...(summary.title !== undefined ? { title: summary.title } : {}),
    steps, order,
    ...(summary.error !== undefined ? { error: summary.error } : {}),
    ...(summary.cancelRequested ? { cancelRequested: summary.cancelRequested } : {}),
    ...(summary.windowOpensAt ? { windowOpensAt: summary.windowOpensAt } : {}),
    ...(summary.paused ? { paused: summary.paused } : {}),
    ...(summary.rto ? { rto: summary.rto } : {}),
    ...(summary.rpo ? { rpo: summary.rpo } : {}),
    updatedAt: summary.updatedAt,
  };
}
