// Pausing a run: how an operator holds a run where it stands (a change freeze, a doubt about the
// estate) without cancelling it. A run of executor version 8 takes a signed `pause` event at a step
// boundary and records it itself (orchestrations/executor/run-plan.ts), so a pause raised past the
// API unsigned is refused. For older runs a paused run is a suspended Durable instance, and so are its open
// approval gates (a suspension reaches no sub-orchestration by itself): nothing the run waits for
// (votes, results, confirmations, timers) advances it until it is resumed, and what arrived
// meanwhile is then delivered in the order it came. Operators only; each pause and resume is in
// the run's audit trail with who and why, written before it takes effect (record, then act).
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { appendAudit } from '../activities/runs.js';
import { EVENTS, gateInstanceId, type RunInput, type RunSummary } from '../../shared/runs/contract.js';
import { decisionKey, sign } from '../runs/signing.js';
import { body, json, problem, refuseNonOperator, route, type Client } from './api.js';
import { pausedBy } from '../runs/paused.js';
import { findRun, waitForInstance, type FoundRun } from '../runs/read.js';
import { prefix } from '../../shared/text/quote.js';

const ReasonBody = z.strictObject({ reason: z.string().trim().min(1).max(2000) });

/** The gates of a run waiting for votes: they are paused and resumed with it. */
const openGates = (runId: string, custom: RunSummary | undefined) =>
  (custom?.active ?? []).filter((a) => a.state === 'waiting-approval').map((a) => gateInstanceId(runId, a.id));

// The SDK puts the reason into the query string as it is: a '&' or '#' would cut it short.
const suspend = (client: Client, id: string, reason: string) => client.suspend(id, encodeURIComponent(reason));
const resume = (client: Client, id: string, reason: string) => client.resume(id, encodeURIComponent(reason));

/** An operator's request with a reason, about a run that exists: 403 / 400 / 404 otherwise. */
async function operatorAsks(req: HttpRequest, client: Client, user: string, what: string): Promise<
  { ok: true; id: string; run: FoundRun; reason: string } | { ok: false; res: HttpResponseInit }> {
  const refused = refuseNonOperator(user, what);
  if (refused) return { ok: false, res: refused };
  const b = await body(req, ReasonBody);
  if (!b.ok) return b;
  const id = req.params.id;
  const run = await findRun(client, id, true);
  if (!run) return { ok: false, res: problem(404, `no run ${prefix(id)}`) };
  return { ok: true, id, run, reason: b.data.reason };
}

/** Executor version 8: the run takes pause and resume as signed events; older runs are suspended. */
const signedPause = (run: FoundRun) => ((run.status.input as RunInput | undefined)?.config?.executorVersion ?? 1) >= 8;

/**
 * Raises a signed pause or resume on a run of executor version 8 and waits (briefly) until the
 * run shows it took it, so a vote sent right after the answer finds the run paused. The run
 * itself records it in its trail, with who and why, once it has verified the signature.
 */
async function raiseSigned(client: Client, id: string, user: string, name: string | undefined, reason: string, kind: 'pause' | 'resume'): Promise<HttpResponseInit | undefined> {
  let key: string;
  try { key = decisionKey(); } catch (err) { return problem(503, `cannot ${kind} the run: ${(err as Error).message}`); }
  await client.raiseEvent(id, EVENTS[kind], sign(key, { kind, runId: id, target: 'run' }, { by: user, ...(name ? { byName: name } : {}), reason, channel: 'http' }));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const run = await findRun(client, id);
    const paused = !!run?.custom?.paused;
    if (!run || !isActiveStatus(run) || paused === (kind === 'pause') || Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
}
const isActiveStatus = (run: FoundRun) => ['Running', 'Pending'].includes(String(run.status.runtimeStatus));

route('runs-pause', ['POST'], 'runs/{id}/pause', async (req, client, user, _context, name) => {
  const asked = await operatorAsks(req, client, user, 'pause a run');
  if (!asked.ok) return asked.res;
  const { id, run, reason } = asked;
  const status = String(run.status.runtimeStatus);
  if (signedPause(run)) {
    const p = run.custom?.paused;
    if (p) return problem(409, `run ${id} is already paused (by ${p.by} at ${p.at}: ${p.reason})`);
    if (status !== 'Running' && status !== 'Pending') return problem(409, `run ${id} is ${status}: only a running run can be paused`);
    const failed = await raiseSigned(client, id, user, name, reason, 'pause');
    return failed ?? json(202, { runId: id, pausedBy: user, reason, gates: openGates(id, run.custom) });
  }
  if (status === 'Suspended') {
    const p = await pausedBy(id);
    return problem(409, `run ${id} is already paused${p ? ` (by ${p.by} at ${p.at}: ${p.reason})` : ''}`);
  }
  if (status !== 'Running' && status !== 'Pending') return problem(409, `run ${id} is ${status}: only a running run can be paused`);
  const gates = openGates(id, run.custom);
  const at = new Date();
  await appendAudit({ runId: id, key: `run:paused:${at.getTime()}`, kind: 'run-paused', actor: user, at: at.toISOString(), data: { reason, gates } });
  const why = `paused by ${user}: ${reason}`;
  // The run first: from then on the API refuses its votes, so its gates are quiet while they follow.
  await suspend(client, id, why);
  // A gate the run opened just before it was suspended shows only in the status it then keeps.
  const still = await suspendedRun(client, id);
  const all = [...new Set([...gates, ...openGates(id, still?.custom)])];
  for (const gate of all) {
    const g = await waitForInstance(client, gate);
    if (g && ['Running', 'Pending'].includes(String(g.runtimeStatus))) await suspend(client, gate, why);
  }
  return json(202, { runId: id, pausedBy: user, reason, gates: all });
});

/** The run once its suspension has taken effect (the Durable API queues it), or as it is after a while. */
async function suspendedRun(client: Client, id: string, ms = 10_000): Promise<Awaited<ReturnType<typeof findRun>>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const run = await findRun(client, id);
    if (!run || String(run.status.runtimeStatus) === 'Suspended' || Date.now() >= deadline) return run;
    await new Promise((r) => setTimeout(r, 50));
  }
}

route('runs-resume', ['POST'], 'runs/{id}/resume', async (req, client, user, _context, name) => {
  const asked = await operatorAsks(req, client, user, 'resume a run');
  if (!asked.ok) return asked.res;
  const { id, run, reason } = asked;
  if (signedPause(run)) {
    if (!run.custom?.paused || !isActiveStatus(run)) return problem(409, `run ${id} is not paused (${run.status.runtimeStatus})`);
    const failed = await raiseSigned(client, id, user, name, reason, 'resume');
    return failed ?? json(202, { runId: id, resumedBy: user, reason, gates: openGates(id, run.custom) });
  }
  if (String(run.status.runtimeStatus) !== 'Suspended') return problem(409, `run ${id} is not paused (${run.status.runtimeStatus})`);
  // A paused run publishes nothing, so its open gates are the ones it had when it was paused.
  const gates = openGates(id, run.custom);
  const at = new Date();
  await appendAudit({ runId: id, key: `run:resumed:${at.getTime()}`, kind: 'run-resumed', actor: user, at: at.toISOString(), data: { reason, gates } });
  const why = `resumed by ${user}: ${reason}`;
  // Gates first: when the run shows Running again, its gates take votes again.
  for (const gate of gates) {
    const g = await waitForInstance(client, gate, 0);
    if (g && String(g.runtimeStatus) === 'Suspended') await resume(client, gate, why);
  }
  await resume(client, id, why);
  return json(202, { runId: id, resumedBy: user, reason, gates });
});
