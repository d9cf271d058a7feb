// The Durable extension does not complete an orchestration while a timer it created has neither
// fired nor been cancelled (Durable timers doc; extension #1377): the local host must not either,
// or an app that forgets to cancel a deadline passes here and stalls in Azure.
import { describe, expect, it } from 'vitest';
import { hostForFile } from '../support/host.js';

const t = hostForFile();

describe('pending timers hold completion', () => {
  it('an orchestrator that returns with a pending timer stays Running until the timer fires, then completes', async () => {
    const timeoutMs = 2500;
    const id = await t.api.start('raceWithDeadline', { timeoutMs, cancel: false });
    await t.api.waitFor(id, (s) => s.runtimeStatus === 'Running');
    expect(await t.api.raise(id, 'approval', 'alice')).toBe(202);
    // The orchestrator has returned 'approved' (it ran that episode), yet the instance is held.
    await waitUntil(() => t.host.engine.heldByTimers.has(id));
    expect((await t.api.status(id)).runtimeStatus).toBe('Running');
    const done = await t.api.waitFor(id, undefined, 30_000);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toBe('approved');
    // It completed when the deadline passed, not when the orchestrator returned.
    // (createdTime has whole seconds, as the extension writes it; the history keeps the fraction.)
    const events = (await t.api.status(id, '?showHistory=true')).historyEvents as Array<{ EventType: string; Timestamp: string }>;
    const at = (type: string) => Date.parse(events.find((e) => e.EventType === type)!.Timestamp);
    expect(at('ExecutionCompleted')).toBeGreaterThanOrEqual(at('ExecutionStarted') + timeoutMs);
  });

  it('an orchestrator that cancels its timer completes at once', async () => {
    const id = await t.api.start('raceWithDeadline', { timeoutMs: 600_000, cancel: true });
    await t.api.waitFor(id, (s) => s.runtimeStatus === 'Running');
    expect(await t.api.raise(id, 'approval', 'bob')).toBe(202);
    const done = await t.api.waitFor(id, undefined, 10_000);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toBe('approved');
    expect(t.host.engine.heldByTimers.has(id)).toBe(false);
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
