// The Adaptive Cards (1.5, Universal Actions) the Teams channel shows, built by typed functions
// from a Notification or an answer: no template language, so nothing a person typed (a comment, a
// run option, an error text) is ever evaluated, only shown. Every button is an Action.Execute with
// a verb and its data, with an Action.Submit fallback for clients without Universal Actions; the
// data names the run, the step and the plan hash the person saw, which is what the vote is for.
import { formatDuration, type Plan, type RtoForecast } from '../../../shared/plan/index.js';
import type { Measure } from '../../../shared/runs/contract.js';
import type { GateView, Notification } from '../../../shared/runs/notifications.js';
import { shownAs } from '../../../shared/identity/display.js';
// Types only (a devDependency, erased at build): the Teams SDK's interfaces are generated from the
// Adaptive Cards schema, so tsc checks every element, property name and enum value the builders
// below write against it. The 1.5 version limit is checked at test time (test/teams/card-schema.ts).
import type { ActionArray, CardElementArray, IAdaptiveCard, IExecuteAction, IFactSet, IOpenUrlAction, ITextBlock, ITextInput } from '@microsoft/teams.cards';

export type Card = IAdaptiveCard & { type: 'AdaptiveCard'; version: '1.5' };
type Element = CardElementArray[number];
type Action = ActionArray[number];
type NotificationOf<K extends Notification['kind']> = Extract<Notification, { kind: K }>;

export const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/** The verbs a card can send back (value.action.verb of the adaptiveCard/action invoke). */
export const VERBS = ['approve', 'reject', 'retry', 'skip', 'abort', 'confirm', 'declare', 'refresh'] as const;
export type Verb = (typeof VERBS)[number];

/** What every button carries back; `planHash` binds a vote or a Declare to the plan that was shown. */
export interface ActionData { runId?: string; stepId?: string; planHash?: string; runbook?: string; options?: Record<string, unknown>; mode?: string }

const text = (t: string, o: Omit<Partial<ITextBlock>, 'type' | 'text'> = {}): ITextBlock => ({ type: 'TextBlock', text: t, wrap: true, ...o });
type Tone = 'good' | 'attention';
// Adaptive Cards enum values are case-insensitive; written the way the schema's renderer SDK writes them.
const colour = (tone: Tone): ITextBlock['color'] => (tone === 'good' ? 'Good' : 'Attention');
const heading = (t: string, tone?: Tone): ITextBlock => text(t, { size: 'Large', weight: 'Bolder', ...(tone ? { color: colour(tone) } : {}) });
const facts = (pairs: Array<[string, string | undefined]>): IFactSet => ({
  type: 'FactSet', facts: pairs.filter((p): p is [string, string] => p[1] !== undefined && p[1] !== '').map(([title, value]) => ({ title, value })),
});
const comment = (placeholder: string): ITextInput => ({ type: 'Input.Text', id: 'comment', isMultiline: true, maxLength: 2000, placeholder, label: 'Comment' });

const openUrl = (title: string, url: string): IOpenUrlAction => ({ type: 'Action.OpenUrl', title, url });

function execute(title: string, verb: Verb, data: ActionData, style?: 'positive' | 'destructive'): IExecuteAction {
  return {
    type: 'Action.Execute', title, verb, data, ...(style ? { style } : {}),
    // Clients without Universal Actions send the Submit as a message whose value carries the verb.
    fallback: { type: 'Action.Submit', title, data: { ...data, verb } },
  };
}

function card(body: Element[], actions: Action[] = [], refresh?: { verb: Verb; data: ActionData; userIds: string[] }): Card {
  return {
    type: 'AdaptiveCard', version: '1.5', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    body, ...(actions.length ? { actions } : {}),
    // No userIds (no approver's Teams id known yet): Teams then refreshes for everyone in
    // conversations of at most 60 members, and for nobody automatically in bigger ones.
    ...(refresh ? { refresh: { action: { type: 'Action.Execute', title: 'Refresh', verb: refresh.verb, data: refresh.data }, ...(refresh.userIds.length ? { userIds: refresh.userIds } : {}) } } : {}),
  };
}

const minutes = (m: number) => formatDuration(m * 60_000);
const measure = (m: Measure | undefined) => m ? (m.minutes === null ? `not measured (target ${minutes(m.targetMinutes)})` : `${minutes(m.minutes)} of ${minutes(m.targetMinutes)} target: ${m.met ? 'met' : 'MISSED'}`) : undefined;
const runLink = (publicUrl: string, runId: string) => `${publicUrl}/api/runs/${encodeURIComponent(runId)}`;

