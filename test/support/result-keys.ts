// Per-site result keys for the tests: made once per test process, given to the app as its
// settings and to each site's worker as its own key, as the local stack does.
import { randomBytes } from 'node:crypto';
import { resultKeySetting } from '../../shared/results/signature.js';

const SITES = ['east', 'west', 'dr', 'primary'];
const keys = new Map(SITES.map((s) => [s, randomBytes(32).toString('hex')]));

export function resultKey(site: string): string {
  const k = keys.get(site);
  if (!k) throw new Error(`no test result key for site ${site}: add it to test/support/result-keys.ts`);
  return k;
}

/** The app settings holding every test site's key (LYNCDR_RESULT_KEY_<SITE>). */
export function resultKeySettings(): Record<string, string> {
  return Object.fromEntries(SITES.map((s) => [resultKeySetting(s), resultKey(s)]));
}
