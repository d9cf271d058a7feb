// Where plans come from: the runbook builders (orchestrations/runbooks buildPlan), installed by
// functions/index.ts, over the configured topology. A seam, so tests can also run the executor on
// hand-built plans (a manual step, a fault on a chosen command) through the same activity.
import { assertValidPlan, planHash, type Plan, type PlanInput, type RunbookName } from '../plan/index.js';
import type { Topology } from '../topology/index.js';

export type PlanBuilder = (runbook: RunbookName, topology: Topology, options: Record<string, unknown>) => PlanInput | Plan;

let builder: PlanBuilder | undefined;

export function usePlanBuilder(b: PlanBuilder): void {
  builder = b;
}
export function planBuilder(): PlanBuilder {
  if (!builder) throw new Error('no plan builder is installed: functions/index.ts must call usePlanBuilder(buildPlan)');
  return builder;
}

/** Builds, validates (schema, ids, references, cycles) and hashes a plan. */
export function buildAndHash(runbook: RunbookName, topology: Topology, options: Record<string, unknown>): { plan: Plan; planHash: string } {
  const plan = assertValidPlan(planBuilder()(runbook, topology, options));
  return { plan, planHash: planHash(plan) };
}