export interface GateCardOptions {
  publicUrl: string;
  /** Teams user ids (MRIs) of the approvers who may still vote: Teams fetches their own view. */
  userIds: string[];
  /** Whose view this is (an approver's refresh or vote); undefined: the shared card. */
  viewer?: string;
  /** A line at the top: what just happened (your vote counted, or why not). */
  note?: { text: string; tone: Tone };
}

function voteLines(g: GateView): Element[] {
  // Each voter as shownAs says: the UPN their signed vote carried beside the object id.
  const lines = g.votes.map((v) => `${v.outcome === 'accepted' ? '✔' : '✖'} ${shownAs(v.approver, v.approverName)}: ${v.decision}${v.channel ? ` (${v.channel})` : ''}${v.outcome === 'refused' ? ` — refused: ${v.reason ?? v.code ?? ''}` : ''}`);
  const still = Math.max(0, g.required - g.approvers.length);
  return [
    text('Votes', { weight: 'Bolder', spacing: 'Medium' }),
    ...(lines.length ? lines.map((l) => text(l, { spacing: 'None' })) : [text('none yet', { isSubtle: true, spacing: 'None' })]),
    text(g.status === 'pending' ? `${g.approvers.length} of ${g.required} approvals; ${still} more needed${g.eligible.length ? ` (may vote: ${g.eligible.join(', ')})` : ''}` : `Gate ${g.status}`, { spacing: 'Small', weight: 'Bolder' }),
  ];
}

export function gateCard(n: NotificationOf<'gate'>, o: GateCardOptions): Card {
  const g = n.gate;
  const data: ActionData = { runId: n.runId, stepId: g.stepId, planHash: g.planHash };
  const open = g.status === 'pending';
  const mayVote = open && (!o.viewer || (g.eligible.includes(o.viewer) && !g.approvers.includes(o.viewer) && !g.rejectors.includes(o.viewer)));
  const forecast = g.rtoForecastMinutes !== undefined
    ? `${minutes(g.rtoForecastMinutes)}${g.rtoTargetMinutes !== undefined ? ` (target ${minutes(g.rtoTargetMinutes)}: ${g.rtoForecastMinutes <= g.rtoTargetMinutes ? 'within' : 'OVER'})` : ''}`
    : undefined;
  const changes = g.changes.map((c) => text(`• ${c.title}${c.site ? ` (${c.site})` : ''}`, { spacing: 'None' }));
  if (g.changesTotal > g.changes.length) changes.push(text(`… and ${g.changesTotal - g.changes.length} more`, { spacing: 'None', isSubtle: true }));
  const body: Element[] = [
    ...(o.note ? [text(o.note.text, { color: colour(o.note.tone), weight: 'Bolder' })] : []),
    heading(open ? `Approval needed: ${g.title}` : `${g.title}: ${g.status}`, open ? undefined : g.status === 'approved' ? 'good' : 'attention'),
    text(n.runTitle, { isSubtle: true, spacing: 'None' }),
    text(g.reason),
    facts([['Run', n.runId], ['Runbook', n.runbook], ['Requested by', g.requester], ['Plan hash', g.planHash], ['RTO forecast', forecast],
      ['Phase', g.phase === 'primary' ? undefined : g.phase], ['Deadline', open ? g.deadline : undefined]]),
    text(`Steps that change the estate (${g.changesTotal})`, { weight: 'Bolder', spacing: 'Medium' }),
    ...changes,
    ...voteLines(g),
    ...(mayVote ? [comment('Why (optional for approve, expected for reject)')] : []),
  ];
  const actions = [
    ...(mayVote ? [execute('Approve', 'approve', data, 'positive'), execute('Reject', 'reject', data, 'destructive')] : []),
    openUrl('Open the what-if', runLink(o.publicUrl, n.runId)),
  ];
  return card(body, actions, open ? { verb: 'refresh', data, userIds: o.userIds.slice(0, 60) } : undefined);
}

