import { describe, expect, it } from 'vitest';
import { boundedOutput } from '../../worker/worker.js';

describe('result outputs fit one queue message', () => {
  it('passes small outputs through and cuts large lists to what fits, with the count', () => {
    expect(boundedOutput([{ a: 1 }])).toEqual([{ a: 1 }]);
    const users = Array.from({ length: 5000 }, (_, i) => ({ SipAddress: `sip:user${i}@contoso.com`, RegistrarPool: 'pool1.contoso.com' }));
    const out = boundedOutput(users) as { truncated: boolean; count: number; items: unknown[] };
    expect(out.truncated).toBe(true);
    expect(out.count).toBe(5000);
    expect(out.items.length).toBeGreaterThan(100);
    expect(JSON.stringify(out).length).toBeLessThanOrEqual(40_000);
    const big = boundedOutput({ blob: 'x'.repeat(100_000) }) as { truncated: boolean; chars: number };
    expect(big).toMatchObject({ truncated: true });
    expect(JSON.stringify(big).length).toBeLessThan(3_000);
  });

  it('cutting a cut list again keeps its original count and the first items, within the smaller budget', () => {
    const users = Array.from({ length: 5000 }, (_, i) => ({ SipAddress: `sip:user${i}@contoso.com`, RegistrarPool: 'pool1.contoso.com' }));
    const once = boundedOutput(users) as { items: unknown[] };
    const twice = boundedOutput(once, 20_000) as { truncated: boolean; count: number; items: unknown[] };
    expect(twice).toMatchObject({ truncated: true, count: 5000 });
    expect(twice.items.length).toBeGreaterThan(100);
    expect(twice.items).toEqual(once.items.slice(0, twice.items.length));
    expect(JSON.stringify(twice).length).toBeLessThanOrEqual(20_000);
  });
});
