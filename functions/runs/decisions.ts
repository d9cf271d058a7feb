// The decisions people take on a run: vote on its approval gate, decide on a failed step, confirm
// a manual step, cancel it. One module for every channel (the HTTP API, the CLI through it, Teams
// card actions, e-mailed links, the dashboard): each answers with the status and body the HTTP API
// sends, so a refusal reads the same wherever it was made, and no channel has rules of its own.
// Identities come from the channel's authentication, never from what the caller says.
import { randomUUID } from 'node:crypto';
import type { VOTE_CHANNELS } from '../../shared/approvals/schema.js';
import { appSettings } from '../../shared/config/index.js';
import { EVENTS, gateInstanceId, type GateCustomStatus, type RunSummary, type StepState } from '../../shared/runs/contract.js';
import { runSteps } from '../activities/runs.js';
import { pausedRefusal } from './paused.js';
import { decisionKey, sign, type SignedFor } from './signing.js';
import { findRun, isActive, statusOf, waitForInstance, type Client, type FoundRun } from './read.js';
import { prefix } from '../../shared/text/quote.js';
import { nameBeside } from '../../shared/identity/display.js';

export type Channel = (typeof VOTE_CHANNELS)[number];

/** What the HTTP API answers; other channels show `body.error` (and `body.code`) to the person. */
export interface DecisionAnswer { status: number; body: Record<string, unknown> }

/**
 * What this module raises, signed (functions/runs/signing.ts): runs of executor version 5 count
 * only signed events. Without a key the event goes unsigned, which only older runs accept.
 */
function signed(what: SignedFor, body: Record<string, unknown>): Record<string, unknown> {
  let key: string;
  try { key = decisionKey(); } catch { return body; }
  return sign(key, what, body);
}

const answer = (status: number, body: Record<string, unknown>): DecisionAnswer => ({ status, body });
const refusal = (status: number, error: string, extra: Record<string, unknown> = {}) => answer(status, { error, ...extra });

/**
 * Operating a run (start, confirm, decide, cancel, release a lock) is for the identities in
 * LYNCDR_OPERATORS when it is set; approving is for the approval policies' groups.
 */
export function operatorRefusal(user: string, what: string): string | undefined {
  const operators = appSettings().operators;
  if (!operators || operators.includes(user)) return undefined;
  return `${user} may not ${what}: only operators may (LYNCDR_OPERATORS: ${operators.join(', ')})`;
}

/** The run a signal is for, if it can still take one: 404 unknown, 409 ended. */
export async function activeRun(client: Client, id: string): Promise<{ ok: true; run: FoundRun } | { ok: false; res: DecisionAnswer }> {
  const run = await findRun(client, id);
  if (!run) return { ok: false, res: refusal(404, `no run ${prefix(id)}`) };
  if (String(run.status.runtimeStatus) === 'Suspended' || run.custom?.paused) return { ok: false, res: await pausedRefusal(id, 'this request') };
  if (!isActive(run.status)) return { ok: false, res: refusal(409, `run ${id} is ${run.status.runtimeStatus}`) };
  return { ok: true, run };
}

/** The step, if it is in one of `states` (the summary names every step running or waiting). */
async function stepIn(custom: RunSummary | undefined, runId: string, stepId: string, states: StepState[]): Promise<DecisionAnswer | undefined> {
  const active = custom?.active.find((a) => a.id === stepId);
  if (active && states.includes(active.state)) return undefined;
  const row = await runSteps().readOne(runId, stepId);
  if (!active && !row) return refusal(404, `run has no step ${stepId}`);
  return refusal(409, `step ${stepId} is ${active?.state ?? row?.state}, not ${states.join(' or ')}`);
}

/** The browser a decision came from (e-mailed links); the trail records it with the decision. */
export interface DecisionClient { userAgent: string; address: string }

/**
 * `name` in every request: the caller's UPN for display (shared/identity/display.ts), never
 * compared. It is raised beside the identity and signed with the rest of the event, so nobody on
 * the way can put another name beside that identity.
 */