export function decisionCard(n: NotificationOf<'decision-needed'>, publicUrl: string): Card {
  const data: ActionData = { runId: n.runId, stepId: n.stepId };
  return card([
    heading(`Decision needed: ${n.stepTitle}`, 'attention'),
    text(n.runTitle, { isSubtle: true, spacing: 'None' }),
    facts([['Run', n.runId], ['Runbook', n.runbook], ['Step', n.stepId], ['Attempts', String(n.attempt)]]),
    text('Error', { weight: 'Bolder' }),
    text(n.error, { fontType: 'Monospace' }),
    comment('Comment (optional)'),
  ], [
    execute('Retry', 'retry', data, 'positive'), execute('Skip', 'skip', data), execute('Abort', 'abort', data, 'destructive'),
    openUrl('Open the run', runLink(publicUrl, n.runId)),
  ]);
}

export function manualCard(n: NotificationOf<'manual-waiting'>, publicUrl: string): Card {
  return card([
    heading(`Manual step: ${n.stepTitle}`),
    text(n.runTitle, { isSubtle: true, spacing: 'None' }),
    facts([['Run', n.runId], ['Runbook', n.runbook], ['Step', n.stepId]]),
    text('What to do', { weight: 'Bolder' }),
    text(n.instructions),
    comment('What you did (optional)'),
  ], [execute('Confirm it is done', 'confirm', { runId: n.runId, stepId: n.stepId }, 'positive'), openUrl('Open the run', runLink(publicUrl, n.runId))]);
}

export function runEndedCard(n: NotificationOf<'run-ended'> & { auditVerified?: boolean }, publicUrl: string): Card {
  const audit = n.auditVerified === undefined ? 'not checked' : n.auditVerified ? 'verified (hash chain intact)' : 'BROKEN: the chain does not verify';
  return card([
    heading(`Run ${n.outcome}: ${n.runTitle}`, n.outcome === 'succeeded' ? 'good' : 'attention'),
    facts([['Run', n.runId], ['Runbook', n.runbook], ['RTO', measure(n.rto)], ['RPO', measure(n.rpo)], ['Audit trail', audit]]),
    ...(n.error ? [text(n.error, { fontType: 'Monospace' })] : []),
  ], [openUrl('Open the run', runLink(publicUrl, n.runId))]);
}

/** The card of a notification, as everyone in the conversation sees it. */
export function notificationCard(n: Notification & { auditVerified?: boolean }, o: { publicUrl: string; userIds: string[] }): Card {
  switch (n.kind) {
    case 'gate': return gateCard(n, o);
    case 'decision-needed': return decisionCard(n, o.publicUrl);
    case 'manual-waiting': return manualCard(n, o.publicUrl);
    case 'run-ended': return runEndedCard(n, o.publicUrl);
  }
}

/** The what-if of a start asked in a message: nothing runs until an operator presses Declare. */
/** `options` are the ones asked for (not the plan's, with defaults filled in): Declare plans them again. */
export function whatIfCard(p: { plan: Plan; options: Record<string, unknown>; planHash: string; forecast: RtoForecast; mode: string; askedBy: string }): Card {
  const changing = p.plan.steps.filter((s) => s.kind === 'command' && s.effect !== 'read-only');
  const manual = p.plan.steps.filter((s) => s.kind === 'manual').length;
  return card([
    heading(`What-if: ${p.plan.title}`),
    facts([['Runbook', p.plan.runbook], ['Mode', p.mode], ['Asked by', p.askedBy], ['Plan hash', p.planHash],
      ['Steps', `${p.plan.steps.length} (${changing.length} change the estate, ${manual} manual)`],
      ['RTO forecast', `${formatDuration(p.forecast.totalMs)} (target ${formatDuration(p.forecast.targetRtoMs)}: ${p.forecast.withinTarget ? 'within' : 'OVER'})`]]),
    text('Steps that change the estate', { weight: 'Bolder' }),
    ...changing.slice(0, 30).map((s) => text(`• ${s.title}${s.kind === 'command' ? ` (${s.site})` : ''}`, { spacing: 'None' })),
    ...(changing.length > 30 ? [text(`… and ${changing.length - 30} more`, { isSubtle: true, spacing: 'None' })] : []),
    text('Declare starts the run (operators only); its approval gates still ask the approvers.', { isSubtle: true }),
  ], [execute('Declare', 'declare', { runbook: p.plan.runbook, options: p.options, planHash: p.planHash, mode: p.mode }, 'destructive')]);
}

/** An answer to one person: what happened, or why not (the decisions module's words). */
export function messageCard(title: string, lines: string[], tone: Tone | 'default' = 'default'): Card {
  return card([heading(title, tone === 'default' ? undefined : tone), ...lines.map((l) => text(l))]);
}

export const errorCard = (reason: string, title = 'Not done') => messageCard(title, [reason], 'attention');
