// Starting a run, for every channel that may start one (the HTTP API, Teams' Declare): the same
// checks in the same order, answered as the HTTP API answers ({status, body}). The operator check
// is the caller's first step (operatorRefusal in decisions.ts), since channels word it alike.
import { randomBytes } from 'node:crypto';
import { appSettings, runConfigFrom } from '../../shared/config/index.js';
import { forecastRto, type Plan, type RtoForecast } from '../../shared/plan/index.js';
import type { RunbookName } from '../../shared/plan/schema.js';
import { ORCHESTRATION, type RunInput, type RunMode, type RunOptions } from '../../shared/runs/contract.js';
import { buildAndHash } from '../../shared/runs/plan-source.js';
import { prefix } from '../../shared/text/quote.js';
import { loadTopologyFile } from '../../shared/topology/index.js';
import { parseRunbookOptions } from '../../orchestrations/runbooks/index.js';
import { recordedFromFailover } from '../../orchestrations/runbooks/recorded.js';
import { reserveLocks } from './reserve.js';
import { DATED_RUNBOOKS } from '../schedules/config.js';
import type { DecisionAnswer } from './decisions.js';
import { findRun, type Client } from './read.js';
import { decisionKey, seal } from './signing.js';

export interface StartRequest { runbook: RunbookName; options: RunOptions; mode: RunMode }

const refusal = (status: number, error: string, extra: Record<string, unknown> = {}): DecisionAnswer => ({ status, body: { error, ...extra } });

export function newRunId(now = new Date()): string {
  return `run-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase()}-${randomBytes(3).toString('hex')}`;
}

/** The plan a start would run over the configured estate, with its hash and RTO forecast (what-if). */
export async function previewPlan(runbook: RunbookName, options: RunOptions): Promise<{ ok: true; plan: Plan; planHash: string; forecast: RtoForecast } | { ok: false; error: string }> {
  try {
    const topo = await loadTopologyFile(appSettings().topologyFile);
    if (!topo.ok) return { ok: false, error: `the configured estate (${appSettings().topologyFile}) is not valid` };
    const { plan, planHash } = buildAndHash(runbook, topo.topology, options);
    return { ok: true, plan, planHash, forecast: forecastRto(plan) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Starts a run as `user` (already checked to be an operator): 202 with its id, or 400 / 404 / 409. */
/** `name`: the caller's UPN for display (nameBeside), sealed into the input beside `user`. */
/** `opts.runId`: the scheduler names each occurrence's run, so a start cut off is started again as the same run. */
export async function startRun(client: Client, user: string, req: StartRequest, name?: string, opts: { runId?: string } = {}): Promise<DecisionAnswer> {
  let options = req.options;
  // A failback restores what its failover recorded: `fromRun` names that run.
  if (typeof options.fromRun === 'string') {
    const from = (await findRun(client, options.fromRun, true))?.status;
    if (!from) return refusal(404, `no run ${prefix(options.fromRun)}`);
    const report = (from.output ?? {}) as { runbook?: string; outcome?: string; records?: Record<string, unknown> };
    const failoverOptions = ((from.input as { options?: Record<string, unknown> } | undefined)?.options) ?? {};
    const r = recordedFromFailover(req.runbook, options.fromRun, { ...report, options: failoverOptions });
    if (!r.ok) return refusal(400, r.error);
    const { fromRun: _fromRun, ...rest } = options;
    options = { ...rest, recorded: r.recorded as never };
  }
  // Refuse what cannot be planned here, before a run exists, with the builder's own message
  // (bad options, a pool or site the estate does not have). The run builds it again, recorded.
  let locks: string[] = [];
  try {
    const topo = await loadTopologyFile(appSettings().topologyFile);
    if (topo.ok) locks = buildAndHash(req.runbook, topo.topology, options).plan.locks;
    else parseRunbookOptions(req.runbook, options);
  } catch (err) {
    return refusal(400, (err as Error).message);
  }
  // A night's backup dated ahead (a typo) would name a file no night wrote, and pchat-backup's
  // retention would count its window from it and delete the real exports: refuse it here, where
  // the clock may be read (plan builders may not).
  const date = (options as { date?: unknown }).date;
  if (DATED_RUNBOOKS.has(req.runbook) && typeof date === 'string' && Date.parse(`${date}T00:00:00Z`) > Date.now() + 86_400_000) {
    return refusal(400, `${req.runbook}: option date ${date} is more than a day ahead of today (UTC)`);
  }
  const settings = appSettings();
  // A run of executor version 5 runs only with the API's signature on its input.
  let key: string;
  try { key = decisionKey(); } catch (err) { return refusal(503, `runs cannot be started: ${(err as Error).message}`); }
  const runId = opts.runId ?? newRunId();
  const input: RunInput = seal(key, { kind: 'run', runId, target: 'run' }, {
    runId, runbook: req.runbook, options, mode: req.mode, requestedBy: user, ...(name ? { requestedByName: name } : {}),
    requestedAt: new Date().toISOString(), config: runConfigFrom(settings),
  });
  // The locks are reserved before the run exists: an overlapping start is refused here (409),
  // and a run that cannot be started gives its reservation back.
  const reserved = await reserveLocks(client, runId, locks);
  if (!reserved.ok) return refusal(409, reserved.error, { lock: reserved.lock, heldBy: reserved.heldBy });
  try {
    await client.startNew(ORCHESTRATION.runPlan, { instanceId: runId, input });
  } catch (err) {
    await reserved.release();
    throw err;
  }
  return { status: 202, body: { runId, runbook: input.runbook, mode: input.mode, requestedBy: user, ...(name ? { requestedByName: name } : {}), statusUrl: `/api/runs/${runId}` } };
}
