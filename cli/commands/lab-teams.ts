// `lyncdr lab teams ...`: the Teams stand-in of the local stack (local/teams-standin.ts), as the
// people in the team channel see it: the cards the app posted and updated, a button pressed as
// someone, a message written to the bot. It finds the stand-in through <data dir>/teams/standin.json.
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LabCommandDeps } from './lab.js';

interface Card { type?: string; text?: string; size?: string; facts?: Array<{ title: string; value: string }>; actions?: Card[]; body?: Card[]; verb?: string; title?: string }
interface Recorded { activityId: string; runId?: string; posts: number; updates: number; replyToId?: string; card: Card }

/** A card as lines of text: its text blocks, facts and buttons. */
export function cardText(card: Card): string {
  const lines: string[] = [];
  for (const b of card.body ?? []) {
    if (b.type === 'TextBlock' && b.text) lines.push(b.size === 'Large' ? `# ${b.text}` : b.text);
    if (b.type === 'FactSet') for (const f of b.facts ?? []) lines.push(`${f.title}: ${f.value}`);
    if (b.type === 'Input.Text') lines.push('[comment]');
  }
  const buttons = (card.actions ?? []).map((a) => (a.verb ? `[${a.title}: ${a.verb}]` : `[${a.title}]`));
  if (buttons.length) lines.push(buttons.join(' '));
  return lines.join('\n');
}

export function registerTeamsLabCommands(lab: Command, deps: LabCommandDeps = {}): Command {
  const env = deps.env ?? process.env;
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const standin = (): string => {
    const file = path.join(env.LYNCDR_DATA_DIR || '.data', 'teams', 'standin.json');
    try {
      return (JSON.parse(readFileSync(file, 'utf8')) as { url: string }).url;
    } catch {
      throw new InvalidArgumentError(`no Teams stand-in found (${file}): is npm start running?`);
    }
  };
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${standin()}/_standin/${p}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } })
      .catch((e: Error) => { throw new Error(`cannot reach the Teams stand-in: ${e.message} (is npm start running?)`); });
    return res.json() as Promise<Record<string, unknown>>;
  };
  const answer = (r: Record<string, unknown>) => {
    const body = r.body as { value?: Card; error?: string } | undefined;
    const reply = (r.reply as Recorded | undefined)?.card;
    const card = body?.value ?? reply;
    out(card ? `${cardText(card)}\n` : `HTTP ${String(r.status)} ${JSON.stringify(body ?? r)}\n`);
    if (!card) (deps.setExitCode ?? ((c: number) => { process.exitCode = c; }))(1);
  };

  const teams = lab.command('teams').description('the Teams stand-in of the local stack: cards the app posted, buttons pressed as someone');
  teams.command('cards [run]').description('the cards in the team channel (of one run)').option('--json', 'as JSON, with every version')
    .action(async (run: string | undefined, o: { json?: boolean }) => {
      const { cards } = await call('GET', `cards${run ? `?run=${encodeURIComponent(run)}` : ''}`) as { cards: Recorded[] };
      if (o.json) return out(`${JSON.stringify(cards, null, 2)}\n`);
      if (!cards.length) return out('no cards\n');
      for (const c of cards) out(`--- ${c.activityId}${c.runId ? ` (${c.runId})` : ''}: posted ${c.posts}, updated ${c.updates}${c.replyToId ? ', a reply' : ''}\n${cardText(c.card)}\n`);
    });
  teams.command('click <run> <action>').description('press a button (approve, reject, retry, skip, abort, confirm, declare) on the newest card of a run that has it; run - for any card (a what-if\'s Declare)')
    .requiredOption('--as <user>', 'who presses it (a Teams user of the stand-in: alice, bob, ...)')
    .option('--comment <text>', 'what they type in the comment box')
    .action(async (run: string, action: string, o: { as: string; comment?: string }) => {
      answer(await call('POST', 'click', { ...(run === '-' ? {} : { runId: run }), verb: action, as: o.as, ...(o.comment ? { comment: o.comment } : {}) }));
    });
  teams.command('say <words...>').description('write to the bot in the team channel, e.g. lab teams say failover site East --as bob')
    .requiredOption('--as <user>', 'who writes')
    .action(async (words: string[], o: { as: string }) => {
      answer(await call('POST', 'message', { as: o.as, text: words.join(' ') }));
    });
  return teams;
}
