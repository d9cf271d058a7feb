// The e-mail channel's sender (ChannelSender): who gets which notification, with which signed
// links, sent over SMTP with nodemailer, each (notification key, recipient) once.
//
// Delivery is AT LEAST ONCE around a crash: the sender checks its log, sends, then records. A
// crash (or a lost connection to Table Storage) after the SMTP server took the message but
// before the row was written sends it again on the activity's retry or the orchestration's
// replay. The other order (record, then send) would lose the mail instead, and a lost approval
// request stalls a failover until its gate times out, while a duplicate costs a second mail that
// the receiver can drop: both copies carry the same Message-ID (derived from run, key and
// recipient) and the same links (link ids are derived, not random), and a link works once, so a
// duplicate can never count twice.
import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { appSettings } from '../../../shared/config/index.js';
import type { ChannelSender, Notification } from '../../../shared/runs/notifications.js';
import { notificationKey } from '../../../shared/runs/notifications.js';
import { storageConnectionString } from '../../../shared/storage/connection.js';
import { linkIdFor, signLink, type LinkClaims, type LinkDecision } from './links.js';
import { renderMail, type MailLink } from './render.js';
import { SentLog } from './sent-log.js';
import { emailSettings, type EmailSettings } from './settings.js';

type Sendable = Notification & { auditVerified?: boolean };

/** One message to one person. */
export interface PlannedMail { recipient: string; key: string; links: MailLink[] }

export interface EmailSenderOptions {
  env?: NodeJS.ProcessEnv;
  /** Tests: where a skipped recipient (no address) is reported. */
  log?: (line: string) => void;
}

const LABELS: Record<LinkDecision, string> = { approve: 'Approve', reject: 'Reject', confirm: 'Confirm done', retry: 'Retry', skip: 'Skip', abort: 'Abort the run' };

/** An identity's address: LYNCDR_EMAIL_ADDRESSES, else the identity itself when it is one (a UPN). */
/** Where a mailed link points: the link page, through App Service's sign-in when the app requires it. */
export function linkUrl(s: Pick<EmailSettings, 'publicUrl' | 'signInFirst'>, token: string): string {
  const page = `/api/links/${token}`;
  return s.signInFirst ? `${s.publicUrl}/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(page)}` : `${s.publicUrl}${page}`;
}

