// Structural checks and graph algorithms over a Plan. A plan is data that crosses trust
// boundaries (built in an activity, stored in history, approved by hash), so the executor and
// the CLI validate it before running or showing it rather than trusting the builder.
import { validateInvocation } from '../commands/invocation.js';
import { Plan, type PlanStep } from './schema.js';

export interface PlanProblem {
  /** The step the problem is about, when there is one. */
  stepId?: string;
  path: string;
  message: string;
}

export type PlanValidation = { ok: true; plan: Plan } | { ok: false; problems: PlanProblem[] };

function pathOf(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${String(s)}` : String(s)), '');
}

/**
 * Finds one cycle among the steps and returns it closed ("a -> b -> a"), or undefined.
 * Depth-first with colours; unknown dependencies are ignored (reported separately).
 */
export function findCycle(steps: ReadonlyArray<Pick<PlanStep, 'id' | 'dependsOn'>>): string[] | undefined {
  const deps = new Map(steps.map((s) => [s.id, s.dependsOn ?? []]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 'visiting');
    stack.push(id);
    for (const d of deps.get(id) ?? []) {
      if (!deps.has(d)) continue;
      const st = state.get(d);
      if (st === 'visiting') return [...stack.slice(stack.indexOf(d)), d];
      if (st === undefined) {
        const c = visit(d);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const s of steps) {
    if (state.get(s.id) === undefined) {
      const c = visit(s.id);
      // Edges point from a step to what it depends on; reverse so the cycle reads in execution order.
      if (c) return c.reverse();
    }
  }
  return undefined;
}

/**
 * Checks a plan against the schema and the rules the schema cannot express: unique step ids,
 * dependencies that resolve, no cycles, and every command step valid against the catalog with
 * `rendered`, `effect` and retry settings matching what the catalog says. The rendered line is
 * what approvers read, so a plan whose rendered text differs from the command it would send is
 * refused: approvers must approve exactly what runs.
 */
export function validatePlan(input: unknown): PlanValidation {
  const parsed = Plan.safeParse(input);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => ({ path: pathOf(i.path) || '(root)', message: i.message })) };
  }
  const plan = parsed.data;
  const problems: PlanProblem[] = [];
  const firstIndex = new Map<string, number>();
  const records = new Map<string, string>();

  plan.steps.forEach((step, i) => {
    const at = `steps[${i}]`;
    const prev = firstIndex.get(step.id);
    if (prev !== undefined) problems.push({ stepId: step.id, path: `${at}.id`, message: `duplicate step id "${step.id}" (also steps[${prev}])` });
    else firstIndex.set(step.id, i);
    if (step.records) {
      const owner = records.get(step.records);
      if (owner) problems.push({ stepId: step.id, path: `${at}.records`, message: `records key "${step.records}" is already written by step "${owner}"` });
      else records.set(step.records, step.id);
    }
  });

  plan.steps.forEach((step, i) => {
    const at = `steps[${i}]`;
    step.dependsOn.forEach((d, j) => {
      if (d === step.id) problems.push({ stepId: step.id, path: `${at}.dependsOn[${j}]`, message: `step "${step.id}" depends on itself` });
      else if (!firstIndex.has(d)) problems.push({ stepId: step.id, path: `${at}.dependsOn[${j}]`, message: `unknown step "${d}"` });
    });
    const checkVerification = (command: Parameters<typeof validateInvocation>[0] | undefined) => {
      if (!command) return;
      const vv = validateInvocation(command);
      if (!vv.ok) {
        for (const issue of vv.issues) problems.push({ stepId: step.id, path: `${at}.verification.command.${issue.path}`, message: issue.message });
      } else if (vv.command.effect !== 'read-only') {
        problems.push({ stepId: step.id, path: `${at}.verification.command`, message: `a verification must only read, but ${vv.command.name} is ${vv.command.effect}` });
      }
    };
    // A manual step's check is sent to a worker like any command: the same rules.
    if (step.kind === 'manual') {
      if (step.verification && !step.site) problems.push({ stepId: step.id, path: `${at}.site`, message: 'a manual step with a check needs the site whose worker runs it' });
      checkVerification(step.verification?.command);
    }
    if (step.kind !== 'command') return;
    const v = validateInvocation(step.command);
    if (!v.ok) {
      for (const issue of v.issues) problems.push({ stepId: step.id, path: `${at}.command.${issue.path}`, message: issue.message });
      return;
    }
    if (v.rendered !== step.rendered) {
      problems.push({ stepId: step.id, path: `${at}.rendered`, message: `does not match the command: the catalog renders ${JSON.stringify(v.rendered)}` });
    }
    if (v.command.effect !== step.effect) {
      problems.push({ stepId: step.id, path: `${at}.effect`, message: `is "${step.effect}" but ${v.command.name} is ${v.command.effect}` });
    }
    if (step.effect === 'non-idempotent' && (step.retrySafe || step.retry.maxAttempts > 1)) {
      // A non-idempotent command that timed out may have run: running it again could do it twice.
      problems.push({ stepId: step.id, path: `${at}.retry`, message: `${v.command.name} is not idempotent: it must not be retried (retrySafe false, maxAttempts 1)` });
    }
    checkVerification(step.verification?.command);
  });

  const cycle = findCycle(plan.steps);
  if (cycle) problems.push({ stepId: cycle[0], path: 'steps', message: `dependency cycle: ${cycle.join(' -> ')}` });

  return problems.length ? { ok: false, problems } : { ok: true, plan };
}

/** Throws with every problem listed; for builders and callers that hold a plan they built themselves. */
export function assertValidPlan(input: unknown): Plan {
  const r = validatePlan(input);
  if (!r.ok) throw new PlanValidationError(r.problems);
  return r.plan;
}

export class PlanValidationError extends Error {
  override name = 'PlanValidationError';
  constructor(readonly problems: PlanProblem[]) {
    super(`invalid plan: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
}

