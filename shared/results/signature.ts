// A worker's result is trusted only when it is signed with the key of the site it claims, so a
// result that merely names a site (or comes from another site's worker) cannot finish a step.
// The signature is an HMAC-SHA256 over the result's canonical JSON (every field but `signature`),
// the same bytes on both sides whatever order the fields were written in.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalStringify } from '../audit/canonical.js';
import { usableKey } from '../config/secret-key.js';
import type { ResultMessage, SiteName } from '../messages.js';

export { MIN_KEY_LENGTH as MIN_RESULT_KEY_LENGTH } from '../config/secret-key.js';

/** The app setting holding a site's key: LYNCDR_RESULT_KEY_<SITE> (hyphens become underscores). */
export function resultKeySetting(site: SiteName): string {
  return `LYNCDR_RESULT_KEY_${site.toUpperCase().replace(/-/g, '_')}`;
}

function mac(result: Omit<ResultMessage, 'signature'>, key: string): Buffer {
  // Through JSON first: what is verified is what travelled (undefined fields dropped).
  const { signature: _ignored, ...fields } = JSON.parse(JSON.stringify(result)) as ResultMessage;
  return createHmac('sha256', key).update(canonicalStringify(fields)).digest();
}

export function signResult(result: ResultMessage, key: string): ResultMessage {
  return { ...result, signature: `hmac-sha256:${mac(result, key).toString('base64url')}` };
}

/** True when `signature` verifies under one of `keys` (the current key and, during a rotation, the previous one). */
export function signatureMatches(result: ResultMessage, keys: readonly string[]): boolean {
  const m = /^hmac-sha256:([A-Za-z0-9_-]{43})$/.exec(result.signature ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1], 'base64url');
  return keys.some((key) => timingSafeEqual(mac(result, key), given));
}

/**
 * The keys the app accepts for a site's results: LYNCDR_RESULT_KEY_<SITE>, and while a key is
 * being rotated, LYNCDR_RESULT_KEY_<SITE>_PREVIOUS. Too-short values and unresolved Key Vault references are left out (and reported
 * by the caller as a missing key, naming the setting).
 */
export function resultKeysFor(site: SiteName, env: NodeJS.ProcessEnv = process.env): string[] {
  const name = resultKeySetting(site);
  return [env[name], env[`${name}_PREVIOUS`]].filter(usableKey);
}
