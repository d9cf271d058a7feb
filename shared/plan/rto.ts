// The RTO forecast a plan is approved against. The clock starts when the disaster is declared
// (the gate with startsRtoClock is approved), so pre-flight reads and the wait for approvers do
// not count; steps run in parallel where the DAG allows, so the critical path counts, not the
// sum. Persistent Chat clients then reconnect at about 10 logons per second (seed 000), which
// for tens of thousands of users dominates everything else and belongs in the estimate.
import { criticalPath, descendants } from './dag.js';
import type { Plan } from './schema.js';

export const PCHAT_LOGONS_PER_SECOND = 10;

export interface RtoForecast {
  criticalPathMs: number;
  criticalPath: string[];
  /** The same steps one after another: what running the plan without parallelism would take. */
  serialSumMs: number;
  pchatReconnectMs: number;
  totalMs: number;
  targetRtoMs: number;
  withinTarget: boolean;
  /** The gate that starts the clock; absent when the plan has none (then every step counts). */
  clockStartsAt?: string;
}

export function pchatReconnectMs(users: number): number {
  return Math.ceil(users / PCHAT_LOGONS_PER_SECOND) * 1000;
}

export function forecastRto(plan: Pick<Plan, 'steps' | 'targets' | 'pchatUsersReconnecting'>): RtoForecast {
  const gate = plan.steps.find((s) => s.kind === 'approval' && s.startsRtoClock);
  const cp = criticalPath(plan, gate ? { from: gate.id } : {});
  // The serial sum covers the same steps the critical path was chosen from.
  const after = gate ? descendants(plan, gate.id) : undefined;
  const serialSumMs = plan.steps.filter((s) => !after || after.has(s.id)).reduce((sum, s) => sum + s.estimatedMs, 0);
  const reconnect = pchatReconnectMs(plan.pchatUsersReconnecting ?? 0);
  const totalMs = cp.ms + reconnect;
  const targetRtoMs = plan.targets.rtoMinutes * 60_000;
  return {
    criticalPathMs: cp.ms,
    criticalPath: cp.path,
    serialSumMs,
    pchatReconnectMs: reconnect,
    totalMs,
    targetRtoMs,
    withinTarget: totalMs <= targetRtoMs,
    ...(gate ? { clockStartsAt: gate.id } : {}),
  };
}

/** "1 h 42 min", "12 min 30 s", "45 s": durations as an operator reads them. */
export function formatDuration(ms: number): string {
  const totalSeconds = Math.round(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (h) return m ? `${h} h ${m} min` : `${h} h`;
  if (m) return s ? `${m} min ${s} s` : `${m} min`;
  return `${s} s`;
}