type DagStep = Pick<PlanStep, 'id' | 'dependsOn'>;

/**
 * Steps grouped so that every step of a level depends only on steps of earlier levels: the
 * steps of one level can run in parallel. Within a level the plan's own order is kept, so the
 * output is stable. Throws on a cycle (validate first).
 */
export function topologicalLevels(plan: { steps: readonly DagStep[] }): string[][] {
  const level = new Map<string, number>();
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const cycle = findCycle(plan.steps);
  if (cycle) throw new Error(`dependency cycle: ${cycle.join(' -> ')}`);
  const depth = (id: string): number => {
    const known = level.get(id);
    if (known !== undefined) return known;
    const deps = (byId.get(id)?.dependsOn ?? []).filter((d) => byId.has(d));
    const l = deps.length ? Math.max(...deps.map(depth)) + 1 : 0;
    level.set(id, l);
    return l;
  };
  const levels: string[][] = [];
  for (const s of plan.steps) (levels[depth(s.id)] ??= []).push(s.id);
  return levels;
}

/** Every step `id` depends on, directly or through others. */
export function ancestors(plan: { steps: readonly DagStep[] }, id: string): Set<string> {
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const out = new Set<string>();
  const walk = (x: string): void => {
    for (const d of byId.get(x)?.dependsOn ?? []) {
      if (!out.has(d)) {
        out.add(d);
        walk(d);
      }
    }
  };
  walk(id);
  return out;
}

/** Every step that depends on `id`, directly or through others. */
export function descendants(plan: { steps: readonly DagStep[] }, id: string): Set<string> {
  const dependents = new Map<string, string[]>();
  for (const s of plan.steps) for (const d of s.dependsOn ?? []) dependents.set(d, [...(dependents.get(d) ?? []), s.id]);
  const out = new Set<string>();
  const queue = [id];
  while (queue.length) {
    for (const n of dependents.get(queue.shift()!) ?? []) {
      if (!out.has(n)) {
        out.add(n);
        queue.push(n);
      }
    }
  }
  return out;
}

export interface CriticalPath {
  ms: number;
  /** Step ids from the first to the last step of the longest chain. */
  path: string[];
}

/**
 * The longest chain of dependent steps, weighted by `durations` (default: each step's
 * estimatedMs). With `from`, only that step's descendants count and `from` itself weighs
 * nothing: used for the RTO, whose clock starts when the declaring gate is approved.
 */
export function criticalPath(
  plan: { steps: ReadonlyArray<DagStep & { estimatedMs: number }> },
  options: { durations?: Readonly<Record<string, number>> | ((step: DagStep & { estimatedMs: number }) => number); from?: string } = {},
): CriticalPath {
  const { durations, from } = options;
  const weight = (s: DagStep & { estimatedMs: number }): number =>
    typeof durations === 'function' ? durations(s) : (durations?.[s.id] ?? s.estimatedMs);
  const included = from === undefined ? new Set(plan.steps.map((s) => s.id)) : descendants(plan, from);
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const best = new Map<string, CriticalPath>();
  const order = topologicalLevels(plan).flat();
  for (const id of order) {
    if (!included.has(id)) continue;
    const step = byId.get(id)!;
    let head: CriticalPath = { ms: 0, path: [] };
    for (const d of step.dependsOn ?? []) {
      const b = best.get(d);
      if (b && b.ms > head.ms) head = b;
    }
    best.set(id, { ms: head.ms + weight(step), path: [...head.path, id] });
  }
  let out: CriticalPath = { ms: 0, path: [] };
  for (const id of order) {
    const b = best.get(id);
    if (b && b.ms > out.ms) out = b;
  }
  return out;
}
