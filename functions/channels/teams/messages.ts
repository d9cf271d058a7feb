// What people write to the bot (@lyncdr ...): a start shows the what-if first and starts nothing
// (the Declare button does, for operators); status and runs read runs as the API does. The text is
// split into words and matched against a fixed grammar; a word is only ever a value.
import { z } from 'zod';
import { RunbookName } from '../../../shared/plan/schema.js';
import { ORCHESTRATION, RunSummary } from '../../../shared/runs/contract.js';
import { optionsFromPairs } from '../../../cli/commands/plan.js';
import { runbookEntry } from '../../../orchestrations/runbooks/index.js';
import { findRun, runView, type Client } from '../../runs/read.js';
import { previewPlan } from '../../runs/start.js';
import { errorCard, messageCard, whatIfCard, type Card } from './cards.js';
import { prefix } from '../../../shared/text/quote.js';
import { shownAs } from '../../../shared/identity/display.js';

export const HELP = [
  'failover site <site>: what-if of a site failover (Declare starts it)',
  'failover pool <pool fqdn>: what-if of a Front End pool failover',
  'plan <runbook> [key=value ...] [mode=drill|what-if|live]: what-if of any runbook',
  'status <run id>: where a run is',
  'runs: the latest runs',
];

const Mode = z.enum(['drill', 'what-if', 'live']);

async function whatIf(runbook: string, pairs: string[], askedBy: string): Promise<Card> {
  const name = RunbookName.safeParse(runbook);
  if (!name.success) return errorCard(`no runbook ${runbook}; the runbooks are ${RunbookName.options.join(', ')}`);
  let mode: z.infer<typeof Mode> = 'drill';
  const rest: string[] = [];
  for (const p of pairs) {
    if (p.startsWith('mode=')) {
      const m = Mode.safeParse(p.slice(5));
      if (!m.success) return errorCard('mode is drill, what-if or live');
      mode = m.data;
    } else rest.push(p);
  }
  let options: Record<string, unknown>;
  try {
    options = optionsFromPairs(runbookEntry(name.data).options, rest);
  } catch (err) {
    return errorCard((err as Error).message.replace(/^--option /, ''));
  }
  const p = await previewPlan(name.data, options as never);
  if (!p.ok) return errorCard(p.error, 'Cannot plan that');
  return whatIfCard({ plan: p.plan, options, planHash: p.planHash, forecast: p.forecast, mode, askedBy });
}

async function status(client: Client, id: string): Promise<Card> {
  const run = await findRun(client, id);
  if (!run) return errorCard(`no run ${prefix(id)}`);
  // The summary with every step's row, exactly as GET /api/runs/{id} shows it.
  const c = await runView(run);
  if (!c) return messageCard(`Run ${id}`, [`${String(run.status.runtimeStatus)}`]);
  const waiting = c.order.filter((s) => /^waiting-/.test(c.steps[s]?.state ?? '')).map((s) => `${s}: ${c.steps[s].state}`);
  const done = c.order.filter((s) => ['succeeded', 'skipped'].includes(c.steps[s]?.state ?? '')).length;
  return messageCard(`Run ${id}: ${c.phase}`, [
    `${c.title ?? c.runbook} (${c.mode}), requested by ${shownAs(c.requestedBy, c.requestedByName)}`,
    `${done} of ${c.order.length} steps done${waiting.length ? `; waiting: ${waiting.join(', ')}` : ''}`,
    ...(c.planHash ? [`Plan hash ${c.planHash}`] : []),
    ...(c.error ? [`Error: ${c.error}`] : []),
  ], c.phase === 'succeeded' ? 'good' : ['failed', 'aborted', 'rejected', 'cancelled'].includes(c.phase) ? 'attention' : 'default');
}

async function runs(client: Client): Promise<Card> {
  const all = (await client.getStatusAll()).filter((s) => s.name === ORCHESTRATION.runPlan)
    .sort((a, b) => String(b.createdTime).localeCompare(String(a.createdTime))).slice(0, 10);
  if (!all.length) return messageCard('Runs', ['no runs yet']);
  return messageCard('Latest runs', all.map((s) => {
    const c = RunSummary.safeParse(s.customStatus);
    return `${s.instanceId}: ${c.success ? `${c.data.runbook} ${c.data.phase}` : String(s.runtimeStatus)}`;
  }));
}

/** The answer to a message: `text` is what the person wrote, without the @mention. */
export async function answerMessage(client: Client, text: string, askedBy: string): Promise<Card> {
  const words = text.replace(/^@?lyncdr\b/i, '').trim().split(/\s+/).filter(Boolean);
  const [verb, ...args] = words;
  switch (verb?.toLowerCase()) {
    case 'failover':
      if (args[0]?.toLowerCase() === 'site' && args[1]) return whatIf('site-failover', [`failedSite=${args[1]}`, ...args.slice(2)], askedBy);
      if (args[0]?.toLowerCase() === 'pool' && args[1]) return whatIf('fe-pool-failover', [`pool=${args[1]}`, ...args.slice(2)], askedBy);
      return errorCard('failover site <site> or failover pool <pool fqdn>');
    case 'plan':
      return args[0] ? whatIf(args[0], args.slice(1), askedBy) : errorCard('plan <runbook> [key=value ...]');
    case 'status':
      return args[0] ? status(client, args[0]) : errorCard('status <run id>');
    case 'runs':
      return runs(client);
    default:
      return messageCard('lyncdr', HELP);
  }
}
