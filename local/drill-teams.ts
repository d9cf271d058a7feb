// The drill's people acting in Teams (npm run drill -- --channel teams), through the stand-in's
// signed activities: the operator writes "plan <runbook> key=value ..." to the bot and presses
// Declare on the what-if it answers; approvers press Approve, the operator Confirm / Skip / Abort.
// A button is pressed on the run's card for that step when the app's notify activity posted one;
// otherwise (not there yet, or LYNCDR_CHANNELS without teams) the same Action.Execute is sent with
// the data such a card carries.
import type { People } from './drill-driver.js';
import type { TeamsStandin } from './teams-standin.js';

interface Answer { status: number; body: unknown }

/** The text lines of an invoke's answer card (or what went wrong). */
function said(r: Answer): string {
  const value = (r.body as { value?: { body?: Array<{ type?: string; text?: string }> } } | undefined)?.value;
  if (r.status !== 200 || !value) return `HTTP ${r.status} ${JSON.stringify(r.body)}`;
  return (value.body ?? []).filter((b) => b.type === 'TextBlock' && b.text).map((b) => b.text).slice(0, 2).join(' — ');
}

/** Every Action.Execute of a card, with its verb and data. */
function buttons(card: unknown): Array<{ verb: string; data: Record<string, unknown> }> {
  const found: Array<{ verb: string; data: Record<string, unknown> }> = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      if (o.type === 'Action.Execute' && typeof o.verb === 'string') found.push({ verb: o.verb, data: (o.data ?? {}) as Record<string, unknown> });
      Object.values(o).forEach(walk);
    }
  };
  walk(card);
  return found;
}

const pairs = (options: Record<string, unknown>) => Object.entries(options).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);

export function teamsPeople(teams: TeamsStandin): People {
  const press = async (who: string, runId: string, verb: string, data: Record<string, unknown>, comment: string) => {
    // The run's newest card with this button for this step: the notify activity posts a card per
    // manual step and failed step, and the one of the step now waiting may not be there yet.
    const card = teams.cards(runId).reverse().find((c) => buttons(c.card).some((b) => b.verb === verb && (!data.stepId || b.data.stepId === data.stepId)));
    const onCard = card ? await teams.click({ activityId: card.activityId, verb, as: who, comment }) : undefined;
    return said(!onCard || onCard.status === 404 ? await teams.invoke(who, { verb, data: { ...data, comment } }) : onCard);
  };
  return {
    async start(who, runbook, options, mode) {
      const what = await teams.message(who, ['plan', runbook, ...pairs(options), `mode=${mode}`].join(' '));
      const declare = (what.reply?.card.actions as Array<{ verb?: string; data?: Record<string, unknown> }> | undefined)?.find((a) => a.verb === 'declare');
      if (!declare?.data) throw new Error(`the bot answered no what-if to "plan ${runbook}": ${JSON.stringify(what.reply?.card ?? what.body)}`);
      const answer = said(await teams.invoke(who, { verb: 'declare', data: declare.data }));
      const runId = /\b(run-[0-9a-z]+-[0-9a-f]{6})\b/.exec(answer)?.[1];
      if (!runId) throw new Error(`Declare did not start the run: ${answer}`);
      return runId;
    },
    approve: (who, runId, stepId, planHash) => press(who, runId, 'approve', { runId, stepId, planHash }, 'plan reviewed in Teams'),
    confirm: (who, runId, stepId) => press(who, runId, 'confirm', { runId, stepId }, 'done (simulated estate)'),
    decide: (who, runId, stepId, decision) => press(who, runId, decision, { runId, stepId }, `${decision} on failure`),
  };
}
