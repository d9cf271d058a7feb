import { describe, expect, it } from 'vitest';
import { ResultMessage } from '../../shared/messages.js';
import { boundedOutput, fitToMessage, MAX_RESULT_BYTES } from '../../worker/message-size.js';

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

  it('counts UTF-8 bytes: a list of accented names is cut to the byte budget, not the character count', () => {
    const users = Array.from({ length: 3000 }, (_, i) => ({ DisplayName: `Zoë Ångström-Núñez ${i}`, SipAddress: `sip:zoe${i}@contoso.com` }));
    const out = boundedOutput(users, 20_000) as { count: number; items: unknown[] };
    expect(out.count).toBe(3000);
    expect(Buffer.byteLength(JSON.stringify(out), 'utf8')).toBeLessThanOrEqual(20_000);
  });

  it('fitToMessage keeps a whole result, texts and a check included, inside one storage-queue message', () => {
    const users = Array.from({ length: 5000 }, (_, i) => ({ DisplayName: `Zoë Ångström-Núñez ${i}`, RegistrarPool: 'eepool1.contoso.com' }));
    const result: ResultMessage = {
      v: 1, commandId: 'run-1:list:1', runId: 'run-1', stepId: 'list', site: 'east', workerId: 'east-1', status: 'succeeded',
      output: boundedOutput(users), stderr: 'WARNING: é'.repeat(2_000), rendered: "Get-CsUser -Filter 'RegistrarPool -eq \"eepool1.contoso.com\"'",
      finishedAt: '2026-11-22T00:00:00.000Z', duplicate: false,
      verification: { status: 'failed', stderr: 'x'.repeat(2_000), output: { preview: 'ü'.repeat(9_000) }, error: { kind: 'execution', message: 'failed' }, startedAt: '2026-11-22T00:00:00.000Z', finishedAt: '2026-11-22T00:00:01.000Z' },
    };
    const fitted = fitToMessage(result);
    const json = JSON.stringify(fitted);
    expect(Buffer.byteLength(json, 'utf8')).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(Buffer.from(json, 'utf8').toString('base64').length).toBeLessThan(64 * 1024);
    expect(fitted.output).toMatchObject({ truncated: true, count: 5000 });
    expect((fitted.output as { items: unknown[] }).items.length).toBeGreaterThan(100);
    expect(Buffer.byteLength(fitted.stderr!, 'utf8')).toBeLessThanOrEqual(2_000);
    expect(fitted.stderr!.length).toBeGreaterThan(1_500);
    expect(() => ResultMessage.parse(fitted)).not.toThrow();
    // A result that fits is left alone.
    const small = { ...result, output: [1, 2, 3], stderr: '', verification: undefined };
    expect(fitToMessage(small)).toBe(small);
  });

  it('fitToMessage caps every text in bytes: long non-ASCII error messages and check texts cannot push it over', () => {
    const cjk = '障害復旧手順'.repeat(2_000); // 3 bytes a character
    const result: ResultMessage = {
      v: 1, commandId: 'run-1:x:1', runId: 'run-1', stepId: 'x', site: 'east', workerId: 'east-1', status: 'failed',
      output: boundedOutput(Array.from({ length: 3000 }, (_, i) => ({ Name: `${cjk.slice(0, 20)}${i}` }))),
      stderr: cjk, rendered: cjk, error: { kind: 'execution', message: cjk.slice(0, 8_000) }, finishedAt: '2026-11-22T00:00:00.000Z', duplicate: false,
      verification: { status: 'failed', stderr: cjk, rendered: cjk, error: { kind: 'execution', message: cjk.slice(0, 8_000) }, startedAt: '2026-11-22T00:00:00.000Z', finishedAt: '2026-11-22T00:00:01.000Z' },
    };
    const fitted = fitToMessage(result);
    expect(Buffer.byteLength(JSON.stringify(fitted), 'utf8')).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(fitted.error!.message.startsWith('障害復旧手順')).toBe(true);
    expect(() => ResultMessage.parse(fitted)).not.toThrow();
  });
});