interface Named { name?: string }
/** The event's display-name field (`field`: approverName on votes, byName elsewhere), when there is a name beside `user`. */
const nameField = (field: 'approverName' | 'byName', user: string, r: Named) => {
  const n = nameBeside(user, r.name);
  return n ? { [field]: n } : {};
};

const gateClosed = (): DecisionAnswer => refusal(409, 'no approval gate of this run is waiting for votes', { code: 'gate-closed' });

export interface VoteRequest extends Named { decision: 'approve' | 'reject'; planHash: string; comment?: string; channel: Channel; step?: string; client?: DecisionClient }

/**
 * A vote on the run's open gate. The gate applies the rules (N-of-M, no self-approval, one vote
 * per approver, same plan hash) and records the vote, accepted or refused; this waits briefly for
 * its verdict so the voter learns at once whether it counted: 200 accepted, 409 refused with the
 * gate's code and reason, 202 when the gate has not answered yet.
 */
export async function castVote(client: Client, runId: string, user: string, v: VoteRequest): Promise<DecisionAnswer> {
  const run = await findRun(client, runId);
  if (!run) return refusal(404, `no run ${prefix(runId)}`);
  if (String(run.status.runtimeStatus) === 'Suspended' || run.custom?.paused) return pausedRefusal(runId, 'a vote');
  const open = (run.custom?.active ?? []).filter((a) => a.state === 'waiting-approval' && (!v.step || v.step === a.id));
  if (!isActive(run.status) || open.length === 0) return gateClosed();
  if (open.length > 1) return refusal(400, `several gates are open (${open.map((a) => a.id).join(', ')}): name one with "step"`);
  const stepId = open[0].id;
  const gateId = gateInstanceId(runId, stepId);
  const voteId = randomUUID();
  const gate = await waitForInstance(client, gateId);
  // The run's summary can still show the gate waiting a moment after the gate decided: the voter
  // gets the same answer either way.
  // A gate that has decided may still be running (its notices, its audit): it takes no more votes.
  const decided = (g: { customStatus?: unknown } | undefined) => ((g?.customStatus as GateCustomStatus | undefined)?.status ?? 'pending') !== 'pending';
  if (gate && (!isActive(gate) || decided(gate))) return gateClosed();
  if (!gate) return refusal(409, `approval gate ${stepId} is not open yet: try again`, { code: 'gate-closed' });
  const limited = (gate.customStatus as GateCustomStatus | undefined)?.limited ?? [];
  if (limited.includes(user.trim().toLowerCase())) {
    return refusal(429, `${user}'s votes on gate ${stepId} were refused too often: no further vote of theirs is taken`, { code: 'rate-limited' });
  }
  await client.raiseEvent(gateId, EVENTS.vote, signed({ kind: 'vote', runId, target: `gate:${stepId}` },
    { voteId, approver: user, ...nameField('approverName', user, v), decision: v.decision, planHash: v.planHash, comment: v.comment, channel: v.channel, ...(v.client ? { client: v.client } : {}) }));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const g = (await statusOf(client, gateId))?.customStatus as GateCustomStatus | undefined;
    const seen = g?.votes?.find((x) => x.voteId === voteId);
    if (seen && g) {
      const summary = { stepId, status: g.status, approvers: g.approvers, rejectors: g.rejectors, required: g.required, phase: g.phase };
      return seen.outcome === 'accepted'
        ? answer(200, { outcome: 'accepted', voteId, gate: summary })
        : answer(409, { outcome: 'refused', voteId, code: seen.code, error: seen.reason, gate: summary });
    }
    // It decided on the votes before this one: this one will not be counted.
    if (g && g.status !== 'pending') return gateClosed();
    await new Promise((r) => setTimeout(r, 100));
  }
  return answer(202, { outcome: 'pending', voteId, stepId, note: 'the gate has not processed the vote yet; see GET /api/runs/{id}' });
}

