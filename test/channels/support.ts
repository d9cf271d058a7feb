// The runs environment (test/runs/support.ts) with the e-mail channel on: the real local SMTP
// sink (local/smtp-sink.ts) as the SMTP peer, links signed with a test key and pointing at the
// test host, and helpers to wait for mails and to mint links the app never sent (for tampering
// and refusal tests).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { linkIdFor, signLink, type LinkClaims } from '../../functions/channels/email/links.js';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../../local/smtp-sink.js';
import { uniqueName } from '../support/azurite.js';
import { ROOT } from '../support/host.js';
import { startRunsEnv, type RunsEnv } from '../runs/support.js';

export const EMAIL_APP = path.join(ROOT, 'test/channels/app.ts');
export const LINK_KEY = 'test-link-key-0123456789abcdef-0123456789';
export const IDENTITIES = ['operator1', 'operator2', 'alice', 'bob', 'carol', 'dave'];

export function emailSettings(sinkPort: number, publicUrl = 'http://127.0.0.1:1'): Record<string, string> {
  return {
    LYNCDR_CHANNELS: 'email',
    LYNCDR_SMTP_HOST: '127.0.0.1',
    LYNCDR_SMTP_PORT: String(sinkPort),
    LYNCDR_SMTP_SECURE: 'false',
    LYNCDR_MAIL_FROM: 'lyncdr <lyncdr@example.test>',
    LYNCDR_LINK_KEY: LINK_KEY,
    LYNCDR_PUBLIC_URL: publicUrl,
    LYNCDR_OPERATORS: JSON.stringify(['operator1', 'operator2']),
    LYNCDR_EMAIL_ADDRESSES: JSON.stringify(Object.fromEntries(IDENTITIES.map((id) => [id, `${id}@example.test`]))),
    LYNCDR_NOTIFICATIONS_TABLE: uniqueName('Notif'),
    LYNCDR_LINKS_TABLE: uniqueName('Links'),
  };
}

export interface EmailEnv { env: RunsEnv; sink: SmtpSink; stop(): Promise<void> }

export async function startEmailEnv(): Promise<EmailEnv> {
  const sink = await startSmtpSink({ dir: mkdtempSync(path.join(os.tmpdir(), 'lyncdr-mail-')) });
  const env = await startRunsEnv({ settings: emailSettings(sink.port), app: EMAIL_APP });
  // The links point at this host, whose port is known only now; the sender reads its settings on first use.
  process.env.LYNCDR_PUBLIC_URL = env.host.url;
  return { env, sink, async stop() { await env.stop(); await sink.stop(); rmSync(sink.dir, { recursive: true, force: true }); } };
}

/** Waits (polling the sink's index) until `predicate` holds for the mails; returns them. */
export async function waitForMail(sink: SmtpSink, predicate: (all: SinkMessage[]) => boolean, timeoutMs = 30_000): Promise<SinkMessage[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = sink.messages();
    if (predicate(all)) return all;
    if (Date.now() > deadline) throw new Error(`the mails expected did not arrive in ${timeoutMs} ms; the sink has: ${JSON.stringify(all.map((m) => [m.n, m.to, m.subject, m.key]))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const mailsFor = (all: SinkMessage[], run: string, kind: RegExp, to?: string) =>
  all.filter((m) => m.run === run && kind.test(m.key ?? '') && (!to || m.to.includes(`${to}@example.test`)));

export const linkOf = (m: SinkMessage, decision: string): string => {
  const l = m.links.find((x) => x.decision === decision);
  if (!l) throw new Error(`mail ${m.n} has no ${decision} link: ${JSON.stringify(m.links)}`);
  return l.url;
};

/** A link signed with the app's key but made here: what the app would send to `who`. */
export function mintLink(base: string, claims: Partial<LinkClaims> & Pick<LinkClaims, 'r' | 's' | 'u' | 'd'>): string {
  const full: LinkClaims = { h: '', e: Math.floor(Date.now() / 1000) + 3600, i: linkIdFor(LINK_KEY, [claims.r, claims.s, claims.u, claims.d, Math.random()]), ...claims };
  return `${base}/api/links/${signLink(LINK_KEY, full)}`;
}

/** The claims of a link (readable without the key). */
export function claimsOf(url: string): LinkClaims {
  const token = url.split('/api/links/')[1];
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as LinkClaims;
}

/** The same link with its payload changed and its signature kept: what a tamperer can make. */
export function tampered(url: string, change: Partial<LinkClaims>): string {
  const [base, token] = url.split('/api/links/');
  const [v, , sig] = token.split('.');
  const payload = Buffer.from(JSON.stringify({ ...claimsOf(url), ...change })).toString('base64url');
  return `${base}/api/links/${v}.${payload}.${sig}`;
}
