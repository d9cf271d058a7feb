// The rule every HMAC key of the app follows (e-mailed links, signed decisions, worker results):
// long enough to be a key, and not an unresolved Key Vault reference, which reaches the app as its
// own text (readable in the template) when Azure cannot resolve it.
import { z } from 'zod';

/** Shorter keys are refused: an HMAC key is only as strong as it is long. */
export const MIN_KEY_LENGTH = 32;

const isKeyVaultReference = (v: string) => v.startsWith('@Microsoft.KeyVault(');

/** A setting holding a key; `secret` names its Key Vault secret, for the message. */
export function secretKeySchema(setting: string, secret?: string) {
  return z.string().min(MIN_KEY_LENGTH, `${setting} must be at least ${MIN_KEY_LENGTH} characters`)
    .refine((v) => !isKeyVaultReference(v), `${setting} is an unresolved Key Vault reference (check the secret${secret ? ` ${secret}` : ''} and the app's access to the vault)`);
}

/** True when a value may serve as a key (the same rule, for lists of keys that skip the unusable). */
export const usableKey = (v: string | undefined): v is string => typeof v === 'string' && v.length >= MIN_KEY_LENGTH && !isKeyVaultReference(v);
