// The whole lyncdr stack inside the vitest process, for one test file: the real local host
// (local/host.ts) loading test/runs/app.ts (functions/index.ts plus the fixtures) through the
// @azure/functions registration path, with queue triggers, over the run's Azurite, and one real
// HybridWorker per site executing on the simulator. Nothing runs from dist/, so under StrykerJS
// the orchestrators, activities and worker that execute are the mutated sources.
//
// StrykerJS finds the tests of a mutated file through vitest's import graph ("related"); the host
// imports the app by path at run time, which that graph cannot see, so stryker.config.json turns
// "related" off and per-test coverage decides which tests a mutant runs.
import { afterAll, beforeAll } from 'vitest';
import { startRunsEnv, type RunsEnv, type RunsEnvOptions } from '../runs/support.js';

export interface Stack extends RunsEnv {
  /** The audit keys of a run, in the order they were written. */
  keys(runId: string): Promise<string[]>;
  /** The commands the simulated estate executed for one step of a run (attempt ids, in order). */
  executed(runId: string, stepId: string): Promise<string[]>;
  /** An operator's decision on a step waiting for one, through the API. */
  decide(runId: string, stepId: string, decision: 'retry' | 'skip' | 'abort', by?: string): Promise<number>;
}

/** Starts the stack before the file's tests and stops it after them (failing the file if a run left a timer behind). */
export function stackForFile(opts: RunsEnvOptions = {}): { readonly env: Stack } {
  let stack: Stack | undefined;
  beforeAll(async () => {
    const env = await startRunsEnv(opts);
    stack = Object.assign(env, {
      keys: async (runId: string) => (await env.trail.readRun(runId)).map((e) => e.key),
      executed: async (runId: string, stepId: string) => (await env.sim.state()).executions
        .map((e) => e.commandId).filter((c) => c.startsWith(`${runId}:${stepId}:`)),
      decide: async (runId: string, stepId: string, decision: 'retry' | 'skip' | 'abort', by = 'operator2') =>
        (await env.call(by, 'POST', `runs/${runId}/steps/${stepId}/decision`, { decision, comment: `${decision} by ${by}` })).status,
    });
  }, 60_000);
  afterAll(async () => { await stack?.stop(); });
  return { get env() { if (!stack) throw new Error('the in-process stack has not started'); return stack; } };
}
