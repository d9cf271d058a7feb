// `lyncdr lab mail list | open <n> | click <n> <decision>`: the mails the local SMTP sink kept
// (npm start, the drill), and their links followed as a person would: the GET shows the
// confirmation page, then the page's form is posted with its CSRF token (and a comment).
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseMail } from '../../local/mail-parse.js';
import { clickLink } from '../../local/mail-click.js';
import { readIndex, type SinkMessage } from '../../local/smtp-sink.js';

export interface MailCommandDeps {
  env?: NodeJS.ProcessEnv;
  out?: (text: string) => void;
  setExitCode?: (code: number) => void;
  doFetch?: typeof fetch;
}

export function registerMailCommands(lab: Command, deps: MailCommandDeps = {}): Command {
  const env = deps.env ?? process.env;
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const mail = lab.command('mail').description('the mails of the local SMTP sink (npm start, the drill) and their signed links')
    .option('--mail-dir <dir>', 'the sink folder (default <LYNCDR_DATA_DIR or .data>/mail)');
  const dir = () => mail.opts<{ mailDir?: string }>().mailDir ?? path.join(env.LYNCDR_DATA_DIR || '.data', 'mail');
  const find = (n: number): SinkMessage => {
    const m = readIndex(dir()).find((x) => x.n === n);
    if (!m) throw new InvalidArgumentError(`no mail ${n} in ${dir()} (lyncdr lab mail list)`);
    return m;
  };
  const num = (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a mail number (lyncdr lab mail list)');
    return n;
  };

  mail.command('list').description('every mail the sink kept: number, recipients, subject, links').option('--json', 'as JSON')
    .action((o: { json?: boolean }) => {
      const all = readIndex(dir());
      if (o.json) return out(`${JSON.stringify(all, null, 2)}\n`);
      if (!all.length) return out(`no mail in ${dir()}\n`);
      out(all.map((m) => `${String(m.n).padStart(4)}  ${m.to.join(', ').padEnd(26)} ${m.subject}${m.links.length ? `  [${m.links.map((l) => l.decision ?? '?').join(' ')}]` : ''}`).join('\n') + '\n');
    });

  mail.command('open <n>').description('show a mail: its headers, text and links')
    .action((n: string) => {
      const m = find(num(n));
      const parsed = parseMail(readFileSync(path.join(dir(), m.file), 'utf8'));
      out(`From: ${parsed.headers.from ?? m.from}\nTo: ${m.to.join(', ')}\nSubject: ${m.subject}\nMessage-ID: ${m.messageId ?? ''}\nFile: ${path.join(dir(), m.file)}\n\n${parsed.text}\n`);
    });

  mail.command('click <n> <decision>').description('follow a mail\'s link (approve, reject, confirm, retry, skip, abort) as a person: open the page, then press its button')
    .option('--as <user>', 'the identity the browser is signed in as (x-lyncdr-user); without it the link stands for its own identity')
    .option('--comment <text>', 'the comment typed on the page (a rejection needs one)')
    .action(async (n: string, decision: string, o: { as?: string; comment?: string }) => {
      const m = find(num(n));
      const link = m.links.find((l) => l.decision === decision);
      if (!link) throw new InvalidArgumentError(`mail ${m.n} has no ${decision} link (it has: ${m.links.map((l) => l.decision).join(', ') || 'none'})`);
      const r = await clickLink(link.url, { as: o.as ?? env.LYNCDR_USER, comment: o.comment, doFetch: deps.doFetch });
      out(`${r.text}\n`);
      if (r.status !== 200) (deps.setExitCode ?? ((c: number) => { process.exitCode = c; }))(1);
    });
  return mail;
}
