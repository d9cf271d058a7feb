// Which steps may start: pure DAG bookkeeping for the executor. A step is ready when every step
// it depends on succeeded or was skipped by an operator; it is blocked for good when one of them
// failed or was cancelled.
import type { PlanStep } from '../plan/schema.js';
import type { StepState } from './contract.js';

const DONE_OK: StepState[] = ['succeeded', 'skipped'];
const DONE_BAD: StepState[] = ['failed', 'cancelled'];

export function readySteps(steps: PlanStep[], state: (id: string) => StepState): PlanStep[] {
  return steps.filter((s) => state(s.id) === 'pending' && s.dependsOn.every((d) => DONE_OK.includes(state(d))));
}

export function blockedSteps(steps: PlanStep[], state: (id: string) => StepState): PlanStep[] {
  const blocked = new Set<string>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const s of steps) {
      if (blocked.has(s.id) || state(s.id) !== 'pending') continue;
      if (s.dependsOn.some((d) => DONE_BAD.includes(state(d)) || blocked.has(d))) { blocked.add(s.id); changed = true; }
    }
  }
  return steps.filter((s) => blocked.has(s.id));
}
