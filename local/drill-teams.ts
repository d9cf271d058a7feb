// The drill's people acting in Teams (npm run drill -- --channel teams), through the stand-in's
// signed activities: the operator writes "plan <runbook> key=value ..." to the bot and presses
// Declare on the what-if it answers; approvers press Approve, the operator Confirm / Skip / Abort.
// A button is pressed on the run's card when the app posted one; otherwise (no notify wiring yet)
// the same Action.Execute is sent with the data such a card carries.
import type { People } from './drill-driver.js';
import type { TeamsStandin } from './teams-standin.js';

interface Answer { status: number; body: unknown }

/** The text lines of an invoke's answer card (or what went wrong). */
function said(r: Answer): string {
  const value = (r.body as { value?: { body?: Array<{ type?: string; text?: string }> } } | undefined)?.value;
  if (r.status !== 200 || !value) return `HTTP ${r.status} ${JSON.stringify(r.body)}`;
  return (value.body ?? []).filter((b) => b.type === 'TextBlock' && b.text).map((b) => b.text).slice(0, 2).join(' — ');
}

const pairs = (options: Record<string, unknown>) => Object.entries(options).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);

export function teamsPeople(teams: TeamsStandin): People {
  const press = async (who: string, runId: string, verb: string, data: Record<string, unknown>, comment: string) => {
    const onCard = await teams.click({ runId, verb, as: who, comment });
    return said(onCard.status === 404 ? await teams.invoke(who, { verb, data: { ...data, comment } }) : onCard);
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
