// The runs API: start a run, list and read runs, vote on an approval gate, decide on a failed
// step, confirm a manual step, cancel. Thin: parse (zod, 400 with the reason), authenticate, check
// that the run is in a state where the request makes sense (404 / 409), then start or signal the
// orchestration through the DurableClient. A refused request changes nothing.
import type { HttpResponseInit } from '@azure/functions';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { VOTE_CHANNELS } from '../../shared/approvals/schema.js';
import { appSettings, runConfigFrom } from '../../shared/config/index.js';
import { RunbookName } from '../../shared/plan/schema.js';
import {
  ORCHESTRATION, RunMode, RunOptions, RunSummary, gateInstanceId,
  type GateCustomStatus, type RunInput,
} from '../../shared/runs/contract.js';
import { body, json, problem, refuseNonOperator, route } from './api.js';
import { castVote, cancelRun, confirmStep, decideStep, type DecisionAnswer } from '../runs/decisions.js';
import { findRun, runView, statusOf } from '../runs/read.js';
import { parseRunbookOptions } from '../../orchestrations/runbooks/index.js';
import { recordedFromFailover } from '../../orchestrations/runbooks/recorded.js';
import { loadTopologyFile } from '../../shared/topology/index.js';
import { buildAndHash } from '../../shared/runs/plan-source.js';
import { holdReason, takeOverAllowed } from '../../shared/runs/lock-holder.js';
import { lockHolder, runLocks } from '../activities/runs.js';

const StartBody = z.strictObject({ runbook: RunbookName, options: RunOptions.default({}), mode: RunMode.default('drill') });
const VoteBody = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  planHash: z.string().min(1).max(200),
  comment: z.string().trim().max(2000).optional(),
  channel: z.enum(VOTE_CHANNELS).default('http'),
  step: z.string().optional(),
});
// The CLI says it is the CLI; Teams and e-mail have endpoints of their own and may not be claimed here.
const ApiChannel = z.enum(['http', 'cli', 'dashboard']).default('http');
const DecisionBody = z.strictObject({ decision: z.enum(['retry', 'skip', 'abort']), comment: z.string().trim().max(2000).optional(), channel: ApiChannel });
const ConfirmBody = z.strictObject({ comment: z.string().trim().max(2000).optional(), channel: ApiChannel });
const CancelBody = z.strictObject({ reason: z.string().trim().min(1).max(2000), channel: ApiChannel });

const send = (a: DecisionAnswer): HttpResponseInit => json(a.status, a.body);

function newRunId(now = new Date()): string {
  return `run-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase()}-${randomBytes(3).toString('hex')}`;
}

route('runs-start', ['POST'], 'runs', async (req, client, user) => {
  const refused = refuseNonOperator(user, 'start a run');
  if (refused) return refused;
  const b = await body(req, StartBody);
  if (!b.ok) return b.res;
  // A failback restores what its failover recorded: `fromRun` names that run.
  if (typeof b.data.options.fromRun === 'string') {
    const from = (await findRun(client, b.data.options.fromRun, true))?.status;
    if (!from) return problem(404, `no run ${b.data.options.fromRun}`);
    const report = (from.output ?? {}) as { runbook?: string; outcome?: string; records?: Record<string, unknown> };
    const failoverOptions = ((from.input as { options?: Record<string, unknown> } | undefined)?.options) ?? {};
    const r = recordedFromFailover(b.data.runbook, b.data.options.fromRun, { ...report, options: failoverOptions });
    if (!r.ok) return problem(400, r.error);
    const { fromRun: _fromRun, ...rest } = b.data.options;
    b.data.options = { ...rest, recorded: r.recorded as never };
  }
  // Refuse what cannot be planned here, before a run exists, with the builder's own message
  // (bad options, a pool or site the estate does not have). The run builds it again, recorded.
  let locks: string[] = [];
  try {
    const topo = await loadTopologyFile(appSettings().topologyFile);
    if (topo.ok) locks = buildAndHash(b.data.runbook, topo.topology, b.data.options).plan.locks;
    else parseRunbookOptions(b.data.runbook, b.data.options);
  } catch (err) {
    return problem(400, (err as Error).message);
  }
  // A lock another run holds refuses the run here, before it exists, unless the run could take it
  // over itself (its holder has ended with nothing in flight). The run's own acquisition stays the
  // guard against two starts racing past this check.
  for (const held of locks.length ? await runLocks().holders(locks) : []) {
    const holder = await lockHolder(client, held.runId);
    if (!takeOverAllowed(holder)) return problem(409, holdReason(held.lock, holder, held.since), { lock: held.lock, heldBy: held.runId });
  }
  const settings = appSettings();
  const runId = newRunId();
  const input: RunInput = {
    runId, runbook: b.data.runbook, options: b.data.options, mode: b.data.mode, requestedBy: user,
    requestedAt: new Date().toISOString(), config: runConfigFrom(settings),
  };
  await client.startNew(ORCHESTRATION.runPlan, { instanceId: runId, input });
  return json(202, { runId, runbook: input.runbook, mode: input.mode, requestedBy: user, statusUrl: `/api/runs/${runId}` });
});

