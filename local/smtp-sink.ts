// The local SMTP peer of the e-mail channel: smtp-server on 127.0.0.1 that keeps every message it
// is given under <dir> (<n>.eml, the raw message) and lists them in <dir>/index.jsonl (to,
// subject, the links found), for `lyncdr lab mail` and the tests. No TLS and no authentication:
// it listens on loopback only and delivers nowhere.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { linksOf, parseMail, type FoundLink } from './mail-parse.js';

export interface SinkMessage {
  n: number;
  file: string;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  messageId?: string;
  run?: string;
  key?: string;
  links: FoundLink[];
}

export interface SmtpSink {
  port: number;
  dir: string;
  messages(): SinkMessage[];
  stop(): Promise<void>;
}

export const indexFile = (dir: string) => path.join(dir, 'index.jsonl');

/** The messages a sink folder holds (also read by the CLI, from another process). */
export function readIndex(dir: string): SinkMessage[] {
  const f = indexFile(dir);
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as SinkMessage);
}

export async function startSmtpSink(opts: {
  dir: string; port?: number; log?: (m: string) => void;
  /** Called with each message once it is kept, before the sender is told it was accepted (tests: a crash there). */
  onMessage?: (m: SinkMessage) => Promise<void> | void;
}): Promise<SmtpSink> {
  mkdirSync(opts.dir, { recursive: true });
  let next = readIndex(opts.dir).reduce((m, x) => Math.max(m, x.n), 0) + 1;
  const server = new SMTPServer({
    secure: false, disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true, disableReverseLookup: true, banner: 'lyncdr local mail sink',
    size: 10 * 1024 * 1024, logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('end', async () => {
        try {
          const raw = Buffer.concat(chunks);
          const mail = parseMail(raw.toString('utf8'));
          const n = next++;
          const file = `${String(n).padStart(4, '0')}.eml`;
          writeFileSync(path.join(opts.dir, file), raw);
          const entry: SinkMessage = {
            n, file, receivedAt: new Date().toISOString(), from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address), subject: mail.subject, messageId: mail.headers['message-id'],
            run: mail.headers['x-lyncdr-run'], key: mail.headers['x-lyncdr-key'], links: linksOf(mail.text),
          };
          // One JSON line per message, appended: the index never holds a half-written entry.
          appendFileSync(indexFile(opts.dir), `${JSON.stringify(entry)}\n`);
          opts.log?.(`mail ${n} to ${entry.to.join(', ')}: ${entry.subject}`);
          await opts.onMessage?.(entry);
          callback();
        } catch (err) {
          callback(err as Error);
        }
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const addr = (server as unknown as { server: { address(): { port: number } } }).server.address();
      resolve(addr.port);
    });
  });
  return {
    port, dir: opts.dir,
    messages: () => readIndex(opts.dir),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
