// Signed approval links. A link says who may do what, on which run and step, for which plan, until
// when: `v1.<payload>.<signature>`, the payload base64url JSON, the signature an HMAC-SHA256 over
// the payload's exact text under LYNCDR_LINK_KEY, with a purpose prefix so no other HMAC of this
// key can pass for one. Changing any field breaks the signature. The link id makes it single use
// (functions/channels/email/used-links.ts); the CSRF token of its page is an HMAC of the link id
// under another purpose, so only a page the app rendered for this link can post its decision.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const LINK_DECISIONS = ['approve', 'reject', 'confirm', 'retry', 'skip', 'abort'] as const;
export type LinkDecision = (typeof LINK_DECISIONS)[number];

export const LinkClaims = z.strictObject({
  /** run id */
  r: z.string().min(1).max(80),
  /** the gate's (or the manual / failed step's) id */
  s: z.string().min(1).max(200),
  /** the one identity who may use it */
  u: z.string().min(1).max(256),
  /** the plan hash the approver is shown and approves (gates; empty for operator links) */
  h: z.string().max(200),
  d: z.enum(LINK_DECISIONS),
  /** expiry, seconds since the epoch */
  e: z.number().int().positive(),
  /** link id */
  i: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  /** a failed step's attempt the decision is for (retry / skip / abort) */
  a: z.number().int().positive().optional(),
});
export type LinkClaims = z.infer<typeof LinkClaims>;

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const mac = (key: string, purpose: string, text: string) => createHmac('sha256', key).update(`lyncdr-${purpose}/v1\n${text}`).digest();

export function signLink(key: string, claims: LinkClaims): string {
  const payload = b64(JSON.stringify(LinkClaims.parse(claims)));
  return `v1.${payload}.${b64(mac(key, 'link', payload))}`;
}

export type LinkCheck =
  | { ok: true; claims: LinkClaims }
  | { ok: false; code: 'malformed' | 'bad-signature' | 'expired'; reason: string; claims?: LinkClaims };

/** Checks a link's form, signature and expiry (in that order: nothing unsigned is believed). */
export function verifyLink(key: string, token: string, nowMs: number): LinkCheck {
  const m = /^v1\.([A-Za-z0-9_-]{1,2000})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { ok: false, code: 'malformed', reason: 'this is not a lyncdr link (it may have been cut or changed)' };
  const given = Buffer.from(m[2], 'base64url');
  const expected = mac(key, 'link', m[1]);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, code: 'bad-signature', reason: 'this link was changed or was not issued by lyncdr: its signature does not match' };
  }
  let raw: unknown;
  try { raw = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')); } catch { raw = undefined; }
  const c = LinkClaims.safeParse(raw);
  if (!c.success) return { ok: false, code: 'malformed', reason: 'this link is signed but unreadable' };
  if (c.data.e * 1000 <= nowMs) return { ok: false, code: 'expired', reason: `this link expired at ${new Date(c.data.e * 1000).toISOString()}`, claims: c.data };
  return { ok: true, claims: c.data };
}

/** The same link id for the same link every time, so a mail sent twice carries the same links (used once between them). */
export function linkIdFor(key: string, parts: Array<string | number>): string {
  return b64(mac(key, 'link-id', parts.join('\n'))).slice(0, 24);
}

export function csrfTokenFor(key: string, linkId: string): string {
  return b64(mac(key, 'csrf', linkId));
}

export function csrfOk(key: string, linkId: string, given: string | undefined): boolean {
  const expected = Buffer.from(csrfTokenFor(key, linkId));
  const g = Buffer.from(given ?? '');
  return g.length === expected.length && timingSafeEqual(g, expected);
}
