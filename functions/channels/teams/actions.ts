// Card actions (invoke adaptiveCard/action, or the Action.Submit fallback's message): each verb is
// one call of the decisions module (channel 'teams') or of the run start every channel shares, so
// Teams has no rules of its own; the answer is a card for the person who pressed: the gate card
// refreshed for them, or what happened, or the refusal in the API's words.
import { z } from 'zod';
import { gateInstanceId, type GateCustomStatus } from '../../../shared/runs/contract.js';
import { Notification } from '../../../shared/runs/notifications.js';
import { RunbookName } from '../../../shared/plan/schema.js';
import { castVote, confirmStep, decideStep, operatorRefusal, type DecisionAnswer } from '../../runs/decisions.js';
import { statusOf, type Client } from '../../runs/read.js';
import { previewPlan, startRun } from '../../runs/start.js';
import { errorCard, gateCard, messageCard, whatIfCard, VERBS, type Card, type GateCardOptions } from './cards.js';
import type { TeamsStore } from './store.js';
import { RequestedRunOptions } from '../../../shared/runs/requested-options.js';
import { shownAs } from '../../../shared/identity/display.js';

/** What a button sends back; untrusted, so parsed. Teams merges the card's inputs (comment) into it. */
export const ActionValue = z.object({
  verb: z.enum(VERBS),
  data: z.object({
    runId: z.string().max(80).optional(),
    stepId: z.string().max(200).optional(),
    planHash: z.string().max(200).optional(),
    runbook: RunbookName.optional(),
    options: RequestedRunOptions.optional(),
    mode: z.enum(['drill', 'what-if', 'live']).optional(),
    comment: z.string().trim().max(2000).optional(),
  }).loose().default({}),
});
export type ActionValue = z.infer<typeof ActionValue>;

export interface ActionDeps { client: Client; store: TeamsStore; publicUrl: string }

const reason = (a: DecisionAnswer) => String(a.body.error ?? `HTTP ${a.status}`);
const GateNotification = Notification.options[0];
type GateNotification = z.infer<typeof GateNotification>;

/** The gate as last sent (title, reason, changes, forecast) with its live state (votes, status). */
async function liveGate(d: ActionDeps, runId: string, stepId: string): Promise<GateNotification | undefined> {
  const row = await d.store.latestGate(runId, stepId);
  const sent = row ? GateNotification.safeParse(JSON.parse(row.notification)) : undefined;
  if (!sent?.success) return undefined;
  const g = (await statusOf(d.client, gateInstanceId(runId, stepId)))?.customStatus as GateCustomStatus | undefined;
  if (!g?.votes) return sent.data;
  return {
    ...sent.data,
    gate: {
      ...sent.data.gate, status: g.status, phase: g.phase, required: g.required, approvers: g.approvers, rejectors: g.rejectors, eligible: g.eligible,
      ...(g.deadline ? { deadline: g.deadline } : {}),
      votes: g.votes.slice(-200).map((v) => ({ approver: v.approver, ...(v.approverName ? { approverName: v.approverName.slice(0, 256) } : {}), decision: v.decision, outcome: v.outcome, at: v.at, ...(v.code ? { code: v.code } : {}), ...(v.reason ? { reason: v.reason.slice(0, 500) } : {}) })),
    },
  };
}

async function gateView(d: ActionDeps, runId: string, stepId: string, viewer: string | undefined, note?: GateCardOptions['note']): Promise<Card | undefined> {
  const n = await liveGate(d, runId, stepId);
  if (!n) return undefined;
  return gateCard(n, { publicUrl: d.publicUrl, userIds: await d.store.mris(n.gate.eligible), ...(viewer ? { viewer } : {}), ...(note ? { note } : {}) });
}

