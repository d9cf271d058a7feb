// The runs API: start a run, list and read runs, vote on an approval gate, decide on a failed
// step, confirm a manual step, cancel. Thin: parse (zod, 400 with the reason), authenticate, check
// that the run is in a state where the request makes sense (404 / 409), then start or signal the
// orchestration through the DurableClient. A refused request changes nothing.
import type { HttpResponseInit } from '@azure/functions';
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { VOTE_CHANNELS } from '../../shared/approvals/schema.js';
import { appSettings, runConfigFrom } from '../../shared/config/index.js';
import { RunbookName } from '../../shared/plan/schema.js';
import {
  EVENTS, ORCHESTRATION, RunMode, RunOptions, RunStatus, gateInstanceId,
  type GateCustomStatus, type RunInput, type StepState,
} from '../../shared/runs/contract.js';
import { body, json, problem, refuseNonOperator, route, type Client } from './api.js';
import { parseRunbookOptions } from '../../orchestrations/runbooks/index.js';
import { recordedFromFailover } from '../../orchestrations/runbooks/recorded.js';
import { loadTopologyFile } from '../../shared/topology/index.js';
import { buildAndHash } from '../../shared/runs/plan-source.js';
import { holdReason, takeOverAllowed } from '../../shared/runs/lock-holder.js';
import { lockHolder, runLocks } from '../activities/runs.js';
import { pausedRefusal } from './paused.js';

type Status = Awaited<ReturnType<Client['getStatus']>>;

const StartBody = z.strictObject({ runbook: RunbookName, options: RunOptions.default({}), mode: RunMode.default('drill') });
const VoteBody = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  planHash: z.string().min(1).max(200),
  comment: z.string().trim().max(2000).optional(),
  channel: z.enum(VOTE_CHANNELS).default('http'),
  step: z.string().optional(),
});
const DecisionBody = z.strictObject({ decision: z.enum(['retry', 'skip', 'abort']), comment: z.string().trim().max(2000).optional() });
const ConfirmBody = z.strictObject({ comment: z.string().trim().max(2000).optional() });
const CancelBody = z.strictObject({ reason: z.string().trim().min(1).max(2000) });

async function statusOf(client: Client, id: string, showInput = false): Promise<Status | undefined> {
  try {
    const s = await client.getStatus(id, { showInput });
    return s && s.name ? s : undefined;
  } catch (err) {
    if (/404/.test((err as Error).message)) return undefined;
    throw err;
  }
}

/** A run: an instance of the executor orchestration (the id of a gate instance is not a run). */
export async function findRun(client: Client, id: string, withInput = false): Promise<{ status: Status; custom: RunStatus | undefined } | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,79}$/.test(id)) return undefined;
  const s = await statusOf(client, id, withInput);
  if (!s || s.name !== ORCHESTRATION.runPlan) return undefined;
  const custom = RunStatus.safeParse(s.customStatus);
  return { status: s, custom: custom.success ? custom.data : undefined };
}

/** The run a signal is for, if it can still take one: 404 unknown, 409 ended. */
async function activeRun(client: Client, id: string): Promise<{ ok: true; run: NonNullable<Awaited<ReturnType<typeof findRun>>> } | { ok: false; res: HttpResponseInit }> {
  const run = await findRun(client, id);
  if (!run) return { ok: false, res: problem(404, `no run ${id}`) };
  if (String(run.status.runtimeStatus) === 'Suspended') return { ok: false, res: await pausedRefusal(id, 'this request') };
  if (!isActive(run.status)) return { ok: false, res: problem(409, `run ${id} is ${run.status.runtimeStatus}`) };
  return { ok: true, run };
}

/** The run publishes waiting-approval in the episode that creates the gate: give it a moment to exist. */
export async function waitForInstance(client: Client, id: string, ms = 10_000): Promise<Status | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await statusOf(client, id);
    if (s || Date.now() >= deadline) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const isActive = (s: Status) => ['Running', 'Pending'].includes(String(s.runtimeStatus));

function stepIn(custom: RunStatus | undefined, stepId: string, states: StepState[]): { ok: true } | { ok: false; res: HttpResponseInit } {
  const st = custom?.steps[stepId];
  if (!st) return { ok: false, res: problem(404, `run has no step ${stepId}`) };
  if (!states.includes(st.state)) return { ok: false, res: problem(409, `step ${stepId} is ${st.state}, not ${states.join(' or ')}`) };
  return { ok: true };
}

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
    const c = RunStatus.safeParse(s.customStatus);
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
  const gates: Record<string, GateCustomStatus> = {};
  for (const [stepId, st] of Object.entries(run.custom?.steps ?? {})) {
    if (st.kind !== 'approval' || st.state === 'pending') continue;
    const g = await statusOf(client, gateInstanceId(req.params.id, stepId));
    if (g?.customStatus) gates[stepId] = g.customStatus as GateCustomStatus;
  }
  const input = run.status.input as { options?: unknown } | undefined;
  return json(200, {
    runId: req.params.id, runtimeStatus: run.status.runtimeStatus, createdTime: run.status.createdTime, lastUpdatedTime: run.status.lastUpdatedTime,
    options: input?.options, status: run.custom, gates, report: run.status.output ?? undefined,
  });
});

