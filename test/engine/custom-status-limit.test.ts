// The Durable extension limits custom status to 16 KB of UTF-16 JSON text and fails the
// orchestration above it (the custom status doc: floor(bytes / 1024) > 16 throws). The local host
// must refuse the same sizes, or an app that publishes too much passes here and fails in Azure.
import { describe, expect, it } from 'vitest';
import { customStatusTooLarge } from '../../local/engine/replay.js';
import { hostForFile } from '../support/host.js';

const t = hostForFile();

describe('custom status limit', () => {
  it('the check is the extension\'s: 8,703 characters of JSON fit, 8,704 do not', () => {
    expect(customStatusTooLarge('x'.repeat(8701))).toBeUndefined(); // 8,703 with the quotes: 17,406 bytes, 16 KB
    expect(customStatusTooLarge('x'.repeat(8702))).toMatch(/must not exceed 16 KB\. The current payload size is 17 KB/);
  });

  it('a status at the limit is published', async () => {
    const id = await t.api.start('sizedStatus', { chars: 8703 });
    const s = await t.api.waitFor(id, (x) => typeof x.customStatus === 'string');
    expect(s.runtimeStatus).toBe('Running');
    expect(JSON.stringify(s.customStatus).length).toBe(8703);
  });

  it('a status one character over the limit fails the orchestration with the extension\'s message', async () => {
    const id = await t.api.start('sizedStatus', { chars: 8704 });
    const s = await t.api.waitFor(id);
    expect(s.runtimeStatus).toBe('Failed');
    expect(String(s.output)).toMatch(/The UTF-16 size of the JSON-serialized payload must not exceed 16 KB\. The current payload size is 17 KB\./);
    expect(s.customStatus).toBeNull();
  });
});
