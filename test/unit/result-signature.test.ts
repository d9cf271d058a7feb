// The result signature's own rules: which settings hold a site's keys, rotation, and what is never a key.
import { describe, expect, it } from 'vitest';
import type { ResultMessage } from '../../shared/messages.js';
import { resultKeySetting, resultKeysFor, signatureMatches, signResult } from '../../shared/results/signature.js';

const result: ResultMessage = {
  v: 1, commandId: 'run-1:step:1', runId: 'run-1', stepId: 'step', site: 'west-2', workerId: 'w', status: 'succeeded',
  finishedAt: '2026-12-02T03:00:00.000Z', duplicate: false, attempt: 1, output: { b: 1, a: [1, 2] },
};
const oldKey = 'o'.repeat(32);
const newKey = 'n'.repeat(32);

describe('result keys and signatures', () => {
  it('names the setting per site and accepts the previous key during a rotation', () => {
    expect(resultKeySetting('west-2')).toBe('LYNCDR_RESULT_KEY_WEST_2');
    const keys = resultKeysFor('west-2', { LYNCDR_RESULT_KEY_WEST_2: newKey, LYNCDR_RESULT_KEY_WEST_2_PREVIOUS: oldKey });
    expect(signatureMatches(signResult(result, oldKey), keys)).toBe(true);
    expect(signatureMatches(signResult(result, newKey), keys)).toBe(true);
    expect(signatureMatches(signResult(result, oldKey), resultKeysFor('west-2', { LYNCDR_RESULT_KEY_WEST_2: newKey }))).toBe(false);
  });

  it('the order fields were written in does not matter; any change of a field does', () => {
    const signed = signResult(result, newKey);
    const reordered = JSON.parse(JSON.stringify({ ...signed, output: { a: [1, 2], b: 1 } })) as ResultMessage;
    expect(signatureMatches(reordered, [newKey])).toBe(true);
    expect(signatureMatches({ ...signed, attempt: 2 }, [newKey])).toBe(false);
    expect(signatureMatches({ ...signed, output: { a: [2, 1], b: 1 } }, [newKey])).toBe(false);
  });

  it('a short value or an unresolved Key Vault reference is no key', () => {
    const literal = '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/result-key-west)';
    expect(resultKeysFor('west', { LYNCDR_RESULT_KEY_WEST: literal, LYNCDR_RESULT_KEY_WEST_PREVIOUS: 'short' })).toEqual([]);
  });
});