route('runs-vote', ['POST'], 'runs/{id}/votes', async (req, client, user) => {
  const b = await body(req, VoteBody);
  if (!b.ok) return b.res;
  const run = await findRun(client, req.params.id);
  if (!run) return problem(404, `no run ${req.params.id}`);
  if (String(run.status.runtimeStatus) === 'Suspended') return pausedRefusal(req.params.id, 'a vote');
  const open = Object.entries(run.custom?.steps ?? {}).filter(([id, s]) => s.state === 'waiting-approval' && (!b.data.step || b.data.step === id));
  if (!isActive(run.status) || open.length === 0) return problem(409, 'no approval gate of this run is waiting for votes');
  if (open.length > 1) return problem(400, `several gates are open (${open.map(([id]) => id).join(', ')}): name one with "step"`);
  const stepId = open[0][0];
  const gateId = gateInstanceId(req.params.id, stepId);
  const voteId = randomUUID();
  const gateStatus = await waitForInstance(client, gateId);
  if (!gateStatus || !isActive(gateStatus)) return problem(409, `approval gate ${stepId} is not open${gateStatus ? ` (${gateStatus.runtimeStatus})` : ' yet: try again'}`);
  await client.raiseEvent(gateId, EVENTS.vote, { voteId, approver: user, decision: b.data.decision, planHash: b.data.planHash, comment: b.data.comment, channel: b.data.channel });
  // The gate decides; wait briefly for its answer so the voter learns at once whether it counted.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const g = (await statusOf(client, gateId))?.customStatus as GateCustomStatus | undefined;
    const v = g?.votes?.find((x) => x.voteId === voteId);
    if (v && g) {
      const gate = { stepId, status: g.status, approvers: g.approvers, rejectors: g.rejectors, required: g.required, phase: g.phase };
      return v.outcome === 'accepted'
        ? json(200, { outcome: 'accepted', voteId, gate })
        : json(409, { outcome: 'refused', voteId, code: v.code, error: v.reason, gate });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return json(202, { outcome: 'pending', voteId, stepId, note: 'the gate has not processed the vote yet; see GET /api/runs/{id}' });
});

route('runs-decision', ['POST'], 'runs/{id}/steps/{step}/decision', async (req, client, user) => {
  const refused = refuseNonOperator(user, 'decide on a failed step');
  if (refused) return refused;
  const b = await body(req, DecisionBody);
  if (!b.ok) return b.res;
  const found = await activeRun(client, req.params.id);
  if (!found.ok) return found.res;
  const { run } = found;
  const ok = stepIn(run.custom, req.params.step, ['waiting-decision']);
  if (!ok.ok) return ok.res;
  await client.raiseEvent(req.params.id, EVENTS.decision(req.params.step), { decision: b.data.decision, by: user, comment: b.data.comment });
  return json(202, { runId: req.params.id, step: req.params.step, decision: b.data.decision, by: user });
});

route('runs-confirm', ['POST'], 'runs/{id}/steps/{step}/confirm', async (req, client, user) => {
  const refused = refuseNonOperator(user, 'confirm a manual step');
  if (refused) return refused;
  const b = await body(req, ConfirmBody);
  if (!b.ok) return b.res;
  const found = await activeRun(client, req.params.id);
  if (!found.ok) return found.res;
  const { run } = found;
  const ok = stepIn(run.custom, req.params.step, ['waiting-confirmation']);
  if (!ok.ok) return ok.res;
  await client.raiseEvent(req.params.id, EVENTS.confirm(req.params.step), { by: user, comment: b.data.comment });
  return json(202, { runId: req.params.id, step: req.params.step, confirmedBy: user });
});

route('runs-cancel', ['POST'], 'runs/{id}/cancel', async (req, client, user) => {
  const refused = refuseNonOperator(user, 'cancel a run');
  if (refused) return refused;
  const b = await body(req, CancelBody);
  if (!b.ok) return b.res;
  const found = await activeRun(client, req.params.id);
  if (!found.ok) return found.res;
  const { run } = found;
  if (run.custom?.cancelRequested) return problem(409, `run ${req.params.id} is already being cancelled (by ${run.custom.cancelRequested.by})`);
  const event = { by: user, reason: b.data.reason };
  // Open gates first, so a gate cannot approve after the run decided to stop.
  for (const [stepId, st] of Object.entries(run.custom?.steps ?? {})) {
    if (st.state !== 'waiting-approval') continue;
    const g = await waitForInstance(client, gateInstanceId(req.params.id, stepId));
    if (g && isActive(g)) await client.raiseEvent(gateInstanceId(req.params.id, stepId), EVENTS.cancel, event);
  }
  await client.raiseEvent(req.params.id, EVENTS.cancel, event);
  return json(202, { runId: req.params.id, cancelRequestedBy: user });
});
