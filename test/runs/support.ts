// One local host over the shared Azurite running the real app (plus test fixtures), with queue
// triggers on, and in-process hybrid workers for East and West executing on one simulated estate
// over the Azurite transport, all under a unique queue prefix, hub and tables.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateInvocation } from '../../shared/commands/index.js';
import { createAuditTrail, type AuditTrail } from '../../shared/audit/index.js';
import { FileJournal } from '../../worker/journal.js';
import { Simulator } from '../../worker/simulator/simulator.js';
import { loadSimulatorTopology } from '../../worker/simulator/topology.js';
import { AzuriteQueueTransport } from '../../shared/transport/azurite.js';
import type { WorkerTransport } from '../../shared/transport/types.js';
import { catalogResolver, HybridWorker, type Resolver } from '../../worker/worker.js';
import type { LocalHost } from '../../local/host.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { ROOT, startTestHost } from '../support/host.js';
import { resultKey, resultKeySettings } from '../support/result-keys.js';
import { signingTransport } from '../../worker/result-signing.js';

export const APP = path.join(ROOT, 'test/runs/app.ts');

export interface RunsEnv {
  host: LocalHost;
  prefix: string;
  sim: Simulator;
  trail: AuditTrail;
  values: Record<string, string>;
  call(user: string | undefined, method: string, p: string, body?: unknown): Promise<{ status: number; body: any }>;
  start(user: string, runbook: string, options?: Record<string, unknown>, mode?: string): Promise<string>;
  run(id: string): Promise<any>;
  waitFor(id: string, predicate: (r: any) => boolean, timeoutMs?: number): Promise<any>;
  vote(user: string, id: string, decision: 'approve' | 'reject', extra?: Record<string, unknown>): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

const policy = (timeoutMinutes: number, escalationTimeoutMinutes: number) => ({
  required: 2, approverGroups: { primary: ['alice', 'bob', 'carol'], escalation: ['dave'] }, timeoutMinutes, escalationTimeoutMinutes,
});

export interface RunsEnvOptions {
  /** Topology file, relative to the repository root (default examples/estate.sample.yaml): the host plans from it, the simulator starts from it, one worker per site. */
  topology?: string;
  /** The simulator's time factor (default 0.0005). */
  timeFactor?: number;
  /** Workers of an older version, which do not know CommandMessage.verify (they drop the field). */
  olderWorkers?: boolean;
  /** App settings on top of runsSettings (e.g. LYNCDR_OPERATORS). */
  settings?: Record<string, string>;
  /** The app the host loads (default test/runs/app.ts). */
  app?: string;
}

export interface SimWorkers {
  sim: Simulator;
  /** Worker journals by site id. */
  journals: Record<string, FileJournal>;
  stop(): Promise<void>;
}

/** One simulator and one in-process HybridWorker per site of the topology, over the Azurite queues under `prefix`. */
export async function startSimWorkers(opts: {
  prefix: string; dir: string; topology?: string; timeFactor?: number; olderWorkers?: boolean;
  /** Only these site ids get a worker (default: every site of the topology). */
  sites?: string[];
  /** Workers over this simulator as it is (not reset): a worker started again after a stop. */
  sim?: Simulator;
  /** What the workers' catalog knows (default: this version's catalog); an older worker knows less. */
  resolve?: Resolver;
}): Promise<SimWorkers> {
  const topology = await loadSimulatorTopology(path.join(ROOT, opts.topology ?? DEFAULT_TOPOLOGY));
  const sim = opts.sim ?? new Simulator({ dir: path.join(opts.dir, 'sim'), timeFactor: opts.timeFactor ?? 0.0005, topology });
  if (!opts.sim) await sim.reset();
  const sites = topology.sites.map((s) => s.name.toLowerCase()).filter((s) => !opts.sites || opts.sites.includes(s));
  const journals: Record<string, FileJournal> = {};
  const workers = await Promise.all(sites.map(async (site) => new HybridWorker({
    site, transport: signingTransport(withoutVerify(new AzuriteQueueTransport({ connectionString: azurite(), prefix: opts.prefix, lockMs: 5000, pollMs: 50 }), !!opts.olderWorkers), resultKey(site)),
    executor: sim, journal: (journals[site] = await FileJournal.open(path.join(opts.dir, 'journal', site))), resolve: opts.resolve ?? catalogResolver(validateInvocation),
    receiveWaitMs: 200, heartbeatMs: 600_000, probeMs: 600_000, graceMs: 1000, log: process.env.DEBUG_WORKER ? (e, f) => console.error(site, e, JSON.stringify(f)) : () => undefined,
  })));
  workers.forEach((w) => w.start());
  return { sim, journals, stop: async () => { await Promise.all(workers.map((w) => w.stop())); } };
}

const DEFAULT_TOPOLOGY = 'examples/estate.sample.yaml';

/** What a worker built before CommandMessage.verify existed sees: the message without it (zod strips unknown keys). */
function withoutVerify(transport: AzuriteQueueTransport, older: boolean): WorkerTransport {
  if (!older) return transport;
  return Object.assign(Object.create(transport) as WorkerTransport, {
    async receiveCommands(site: string, o: { maxMessages: number; maxWaitMs: number }) {
      const batch = await transport.receiveCommands(site, o);
      return batch.map((m) => {
        if (!m.body || typeof m.body !== 'object') return m;
        const { verify: _dropped, ...body } = m.body as Record<string, unknown>;
        return Object.create(m, { body: { value: body } }) as typeof m;
      });
    },
  });
}

/** Signs the API's decisions and runs in every runs environment (functions/runs/signing.ts). */
export const DECISION_KEY = 'test-decision-key-0123456789abcdef-0123456789';

/** The app settings of a runs environment: queues under `prefix`, tables of its own, the approval policies. */
export function runsSettings(prefix: string, topology = DEFAULT_TOPOLOGY): Record<string, string> {
  return {
    LYNCDR_TOPOLOGY: path.join(ROOT, topology),
    LYNCDR_TRANSPORT: 'azurite',
    LYNCDR_QUEUE_PREFIX: prefix,
    LYNCDR_RESULTS_QUEUE: `${prefix}-results`,
    LYNCDR_AUDIT_TABLE: uniqueName('Audit'),
    LYNCDR_LOCK_TABLE: uniqueName('Locks'),
    LYNCDR_RESULT_GRACE_MS: '5000',
    LYNCDR_COMMANDS_TABLE: uniqueName('Commands'),
    ...resultKeySettings(),
    LYNCDR_DECISION_KEY: DECISION_KEY,
    LYNCDR_APPROVAL_POLICIES: JSON.stringify({ default: policy(30, 30), 'declare-disaster': policy(30, 30), quick: policy(0.04, 0.04) }),
  };
}

export async function startRunsEnv(opts: RunsEnvOptions = {}): Promise<RunsEnv> {
  const prefix = uniqueName('t').toLowerCase().slice(0, 12);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-runs-'));
  const values = { ...runsSettings(prefix, opts.topology), ...opts.settings };
  const host = await startTestHost({ entry: opts.app ?? APP, triggers: true, values });
  const { sim, stop: stopWorkers } = await startSimWorkers({
    prefix, dir, olderWorkers: !!opts.olderWorkers, ...(opts.topology ? { topology: opts.topology } : {}), ...(opts.timeFactor !== undefined ? { timeFactor: opts.timeFactor } : {}),
  });
  const trail = createAuditTrail({ connectionString: azurite(), tableName: values.LYNCDR_AUDIT_TABLE });

  const env: RunsEnv = {
    host, prefix, sim, trail, values, ...runsClient(() => host.url),
    async stop() {
      await stopWorkers();
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
      assertNoTimerHeld(host);
    },
  };
  return env;
}

/**
 * Every full-stack test ends here: an orchestrator of the app that returned while a timer of its
 * own was pending would stay Running in Azure until that timer fired (30 minutes for a gate's
 * deadline), so the test fails, naming it.
 */
export function assertNoTimerHeld(host: LocalHost): void {
  const held = [...host.engine.heldByTimers];
  if (held.length) {
    throw new Error(`orchestrations returned with timers neither fired nor cancelled (Azure keeps them Running until the timers fire): ${held.map(([id, h]) => `${h.name} ${id} (until ${h.fireAt.join(', ')})`).join('; ')}`);
  }
}

export type RunsClient = Pick<RunsEnv, 'call' | 'start' | 'run' | 'waitFor' | 'vote'>;

/** The runs API of the host at `url()` (a function: a restarted host listens elsewhere). */
export function runsClient(url: () => string): RunsClient {
  const call: RunsEnv['call'] = async (user, method, p, body) => {
    const res = await fetch(`${url()}/api/${p}`, {
      method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(user ? { 'x-lyncdr-user': user } : {}) },
    });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { /* text */ }
    return { status: res.status, body: parsed };
  };
  const client: RunsClient = {
    call,
    async start(user, runbook, options = {}, mode = 'drill') {
      const r = await call(user, 'POST', 'runs', { runbook, options, mode });
      if (r.status !== 202) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.runId;
    },
    async run(id) { return (await call('alice', 'GET', `runs/${id}`)).body; },
    async waitFor(id, predicate, timeoutMs = 45_000) {
      const deadline = Date.now() + timeoutMs;
      let last: any;
      while (Date.now() < deadline) {
        last = await client.run(id);
        if (predicate(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`run ${id}: condition not reached in ${timeoutMs} ms; last: ${JSON.stringify(last?.status ?? last, null, 1)}`);
    },
    async vote(user, id, decision, extra = {}) {
      const r = await client.run(id);
      return call(user, 'POST', `runs/${id}/votes`, { decision, planHash: r.status.planHash, comment: `${decision} by ${user}`, ...extra });
    },
  };
  return client;
}

export const phase = (p: string) => (r: any) => r?.status?.phase === p;
export const stepState = (step: string, state: string) => (r: any) => r?.status?.steps?.[step]?.state === state;
export const finished = (r: any) => ['Completed', 'Failed', 'Terminated'].includes(r?.runtimeStatus);

/** Polls a run's trail until `pred` holds (the orchestrator writes it asynchronously); throws with the last trail after `ms`. */
export async function trailUntil(trail: AuditTrail, id: string, pred: (e: Awaited<ReturnType<AuditTrail['readRun']>>) => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const t = await trail.readRun(id);
    if (pred(t)) return t;
    if (Date.now() > deadline) throw new Error(`trail of ${id} never matched; last: ${JSON.stringify(t.map((e) => [e.key, e.kind]))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
