// The e-mail channel's settings, from the app settings (the environment), parsed when the channel
// is used: SMTP (any server; Azure Communication Services' SMTP relay is one), who the mail is
// from, where identities receive mail, and the signed links' key, base URL and tables.
import { z } from 'zod';
import { IdentitySchema } from '../../../shared/approvals/schema.js';
import { directoryOf, resolveConfigured } from '../../../shared/identity/index.js';
import { jsonText } from '../../../shared/config/index.js';
import { secretKeySchema } from '../../../shared/config/secret-key.js';

const TableName = z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'table name: 3-63 letters and digits, starting with a letter');
const Bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** What the link pages need (the HTTP side), without SMTP. */
export const LinkSettingsSchema = z.object({
  // 32 characters at least: the key is what makes a link unforgeable (Key Vault reference in Azure).
  LYNCDR_LINK_KEY: secretKeySchema('LYNCDR_LINK_KEY'),
  /** How long an operator's link (confirm, retry / skip / abort) lives, and the longest a gate's may. */
  LYNCDR_LINK_TIMEOUT_MINUTES: z.coerce.number().positive().default(24 * 60),
  /** One row per used link id: the insert that fails with 409 is what makes a link single use. */
  LYNCDR_LINKS_TABLE: TableName.default('LyncdrLinks'),
});

export const EmailSettingsSchema = LinkSettingsSchema.extend({
  LYNCDR_SMTP_HOST: z.string().min(1, 'LYNCDR_SMTP_HOST is required for the email channel'),
  LYNCDR_SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587),
  /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it (587). */
  LYNCDR_SMTP_SECURE: Bool.default(false),
  LYNCDR_SMTP_USER: z.string().min(1).optional(),
  LYNCDR_SMTP_PASSWORD: z.string().min(1).optional(),
  LYNCDR_MAIL_FROM: z.string().min(3, 'LYNCDR_MAIL_FROM is required for the email channel'),
  /** identity -> address; an identity that is an address (a UPN) needs no entry. */
  LYNCDR_EMAIL_ADDRESSES: jsonText(z.record(IdentitySchema, z.email())).default({}),
  /** The app's public base URL, which the links in the mail point at (https://<app>.azurewebsites.net). */
  LYNCDR_PUBLIC_URL: z.url(),
  /** One row per notification key and recipient sent: a retried or replayed notify sends nothing twice. */
  LYNCDR_NOTIFICATIONS_TABLE: TableName.default('LyncdrNotifications'),
});

export interface LinkSettings { key: string; timeoutMinutes: number; linksTable: string }
export interface EmailSettings extends LinkSettings {
  smtp: { host: string; port: number; secure: boolean; user?: string; password?: string };
  from: string;
  addresses: Record<string, string>;
  publicUrl: string;
  /**
   * Links go through App Service's sign-in first (LYNCDR_IDENTITY=easy-auth). The app requires
   * authentication on every path (Return401, which API clients need), so a signed-out browser
   * opening /api/links/… directly would get a bare 401. /.auth/login/aad is always reachable and
   * sends the browser back to the link once signed in (silently, with a session already).
   */
  signInFirst: boolean;
  notificationsTable: string;
}

const nonBlank = (env: NodeJS.ProcessEnv) => Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
const problems = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');

/**
 * The addresses keyed as the app compares identities (object ids in easy-auth mode): a configured
 * name resolves through LYNCDR_DIRECTORY, and a directory UPN that is an address is that person's
 * address unless LYNCDR_EMAIL_ADDRESSES says otherwise.
 */
function addressesByIdentity(configured: Record<string, string>, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [upn, oid] of directoryOf(env)) if (z.email().safeParse(upn).success) out[oid] = upn;
  for (const [who, address] of Object.entries(configured)) out[resolveConfigured(who, env)] = address;
  return out;
}

export function linkSettings(env: NodeJS.ProcessEnv = process.env): LinkSettings {
  const r = LinkSettingsSchema.safeParse(nonBlank(env));
  if (!r.success) throw new Error(`e-mailed links are not configured: ${problems(r.error)}`);
  return { key: r.data.LYNCDR_LINK_KEY, timeoutMinutes: r.data.LYNCDR_LINK_TIMEOUT_MINUTES, linksTable: r.data.LYNCDR_LINKS_TABLE };
}

export function emailSettings(env: NodeJS.ProcessEnv = process.env): EmailSettings {
  const r = EmailSettingsSchema.safeParse(nonBlank(env));
  if (!r.success) throw new Error(`the email channel is not configured: ${problems(r.error)}`);
  const s = r.data;
  if (!!s.LYNCDR_SMTP_USER !== !!s.LYNCDR_SMTP_PASSWORD) throw new Error('the email channel is not configured: set both LYNCDR_SMTP_USER and LYNCDR_SMTP_PASSWORD, or neither');
  return {
    key: s.LYNCDR_LINK_KEY, timeoutMinutes: s.LYNCDR_LINK_TIMEOUT_MINUTES, linksTable: s.LYNCDR_LINKS_TABLE,
    smtp: { host: s.LYNCDR_SMTP_HOST, port: s.LYNCDR_SMTP_PORT, secure: s.LYNCDR_SMTP_SECURE, user: s.LYNCDR_SMTP_USER, password: s.LYNCDR_SMTP_PASSWORD },
    from: s.LYNCDR_MAIL_FROM, addresses: addressesByIdentity(s.LYNCDR_EMAIL_ADDRESSES, env), publicUrl: s.LYNCDR_PUBLIC_URL.replace(/\/+$/, ''),
    signInFirst: env.LYNCDR_IDENTITY === 'easy-auth',
    notificationsTable: s.LYNCDR_NOTIFICATIONS_TABLE,
  };
}
