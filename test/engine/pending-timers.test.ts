// The Durable extension does not complete an orchestration while a timer it created has neither
// fired nor been cancelled (Durable timers doc; extension #1377): the local host must not either,
// or an app that forgets to cancel a deadline passes here and stalls in Azure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHost } from '../../local/host.js';
import { api, startTestHost, type Api } from '../support/host.js';

let host: LocalHost;
let a: Api;

beforeAll(async () => {
  host = await startTestHost();
  a = api(host);
});
afterAll(async () => { await host?.stop(); });

describe('pending timers hold completion', () => {
  it('an orchestrator that returns with a pending timer stays Running until the timer fires, then completes', async () => {
    const timeoutMs = 2500;
    const id = await a.start('raceWithDeadline', { timeoutMs, cancel: false });
    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    expect(await a.raise(id, 'approval', 'alice')).toBe(202);
    // The orchestrator has returned 'approved' (it ran that episode), yet the instance is held.
    await waitUntil(() => host.engine.heldByTimers.has(id));
    expect((await a.status(id)).runtimeStatus).toBe('Running');
    const done = await a.waitFor(id, undefined, 30_000);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toBe('approved');
    // It completed when the deadline passed, not when the orchestrator returned.
    expect(Date.parse(done.lastUpdatedTime)).toBeGreaterThanOrEqual(Date.parse(done.createdTime) + timeoutMs);
  });

  it('an orchestrator that cancels its timer completes at once', async () => {
    const id = await a.start('raceWithDeadline', { timeoutMs: 600_000, cancel: true });
    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    expect(await a.raise(id, 'approval', 'bob')).toBe(202);
    const done = await a.waitFor(id, undefined, 10_000);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toBe('approved');
    expect(host.engine.heldByTimers.has(id)).toBe(false);
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
