// Authenticates an activity Bot Framework sent us, the way the Bot Framework channel does: a
// bearer JWT signed (RS256) with a key from the OpenID metadata's JWKS, issued by a trusted issuer,
// for our app id, not expired (5 minutes of clock skew, as Bot Framework allows), and carrying the
// serviceUrl of the activity it came with (so a token for one connector cannot steer our replies
// to another). jose does the JOSE work; the Agents SDK's own middleware is Express-shaped and takes
// its keys from fixed login.botframework.com URLs, which tests cannot point at a loopback key.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { TeamsSettings } from './settings.js';

export type AuthResult = { ok: true; claims: JWTPayload } | { ok: false; why: string };

const Metadata = z.object({ issuer: z.string().optional(), jwks_uri: z.url(), id_token_signing_alg_values_supported: z.array(z.string()).optional() });

interface KeySet { jwks: ReturnType<typeof createRemoteJWKSet>; fetchedAt: number }
const keySets = new Map<string, Promise<KeySet>>();
const METADATA_TTL_MS = 24 * 60 * 60 * 1000;

async function keySet(metadataUrl: string): Promise<KeySet['jwks']> {
  const cached = keySets.get(metadataUrl);
  if (cached) {
    const k = await cached.catch(() => undefined);
    if (k && Date.now() - k.fetchedAt < METADATA_TTL_MS) return k.jwks;
  }
  const loading = (async () => {
    const res = await fetch(metadataUrl, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`OpenID metadata ${metadataUrl}: HTTP ${res.status}`);
    const m = Metadata.parse(await res.json());
    // jose refetches the key set when a token names a kid it does not know (at most every 30 s).
    return { jwks: createRemoteJWKSet(new URL(m.jwks_uri), { timeoutDuration: 10_000 }), fetchedAt: Date.now() };
  })();
  keySets.set(metadataUrl, loading);
  loading.catch(() => keySets.delete(metadataUrl));
  return (await loading).jwks;
}

const sameServiceUrl = (a: string, b: string) => a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();

export async function authenticateActivity(authorization: string | null, activityServiceUrl: string | undefined, s: TeamsSettings): Promise<AuthResult> {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '');
  if (!m) return { ok: false, why: authorization ? 'the Authorization header is not a bearer token' : 'no Authorization header' };
  let claims: JWTPayload;
  try {
    const jwks = await keySet(s.openIdMetadata);
    ({ payload: claims } = await jwtVerify(m[1], jwks, { issuer: s.issuers, audience: s.appId, algorithms: ['RS256'], clockTolerance: 300, requiredClaims: ['exp'] }));
  } catch (err) {
    return { ok: false, why: `token refused: ${(err as Error).message}` };
  }
  const claimed = (claims.serviceurl ?? claims.serviceUrl) as unknown;
  if (typeof claimed !== 'string') return { ok: false, why: 'the token has no serviceurl claim' };
  if (!activityServiceUrl || !sameServiceUrl(claimed, activityServiceUrl)) return { ok: false, why: `the token is for ${claimed}, the activity for ${activityServiceUrl ?? '(none)'}` };
  return { ok: true, claims };
}
