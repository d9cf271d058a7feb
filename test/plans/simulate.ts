// Runs a built plan's command steps against the real simulator, in dependency order: the steps
// a plan lets run at the same time are started together (each once the previous one has begun),
// so an order the plan allows but the estate refuses shows up as a refused step. Approval gates
// count as approved; manual steps as done, or `onManual` does them. Verifications are the
// executor's business and are not judged here.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Plan, PlanStep } from '../../shared/plan/index.js';
import type { Topology } from '../../shared/topology/index.js';
import { Simulator } from '../../worker/simulator/simulator.js';
import type { ExecutionResult } from '../../worker/executors/types.js';
import { LOG_TAIL_COMMANDS, runLogTail } from '../../worker/log-tail.js';

export interface SimulatedRun {
  /** Step ids in the order they finished. */
  done: string[];
  failed?: { stepId: string; stderr: string };
  results: Record<string, ExecutionResult>;
}

export function newSimulator(topology: Topology, timeFactor = 0): Simulator {
  return new Simulator({ dir: mkdtempSync(path.join(os.tmpdir(), 'lyncdr-plan-sim-')), topology, timeFactor });
}

async function begun(sim: Simulator, commandId: string): Promise<void> {
  for (;;) {
    if ((await sim.state()).executions.some((e) => e.commandId === commandId || e.commandId.startsWith(`${commandId}/`))) return;
    await new Promise((r) => setImmediate(r));
  }
}

export async function simulatePlan(sim: Simulator, plan: Plan, onManual?: (s: PlanStep) => Promise<void>): Promise<SimulatedRun> {
  const run: SimulatedRun = { done: [], results: {} };
  // What a step recorded, kept whole as the worker keeps it for the log tail's later steps.
  const kept: Record<string, unknown[]> = {};
  const pending = new Map(plan.steps.map((s) => [s.id, s]));
  while (pending.size && !run.failed) {
    const ready = [...pending.values()].filter((s) => s.dependsOn.every((d) => !pending.has(d)));
    if (!ready.length) throw new Error(`no step of ${plan.runbook} can run: ${[...pending.keys()].join(', ')}`);
    const running: Array<Promise<void>> = [];
    for (const s of ready) {
      pending.delete(s.id);
      if (s.kind !== 'command') {
        if (s.kind === 'manual' && onManual) await onManual(s);
        run.done.push(s.id);
        continue;
      }
      const commandId = `${plan.runbook}:${s.id}`;
      const ctx = { commandId, timeoutMs: 60_000, whatIf: false };
      // The log tail's commands run in the worker, over the simulator as its executor.
      const executed = LOG_TAIL_COMMANDS.has(s.command.name) ? runLogTail(sim, s.command, ctx, async (k) => kept[k]) : sim.execute(s.command, ctx);
      running.push(executed.then((r) => {
        run.results[s.id] = r;
        if (r.status === 'succeeded' && s.records && Array.isArray(r.output)) kept[s.records] = r.output;
        if (r.status === 'succeeded') run.done.push(s.id);
        else run.failed ??= { stepId: s.id, stderr: r.stderr };
      }));
      await begun(sim, commandId);
    }
    await Promise.all(running);
  }
  return run;
}

/** The plan with `stepId`'s dependencies replaced: how a plan looked before a dependency was added. */
export function withDependsOn(plan: Plan, stepId: string, dependsOn: string[]): Plan {
  return { ...plan, steps: plan.steps.map((s) => (s.id === stepId ? { ...s, dependsOn } : s)) };
}
