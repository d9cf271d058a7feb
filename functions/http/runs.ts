// The runs API: start a run, list and read runs, vote on an approval gate, decide on a failed
// step, confirm a manual step, cancel. Thin: parse (zod, 400 with the reason), authenticate, check
// that the run is in a state where the request makes sense (404 / 409), then start or signal the
// orchestration through the DurableClient. A refused request changes nothing.
import type { HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { VOTE_CHANNELS } from '../../shared/approvals/schema.js';
import { RunbookName } from '../../shared/plan/schema.js';
import { ConfirmOverride, ORCHESTRATION, RunMode, RunSummary, gateInstanceId, type GateCustomStatus } from '../../shared/runs/contract.js';
import { RequestedRunOptions } from '../../shared/runs/requested-options.js';
import { prefix } from '../../shared/text/quote.js';
import { body, json, problem, refuseNonOperator, route } from './api.js';
import { startRun } from '../runs/start.js';
import { castVote, cancelRun, confirmStep, decideStep, type DecisionAnswer } from '../runs/decisions.js';
import { findRun, runView, statusOf } from '../runs/read.js';

const StartBody = z.strictObject({ runbook: RunbookName, options: RequestedRunOptions.default({}), mode: RunMode.default('drill') });
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
const ConfirmBody = z.strictObject({ comment: z.string().trim().max(2000).optional(), channel: ApiChannel, override: ConfirmOverride.optional() });
const CancelBody = z.strictObject({ reason: z.string().trim().min(1).max(2000), channel: ApiChannel });

const send = (a: DecisionAnswer): HttpResponseInit => json(a.status, a.body);

route('runs-start', ['POST'], 'runs', async (req, client, user, _context, name) => {
  const refused = refuseNonOperator(user, 'start a run');
  if (refused) return refused;
  const b = await body(req, StartBody);
  if (!b.ok) return b.res;
  return send(await startRun(client, user, b.data, name));
});

route('runs-list', ['GET'], 'runs', async (_req, client) => {
  const all = (await client.getStatusAll()).filter((s) => s.name === ORCHESTRATION.runPlan);
  const runs = all.map((s) => {
    const c = RunSummary.safeParse(s.customStatus);
    return {
      runId: s.instanceId, runtimeStatus: s.runtimeStatus, createdTime: s.createdTime, lastUpdatedTime: s.lastUpdatedTime,
      runbook: c.success ? c.data.runbook : undefined, mode: c.success ? c.data.mode : undefined, phase: c.success ? c.data.phase : undefined,
      requestedBy: c.success ? c.data.requestedBy : undefined,
      ...(c.success && c.data.requestedByName ? { requestedByName: c.data.requestedByName } : {}),
    };
  }).sort((a, b) => String(b.createdTime).localeCompare(String(a.createdTime)));
  return json(200, { runs });
});

route('runs-get', ['GET'], 'runs/{id}', async (req, client) => {
  const run = await findRun(client, req.params.id, true);
  if (!run) return problem(404, `no run ${prefix(req.params.id)}`);
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

route('runs-vote', ['POST'], 'runs/{id}/votes', async (req, client, user, _context, name) => {
  const b = await body(req, VoteBody);
  if (!b.ok) return b.res;
  return send(await castVote(client, req.params.id, user, { ...b.data, ...(name ? { name } : {}) }));
});

route('runs-decision', ['POST'], 'runs/{id}/steps/{step}/decision', async (req, client, user, _context, name) => {
  const b = await body(req, DecisionBody);
  if (!b.ok) return b.res;
  return send(await decideStep(client, req.params.id, req.params.step, user, { ...b.data, ...(name ? { name } : {}) }));
});

route('runs-confirm', ['POST'], 'runs/{id}/steps/{step}/confirm', async (req, client, user, _context, name) => {
  const b = await body(req, ConfirmBody);
  if (!b.ok) return b.res;
  return send(await confirmStep(client, req.params.id, req.params.step, user, { ...b.data, ...(name ? { name } : {}) }));
});

route('runs-cancel', ['POST'], 'runs/{id}/cancel', async (req, client, user, _context, name) => {
  const b = await body(req, CancelBody);
  if (!b.ok) return b.res;
  return send(await cancelRun(client, req.params.id, user, { ...b.data, ...(name ? { name } : {}) }));
});
