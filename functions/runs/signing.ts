// Signed decisions and signed run inputs. Anyone who can raise Durable events or start
// orchestrations (the management API, a storage key) could otherwise vote, confirm, decide or
// cancel as anybody, or start a run with a policy of their own. The API layer (every channel goes
// through functions/runs/) signs what it raises with LYNCDR_DECISION_KEY; the orchestrators count
// only what the verify activities (functions/activities/trust.ts) find signed. HMAC-SHA256 over the
// canonical JSON of the event and what it is for (run, gate or step, kind), with a purpose prefix
// so no other HMAC of this key (none should exist) can pass for one.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { secretKeySchema } from '../../shared/config/secret-key.js';
import { canonicalStringify } from '../../shared/audit/canonical.js';
import { ConfigError } from '../../shared/config/index.js';

const KeySchema = secretKeySchema('LYNCDR_DECISION_KEY', 'decision-key');

/** The key, or a ConfigError saying what is wrong with the setting. */
export function decisionKey(env: NodeJS.ProcessEnv = process.env): string {
  const v = env.LYNCDR_DECISION_KEY;
  if (!v) throw new ConfigError('LYNCDR_DECISION_KEY is not set: the API cannot sign decisions or runs (README, Security)');
  const r = KeySchema.safeParse(v);
  if (!r.success) throw new ConfigError(r.error.issues[0].message);
  return r.data;
}

/** What a signature is bound to besides the event's own fields. */
export interface SignedFor { kind: 'vote' | 'confirm' | 'decision' | 'cancel' | 'pause' | 'resume' | 'run'; runId: string; target: string }

const mac = (key: string, what: SignedFor, body: Record<string, unknown>) =>
  createHmac('sha256', key).update(`lyncdr-decision/v1\n${canonicalStringify({ ...what, body })}`).digest('base64url');

/** `body` with `sig` added: the signature covers every other field. */
export function seal<T extends object>(key: string, what: SignedFor, body: T): T & { sig: string } {
  return { ...body, sig: mac(key, what, body as Record<string, unknown>) };
}

/**
 * A decision event with `signedAt`, a single-use id (`nonce`) and `sig` added. Runs of executor
 * version 8 take each nonce once and only events signed within the freshness window, so an event
 * captured on its way (from history, a log) and raised again does not count twice.
 */
export function sign<T extends Record<string, unknown>>(key: string, what: SignedFor, body: T, now = new Date()): T & { signedAt: string; nonce: string; sig: string } {
  return seal(key, what, { ...body, signedAt: now.toISOString(), nonce: randomUUID() });
}

/** Why a signed event is too old (or too far ahead) to count, or undefined when it is fresh. */
export function staleRefusal(event: Record<string, unknown>, now: Date, maxAgeMinutes: number): string | undefined {
  if (typeof event.nonce !== 'string' || event.nonce === '') return 'the event has no single-use id (nonce): it was not signed by this version of the API';
  const at = typeof event.signedAt === 'string' ? Date.parse(event.signedAt) : NaN;
  if (Number.isNaN(at)) return 'the event has no signing time';
  const ageMinutes = (now.getTime() - at) / 60_000;
  if (Math.abs(ageMinutes) <= maxAgeMinutes) return undefined;
  return `the event was signed at ${new Date(at).toISOString()}, more than ${maxAgeMinutes} minutes from ${now.toISOString()} (LYNCDR_DECISION_MAX_AGE_MINUTES): it is stale`;
}

/** Why an event is not believed, or undefined when it is signed by this key for `what`. */
export function signatureRefusal(key: string, what: SignedFor, event: unknown): string | undefined {
  if (!event || typeof event !== 'object' || Array.isArray(event)) return 'the event is not an object';
  const { sig, ...body } = event as Record<string, unknown>;
  if (typeof sig !== 'string' || sig === '') return 'the event is not signed: it did not come through the lyncdr API';
  let expected: Buffer;
  try {
    expected = Buffer.from(mac(key, what, body), 'base64url');
  } catch {
    return 'the event is not JSON data that can be signed';
  }
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return `the event's signature does not match (not signed by this app for ${what.kind} on ${what.target})`;
  return undefined;
}
