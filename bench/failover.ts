// npm run bench:failover: a simulated site failover (East lost) with realistic step durations
// scaled by a time factor, driven like the drill. Prints makespan (from the disaster
// declaration's approval to the last step), the critical path and the serial sum of the steps'
// actual durations, and the orchestration overhead (makespan - critical path).
// Target: makespan <= critical path x 1.02 + 1 s; critical path well under the serial sum.
// Usage: node dist/bench/failover.js [estate file] (default: the seeds' estate; npm runs it on
// that one and on examples/estate.two-pools.yaml, each in a process of its own).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Simulator } from '../worker/simulator/simulator.js';
import { freePort } from '../local/azurite.js';
import { ROOT, startStack } from '../local/stack.js';
import { driveRun } from '../local/drill-driver.js';
import { buildPlan } from '../orchestrations/runbooks/index.js';
import { planHash, type Plan } from '../shared/plan/index.js';

const FACTOR = Number(process.env.BENCH_TIME_FACTOR ?? '0.01');
const ESTATE = process.argv[2] ?? 'examples/estate.sample.yaml';
const ESTATE_NAME = path.basename(ESTATE).replace(/^estate\.|\.ya?ml$/g, '');
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Longest path through the DAG restricted to `ids`, weighted by each step's duration. */
function longestPath(plan: Plan, ids: Set<string>, ms: Map<string, number>): { ms: number; path: string[] } {
  const memo = new Map<string, { ms: number; path: string[] }>();
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const visit = (id: string): { ms: number; path: string[] } => {
    const hit = memo.get(id);
    if (hit) return hit;
    let best = { ms: 0, path: [] as string[] };
    for (const dep of byId.get(id)!.dependsOn) {
      if (!ids.has(dep)) continue;
      const r = visit(dep);
      if (r.ms > best.ms) best = r;
    }
    const out = { ms: best.ms + (ms.get(id) ?? 0), path: [...best.path, id] };
    memo.set(id, out);
    return out;
  };
  let best = { ms: 0, path: [] as string[] };
  for (const id of ids) { const r = visit(id); if (r.ms > best.ms) best = r; }
  return best;
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-bench-failover-'));
  Object.assign(process.env, {
    LYNCDR_DATA_DIR: dataDir, LYNCDR_SIM_TIME_FACTOR: String(FACTOR), LYNCDR_TOPOLOGY: path.resolve(ROOT, ESTATE), LYNCDR_TASK_HUB: `BenchFo${Date.now().toString(36)}`,
    AZURITE_BLOB_PORT: String(await freePort()), AZURITE_QUEUE_PORT: String(await freePort()), AZURITE_TABLE_PORT: String(await freePort()), LYNCDR_HTTP_PORT: String(await freePort()),
  });
  const options = { failedSite: 'East' };
  const stack = await startStack({
    quietHost: true, quietWorkers: true,
    beforeWorkers: async ({ dataDir: d, topology }) => {
      const sim = new Simulator({ dir: path.join(d, 'sim'), topology });
      await sim.reset(topology);
      await sim.disaster('east');
    },
  });
  try {
    const plan = buildPlan('site-failover', stack.topology, options);
    const result = await driveRun({ url: stack.url, runbook: 'site-failover', options, approvers: ['alice', 'bob'], operator: 'operator', pollMs: 50 });
    if (result.report.outcome !== 'succeeded') throw new Error(`the failover did not succeed: ${result.report.outcome} ${result.report.error ?? ''}`);
    if (result.planHash !== planHash(plan)) throw new Error('the run executed another plan than the one rebuilt here');
    const steps = result.status.steps;
    const gate = plan.steps.find((s) => s.kind === 'approval' && s.startsRtoClock)!;
    const declaredAt = Date.parse(steps[gate.id].finishedAt!);
    const after = new Set(plan.steps.filter((s) => s.kind !== 'approval' && steps[s.id]?.startedAt && Date.parse(steps[s.id].startedAt!) >= declaredAt - 1).map((s) => s.id));
    // The work itself, as the estate saw it: the simulator's own start and end of each command
    // (manual steps: the confirmation, counted as no work). What the run adds on top of this
    // (dispatch, queues, the worker's poll, replay) is the orchestration overhead.
    const sim = await new Simulator({ dir: path.join(stack.dataDir, 'sim') }).state();
    const work = new Map<string, number>();
    for (const e of sim.executions) {
      const [runId, stepId] = e.commandId.split(':');
      if (runId !== result.runId || !e.finishedAt || e.outcome !== 'succeeded') continue;
      // A step's verification command (<step>.verify) is part of the step's work.
      const step = stepId.replace(/\.verify$/, '');
      work.set(step, (work.get(step) ?? 0) + Date.parse(e.finishedAt) - Date.parse(e.startedAt));
    }
    const ms = new Map([...after].map((id) => [id, work.get(id) ?? 0]));
    const end = Math.max(...[...after].map((id) => Date.parse(steps[id].finishedAt!)));
    // The run's clock is the orchestration's (episode times), the work's the simulator's: both wall clocks of this machine.
    const makespanS = (end - declaredAt) / 1000;
    const cp = longestPath(plan, after, ms);
    const criticalPathS = cp.ms / 1000;
    const serialSumS = [...ms.values()].reduce((a, b) => a + b, 0) / 1000;
    const estimated = longestPath(plan, after, new Map([...after].map((id) => [id, (plan.steps.find((s) => s.id === id)!.estimatedMs) * FACTOR])));
    const limit = criticalPathS * 1.02 + 1;
    const figures = {
      timeFactor: FACTOR, steps: after.size, makespanS: round(makespanS), criticalPathS: round(criticalPathS), serialSumS: round(serialSumS),
      overheadS: round(makespanS - criticalPathS), limitS: round(limit), met: makespanS <= limit,
      plannedCriticalPathS: round(estimated.ms / 1000), criticalPath: cp.path,
    };
    console.log(`site-failover drill on ${ESTATE} (${stack.topology.frontEndPools.filter((p) => p.site === 'East').length} pool(s) in the lost site), simulated durations x ${FACTOR}, ${after.size} steps after the declaration`);
    console.log(`  makespan         ${figures.makespanS} s   (declaration approved -> last step)`);
    console.log(`  critical path    ${figures.criticalPathS} s   (the commands' durations on the estate; plan estimate x factor: ${figures.plannedCriticalPathS} s)`);
    console.log(`  serial sum       ${figures.serialSumS} s   (${round(serialSumS / criticalPathS)} x the critical path: the branches ran in parallel)`);
    console.log(`  overhead         ${figures.overheadS} s   (makespan - critical path)`);
    console.log(`  target           makespan <= ${figures.limitS} s (critical path x 1.02 + 1 s): ${figures.met ? 'met' : 'missed'}`);
    console.log(`  critical path:   ${cp.path.join(' -> ')}`);
    if (process.env.BENCH_TRACE) {
      // The run's history and the estate's executions on one clock (seconds after the declaration):
      // where the time between one command and the next goes.
      type Event = { EventType: string; Timestamp: string; FunctionName?: string; Result?: unknown; Input?: unknown };
      const res = await fetch(`${stack.url.replace(/\/api$/, '')}/runtime/webhooks/durabletask/instances/${result.runId}?showHistory=true&showHistoryOutput=true`);
      const { historyEvents: history } = (await res.json()) as { historyEvents: Event[] };
      const at = (iso: string) => ((Date.parse(iso) - declaredAt) / 1000).toFixed(3);
      for (const e of history) console.log(`  history ${at(e.Timestamp)} ${e.EventType} ${e.FunctionName ?? ''} ${JSON.stringify(e.Result ?? e.Input ?? '').slice(0, 100)}`);
      for (const e of sim.executions.filter((x) => x.commandId.startsWith(result.runId) && x.finishedAt)) console.log(`  estate  ${at(e.startedAt)} -> ${at(e.finishedAt!)} ${e.commandId}`);
    }
    if (process.env.BENCH_DEBUG) {
      for (const id of after) {
        const st = steps[id];
        console.log(`  ${id.padEnd(34)} start +${((Date.parse(st.startedAt!) - declaredAt) / 1000).toFixed(2)}s  run ${((Date.parse(st.finishedAt!) - Date.parse(st.startedAt!)) / 1000).toFixed(2)}s  work ${((work.get(id) ?? 0) / 1000).toFixed(2)}s`);
      }
    }
    const out = path.join(ROOT, 'bench/results/latest.json');
    const all = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
    all.siteFailover = { ...(typeof all.siteFailover === 'object' && !('makespanS' in all.siteFailover) ? all.siteFailover : {}), [ESTATE_NAME]: { ...figures, estate: ESTATE, at: new Date().toISOString() } };
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(all, null, 2));
    console.log(`written: bench/results/latest.json (siteFailover.${ESTATE_NAME})`);
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