export function addressOf(identity: string, addresses: Record<string, string>): string | undefined {
  const mapped = addresses[identity.toLowerCase()];
  if (mapped) return mapped;
  return /^[^\s@<>()",;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(identity) ? identity : undefined;
}

export const messageIdFor = (runId: string, key: string, recipient: string, from: string): string =>
  `<lyncdr.${createHash('sha256').update(`${runId}\n${key}\n${recipient}`).digest('hex').slice(0, 40)}@${/@([A-Za-z0-9.-]+)/.exec(from)?.[1] ?? 'lyncdr.invalid'}>`;

export function createEmailSender(o: EmailSenderOptions = {}): ChannelSender & { plan(n: Sendable): Promise<PlannedMail[]> } {
  const env = o.env ?? process.env;
  const log = o.log ?? ((line: string) => console.warn(`[email] ${line}`));
  let state: { s: EmailSettings; transport: Transporter; sent: SentLog } | undefined;
  // Settings are read on first use: a host whose LYNCDR_CHANNELS does not name email needs none.
  const ready = () => {
    if (state) return state;
    const s = emailSettings(env);
    const transport = nodemailer.createTransport({
      host: s.smtp.host, port: s.smtp.port, secure: s.smtp.secure,
      ...(s.smtp.user ? { auth: { user: s.smtp.user, pass: s.smtp.password! } } : {}),
      // Fail fast: the notify activity is retried by the orchestrator, which is the better place to wait.
      connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000,
    });
    state = { s, transport, sent: new SentLog(storageConnectionString(env), s.notificationsTable) };
    return state;
  };

  const link = (s: EmailSettings, n: Sendable, recipient: string, decision: LinkDecision, stepId: string, extra: { h?: string; a?: number; deadline?: string; version: string }): MailLink => {
    // A gate's link lives until the gate's deadline, and never longer than the configured timeout.
    const base = Date.parse(n.at) + s.timeoutMinutes * 60_000;
    const until = extra.deadline ? Math.min(Date.parse(extra.deadline), base) : base;
    const claims: LinkClaims = {
      r: n.runId, s: stepId, u: recipient, h: extra.h ?? '', d: decision, e: Math.floor(until / 1000),
      i: linkIdFor(s.key, [n.runId, stepId, recipient, decision, extra.version]), ...(extra.a ? { a: extra.a } : {}),
    };
    return { label: LABELS[decision], decision, url: linkUrl(s, signLink(s.key, claims)) };
  };

  /** Who gets what for a notification (and under which key each is sent once). */
  async function plan(n: Sendable): Promise<PlannedMail[]> {
    const { s, sent } = ready();
    const operators = appSettings(env).operators ?? [];
    switch (n.kind) {
      case 'gate': {
        // A sent mail cannot be updated as a Teams card is, so e-mail invites: each approver who
        // may vote and has not is mailed once per phase (the primary group when the gate opens;
        // on escalation, everyone eligible who has not voted yet, with links until the new
        // deadline). Votes and the decision mail nobody; the run's end does.
        const g = n.gate;
        if (g.status !== 'pending') return [];
        const voted = new Set(g.votes.filter((v) => v.outcome === 'accepted').map((v) => v.approver));
        const key = `gate:${g.stepId}:invite:${g.phase}`;
        return g.eligible.filter((id) => id !== g.requester && !voted.has(id)).map((recipient) => ({
          recipient, key,
          links: (['approve', 'reject'] as const).map((d) => link(s, n, recipient, d, g.stepId, { h: g.planHash, deadline: g.deadline, version: g.phase })),
        }));
      }
      case 'manual-waiting':
        return operators.map((recipient) => ({ recipient, key: notificationKey(n), links: [link(s, n, recipient, 'confirm', n.stepId, { version: 'confirm' })] }));
      case 'decision-needed':
        return operators.map((recipient) => ({
          recipient, key: notificationKey(n),
          links: (['retry', 'skip', 'abort'] as const).map((d) => link(s, n, recipient, d, n.stepId, { a: n.attempt, version: `attempt:${n.attempt}` })),
        }));
      case 'run-ended': {
        // The operators and everyone this run asked for an approval.
        const approvers = (await sent.rows(n.runId)).filter((r) => r.kind === 'gate').map((r) => r.recipient);
        return [...new Set([...operators, ...approvers])].map((recipient) => ({ recipient, key: notificationKey(n), links: [] }));
      }
    }
  }

  return {
    name: 'email',
    plan,
    async send(n: Sendable): Promise<void> {
      const { s, transport, sent } = ready();
      for (const m of await plan(n)) {
        if (await sent.wasSent(n.runId, m.key, m.recipient)) continue;
        const to = addressOf(m.recipient, s.addresses);
        if (!to) { log(`${m.recipient} has no e-mail address (LYNCDR_EMAIL_ADDRESSES): ${m.key} of run ${n.runId} not mailed to them`); continue; }
        const mail = renderMail(n, m.links);
        const messageId = messageIdFor(n.runId, m.key, m.recipient, s.from);
        await transport.sendMail({
          from: s.from, to, subject: mail.subject, text: mail.text, html: mail.html, messageId,
          headers: { 'Auto-Submitted': 'auto-generated', 'X-Lyncdr-Run': n.runId, 'X-Lyncdr-Key': m.key },
        });
        await sent.record(n.runId, { key: m.key, recipient: m.recipient, address: to, messageId, sentAt: new Date().toISOString(), kind: n.kind });
      }
    },
  };
}
