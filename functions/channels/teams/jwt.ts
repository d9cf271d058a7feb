// Authenticates an activity Bot Framework sent us, the way the Bot Framework channel does: a
// bearer JWT signed (RS256) with a key from the OpenID metadata's JWKS, issued by a trusted issuer,
// for our app id, not expired (5 minutes of clock skew, as Bot Framework allows), and carrying the
// serviceUrl of the activity it came with (so a token for one connector cannot steer our replies
// to another), signed with a key the metadata endorses for the activity's channel (each Bot
// Framework key lists the channels it may sign for; a key endorsed for Web Chat only must not
// sign a Teams activity). jose does the JOSE work; the Agents SDK's own middleware is Express-shaped and takes
// its keys from fixed login.botframework.com URLs, which tests cannot point at a loopback key.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { TeamsSettings } from './settings.js';

export type AuthResult = { ok: true; claims: JWTPayload } | { ok: false; why: string };

const Metadata = z.object({ issuer: z.string().optional(), jwks_uri: z.url(), id_token_signing_alg_values_supported: z.array(z.string()).optional() });

interface KeySet { jwks: ReturnType<typeof createRemoteJWKSet>; jwksUri: string; fetchedAt: number }
const Jwks = z.object({ keys: z.array(z.object({ kid: z.string().optional(), endorsements: z.array(z.string()).optional() }).loose()) });
/** kid -> the channels its key is endorsed for, per key set URL; read again for a kid not seen yet. */
const endorsementsByUri = new Map<string, Map<string, string[]>>();

async function endorsementsOf(jwksUri: string, kid: string): Promise<string[]> {
  const known = endorsementsByUri.get(jwksUri)?.get(kid);
  if (known) return known;
  const res = await fetch(jwksUri, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`key set ${jwksUri}: HTTP ${res.status}`);
  const byKid = new Map((Jwks.parse(await res.json()).keys).filter((k) => k.kid).map((k) => [k.kid!, k.endorsements ?? []]));
  endorsementsByUri.set(jwksUri, byKid);
  return byKid.get(kid) ?? [];
}
const keySets = new Map<string, Promise<KeySet>>();
const METADATA_TTL_MS = 24 * 60 * 60 * 1000;

async function keySet(metadataUrl: string): Promise<KeySet> {
  const cached = keySets.get(metadataUrl);
  if (cached) {
    const k = await cached.catch(() => undefined);
    if (k && Date.now() - k.fetchedAt < METADATA_TTL_MS) return k;
  }
  const loading = (async () => {
    const res = await fetch(metadataUrl, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`OpenID metadata ${metadataUrl}: HTTP ${res.status}`);
    const m = Metadata.parse(await res.json());
    // jose refetches the key set when a token names a kid it does not know (at most every 30 s).
    return { jwks: createRemoteJWKSet(new URL(m.jwks_uri), { timeoutDuration: 10_000 }), jwksUri: m.jwks_uri, fetchedAt: Date.now() };
  })();
  keySets.set(metadataUrl, loading);
  loading.catch(() => keySets.delete(metadataUrl));
  return loading;
}

const sameServiceUrl = (a: string, b: string) => a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();

export async function authenticateActivity(authorization: string | null, activityServiceUrl: string | undefined, s: TeamsSettings, activityChannelId?: string): Promise<AuthResult> {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '');
  if (!m) return { ok: false, why: authorization ? 'the Authorization header is not a bearer token' : 'no Authorization header' };
  let claims: JWTPayload;
  let endorsed: string[];
  let kid: string | undefined;
  try {
    const keys = await keySet(s.openIdMetadata);
    const verified = await jwtVerify(m[1], keys.jwks, { issuer: s.issuers, audience: s.appId, algorithms: ['RS256'], clockTolerance: 300, requiredClaims: ['exp'] });
    claims = verified.payload;
    kid = verified.protectedHeader.kid;
    endorsed = kid ? await endorsementsOf(keys.jwksUri, kid) : [];
  } catch (err) {
    return { ok: false, why: `token refused: ${(err as Error).message}` };
  }
  // Bot Framework's rule: the activity's channel must be among the signing key's endorsements.
  if (!activityChannelId || !endorsed.includes(activityChannelId)) {
    return { ok: false, why: `the signing key ${kid ?? '(no kid)'} is not endorsed for channel ${activityChannelId ?? '(none)'} (it is for: ${endorsed.join(', ') || 'none'})` };
  }
  const claimed = (claims.serviceurl ?? claims.serviceUrl) as unknown;
  if (typeof claimed !== 'string') return { ok: false, why: 'the token has no serviceurl claim' };
  if (!activityServiceUrl || !sameServiceUrl(claimed, activityServiceUrl)) return { ok: false, why: `the token is for ${claimed}, the activity for ${activityServiceUrl ?? '(none)'}` };
  return { ok: true, claims };
}