/** Why an operator's signal to one step is refused (403 / 404 / 409), or the step's attempt when it may go. */
async function refuseStepSignal(client: Client, runId: string, stepId: string, user: string, what: string, state: StepState): Promise<{ refused: DecisionAnswer } | { attempt?: number }> {
  const refused = operatorRefusal(user, what);
  if (refused) return { refused: refusal(403, refused) };
  const found = await activeRun(client, runId);
  if (!found.ok) return { refused: found.res };
  const notIn = await stepIn(found.run.custom, runId, stepId, [state]);
  if (notIn) return { refused: notIn };
  return { attempt: found.run.custom?.active.find((a) => a.id === stepId)?.attempt };
}

export interface StepDecisionRequest extends Named { decision: 'retry' | 'skip' | 'abort'; comment?: string; channel: Channel; client?: DecisionClient }

/** An operator's retry / skip / abort for a step waiting for a decision: 202, or 403 / 404 / 409. */
export async function decideStep(client: Client, runId: string, stepId: string, user: string, d: StepDecisionRequest): Promise<DecisionAnswer> {
  const asked = await refuseStepSignal(client, runId, stepId, user, 'decide on a failed step', 'waiting-decision');
  if ('refused' in asked) return asked.refused;
  // The failed attempt it answers (executor version 8 counts it for that failure only).
  await client.raiseEvent(runId, EVENTS.decision(stepId), signed({ kind: 'decision', runId, target: stepId },
    { decision: d.decision, by: user, ...nameField('byName', user, d), comment: d.comment, channel: d.channel, ...(d.client ? { client: d.client } : {}), ...(asked.attempt ? { attempt: asked.attempt } : {}) }));
  return answer(202, { runId, step: stepId, decision: d.decision, by: user, channel: d.channel });
}

export interface ConfirmRequest extends Named { comment?: string; channel: Channel; client?: DecisionClient; override?: { reason: string } }

/** An operator says a manual step is done: 202, or 403 / 404 / 409. */
export async function confirmStep(client: Client, runId: string, stepId: string, user: string, c: ConfirmRequest): Promise<DecisionAnswer> {
  const asked = await refuseStepSignal(client, runId, stepId, user, 'confirm a manual step', 'waiting-confirmation');
  if ('refused' in asked) return asked.refused;
  await client.raiseEvent(runId, EVENTS.confirm(stepId), signed({ kind: 'confirm', runId, target: stepId },
    { by: user, ...nameField('byName', user, c), comment: c.comment, channel: c.channel, ...(c.client ? { client: c.client } : {}), ...(c.override ? { override: c.override } : {}) }));
  return answer(202, { runId, step: stepId, confirmedBy: user, channel: c.channel, ...(c.override ? { override: c.override } : {}) });
}

export interface CancelRequest extends Named { reason: string; channel: Channel }

/** Cancels a run: its open gates first, so a gate cannot approve after the run decided to stop. */
export async function cancelRun(client: Client, runId: string, user: string, c: CancelRequest): Promise<DecisionAnswer> {
  const refused = operatorRefusal(user, 'cancel a run');
  if (refused) return refusal(403, refused);
  const found = await activeRun(client, runId);
  if (!found.ok) return found.res;
  const { run } = found;
  if (run.custom?.cancelRequested) return refusal(409, `run ${runId} is already being cancelled (by ${run.custom.cancelRequested.by})`);
  const event = { by: user, ...nameField('byName', user, c), reason: c.reason, channel: c.channel };
  for (const { id: stepId, state } of run.custom?.active ?? []) {
    if (state !== 'waiting-approval') continue;
    const g = await waitForInstance(client, gateInstanceId(runId, stepId));
    if (g && isActive(g)) await client.raiseEvent(gateInstanceId(runId, stepId), EVENTS.cancel, signed({ kind: 'cancel', runId, target: `gate:${stepId}` }, event));
  }
  await client.raiseEvent(runId, EVENTS.cancel, signed({ kind: 'cancel', runId, target: 'run' }, event));
  return answer(202, { runId, cancelRequestedBy: user, channel: c.channel });
}