route('runs-list', ['GET'], 'runs', async (_req, client) => {
  const all = (await client.getStatusAll()).filter((s) => s.name === ORCHESTRATION.runPlan);
  const runs = all.map((s) => {
    const c = RunSummary.safeParse(s.customStatus);
    return {
      runId: s.instanceId, runtimeStatus: s.runtimeStatus, createdTime: s.createdTime, lastUpdatedTime: s.lastUpdatedTime,
      runbook: c.success ? c.data.runbook : undefined, mode: c.success ? c.data.mode : undefined, phase: c.success ? c.data.phase : undefined,
      requestedBy: c.success ? c.data.requestedBy : undefined,
    };
  }).sort((a, b) => String(b.createdTime).localeCompare(String(a.createdTime)));
  return json(200, { runs });
});

route('runs-get', ['GET'], 'runs/{id}', async (req, client) => {
  const run = await findRun(client, req.params.id, true);
  if (!run) return problem(404, `no run ${req.params.id}`);
  const view = await runView(run);
  const gates: Record<string, GateCustomStatus> = {};
  for (const [stepId, st] of Object.entries(view?.steps ?? {})) {
    if (st.kind !== 'approval' || st.state === 'pending') continue;
    const g = await statusOf(client, gateInstanceId(req.params.id, stepId));
    if (g?.customStatus) gates[stepId] = g.customStatus as GateCustomStatus;
  }
  const input = run.status.input as { options?: unknown } | undefined;
  return json(200, {
    runId: req.params.id, runtimeStatus: run.status.runtimeStatus, createdTime: run.status.createdTime, lastUpdatedTime: run.status.lastUpdatedTime,
    options: input?.options, status: view, summary: run.custom, gates, report: run.status.output ?? undefined,
  });
});

route('runs-vote', ['POST'], 'runs/{id}/votes', async (req, client, user) => {
  const b = await body(req, VoteBody);
  if (!b.ok) return b.res;
  return send(await castVote(client, req.params.id, user, b.data));
});

route('runs-decision', ['POST'], 'runs/{id}/steps/{step}/decision', async (req, client, user) => {
  const b = await body(req, DecisionBody);
  if (!b.ok) return b.res;
  return send(await decideStep(client, req.params.id, req.params.step, user, b.data));
});

route('runs-confirm', ['POST'], 'runs/{id}/steps/{step}/confirm', async (req, client, user) => {
  const b = await body(req, ConfirmBody);
  if (!b.ok) return b.res;
  return send(await confirmStep(client, req.params.id, req.params.step, user, b.data));
});

route('runs-cancel', ['POST'], 'runs/{id}/cancel', async (req, client, user) => {
  const b = await body(req, CancelBody);
  if (!b.ok) return b.res;
  return send(await cancelRun(client, req.params.id, user, b.data));
});