/** Refresh: the gate card as this person sees it (the buttons only for those who may still vote). */
export async function refreshCard(d: ActionDeps, v: ActionValue, viewer: string | undefined): Promise<Card> {
  const { runId, stepId } = v.data;
  if (!runId || !stepId) return errorCard('this card names no gate');
  return (await gateView(d, runId, stepId, viewer)) ?? errorCard(`no gate card of run ${runId} is known here`);
}

/** `name`: the person's UPN beside their identity, for display (it rides, signed, with their decision). */
export async function runAction(d: ActionDeps, v: ActionValue, user: string, name?: string): Promise<Card> {
  const { runId, stepId, comment } = v.data;
  const named = name ? { name } : {};
  switch (v.verb) {
    case 'refresh': return refreshCard(d, v, user);
    case 'approve':
    case 'reject': {
      if (!runId || !v.data.planHash) return errorCard('this card names no run or plan hash');
      const a = await castVote(d.client, runId, user, { decision: v.verb, planHash: v.data.planHash, channel: 'teams', ...named, ...(comment ? { comment } : {}), ...(stepId ? { step: stepId } : {}) });
      if (a.status === 200) {
        const card = stepId ? await gateView(d, runId, stepId, user, { text: `Your ${v.verb === 'approve' ? 'approval' : 'rejection'} counted.`, tone: 'good' }) : undefined;
        return card ?? messageCard('Your vote counted', [`${v.verb} on run ${runId}`], 'good');
      }
      if (a.status === 202) return messageCard('Vote sent', ['The gate has not answered yet; the card updates when it does.']);
      return errorCard(`${reason(a)}${a.body.code ? ` (${String(a.body.code)})` : ''}`, 'Your vote did not count');
    }
    case 'retry':
    case 'skip':
    case 'abort': {
      if (!runId || !stepId) return errorCard('this card names no run or step');
      const a = await decideStep(d.client, runId, stepId, user, { decision: v.verb, channel: 'teams', ...named, ...(comment ? { comment } : {}) });
      return a.status === 202 ? messageCard(`${v.verb[0].toUpperCase()}${v.verb.slice(1)} sent`, [`${shownAs(user, name)} decided ${v.verb} for step ${stepId} of run ${runId}.`], 'good') : errorCard(reason(a));
    }
    case 'confirm': {
      if (!runId || !stepId) return errorCard('this card names no run or step');
      const a = await confirmStep(d.client, runId, stepId, user, { channel: 'teams', ...named, ...(comment ? { comment } : {}) });
      return a.status === 202 ? messageCard('Confirmed', [`${shownAs(user, name)} confirmed step ${stepId} of run ${runId}.`], 'good') : errorCard(reason(a));
    }
    case 'declare': {
      const refused = operatorRefusal(user, 'start a run');
      if (refused) return errorCard(refused);
      if (!v.data.runbook || !v.data.planHash) return errorCard('this card names no runbook or plan hash');
      const mode = v.data.mode ?? 'drill';
      const now = await previewPlan(v.data.runbook, v.data.options ?? {});
      if (!now.ok) return errorCard(now.error);
      // What was shown is what starts: a plan that changed since the what-if (a new estate file,
      // another build) is shown again instead of started.
      if (now.planHash !== v.data.planHash) {
        const fresh = whatIfCard({ plan: now.plan, options: v.data.options ?? {}, planHash: now.planHash, forecast: now.forecast, mode, askedBy: user });
        return { ...fresh, body: [{ type: 'TextBlock', wrap: true, weight: 'Bolder', color: 'Attention', text: `The plan changed since this what-if (was ${v.data.planHash}): nothing started. Check the new plan and Declare again.` }, ...(fresh.body as unknown[])] } as Card;
      }
      const a = await startRun(d.client, user, { runbook: v.data.runbook, options: v.data.options ?? {}, mode }, name);
      return a.status === 202 ? messageCard('Run started', [`${String(a.body.runId)} (${v.data.runbook}, ${mode}) declared by ${shownAs(user, name)}.`, `Plan hash ${now.planHash}.`], 'good') : errorCard(reason(a));
    }
  }
}
