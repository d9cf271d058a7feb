import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHost } from '../../local/host.js';
import { api, startTestHost, type Api } from '../support/host.js';

const codeVersion = ((globalThis as { lyncdrCodeVersion?: { current: number } }).lyncdrCodeVersion ??= { current: 1 });

let host: LocalHost;
let a: Api;

beforeAll(async () => {
  host = await startTestHost();
  a = api(host);
});
afterAll(async () => { await host?.stop(); });

describe('durable engine conformance', () => {
  it('chains activities in order', async () => {
    const id = await a.start('chain');
    const s = await a.waitFor(id);
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toEqual(['step-0', 'step-1', 'step-2', 'step-3', 'step-4']);
  });

  it('fans out 100 activities and fans in their results', async () => {
    const id = await a.start('fanout', 100);
    const s = await a.waitFor(id);
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toBe((99 * 100) / 2);
  });

  it('approval race: the event wins before the timer', async () => {
    const id = await a.start('approvalRace', { timeoutMs: 60_000 });
    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    expect(await a.raise(id, 'approval', { approver: 'alice' })).toBe(202);
    const s = await a.waitFor(id);
    expect(s.output).toEqual({ outcome: 'approved', by: { approver: 'alice' } });
  });

  it('approval race: the timer wins when nobody answers', async () => {
    const id = await a.start('approvalRace', { timeoutMs: 300 });
    const s = await a.waitFor(id);
    expect(s.output).toEqual({ outcome: 'timeout' });
    // An answer after the end is refused: the instance is gone for events.
    expect(await a.raise(id, 'approval', { approver: 'late' })).toBe(410);
  });

  it('retries a failing activity, then succeeds', async () => {
    const id = await a.start('retrying', { key: `k-${Date.now()}`, failTimes: 2, maxAttempts: 4 });
    const s = await a.waitFor(id);
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toEqual({ attempts: 3 });
    const h = await a.status(id, '?showHistory=true');
    const failed = h.historyEvents.filter((e: any) => e.EventType === 'TaskFailed');
    const timers = h.historyEvents.filter((e: any) => e.EventType === 'TimerFired');
    expect(failed).toHaveLength(2);
    expect(timers).toHaveLength(2);
  });

  it('fails the instance when retries are exhausted, with the activity error', async () => {
    const id = await a.start('retrying', { key: `x-${Date.now()}`, failTimes: 10, maxAttempts: 3 });
    const s = await a.waitFor(id);
    expect(s.runtimeStatus).toBe('Failed');
    expect(String(s.output)).toContain('flaky attempt 3 failed');
    const h = await a.status(id, '?showHistory=true');
    expect(h.historyEvents.filter((e: any) => e.EventType === 'TaskFailed')).toHaveLength(3);
  });

  it('runs sub-orchestrations, including one with retry', async () => {
    const id = await a.start('parent', { value: 5, key: `sub-${Date.now()}`, failTimes: 1 });
    const s = await a.waitFor(id);
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toEqual({ a: 10, b: 12 });
    const h = await a.status(id, '?showHistory=true');
    expect(h.historyEvents.filter((e: any) => e.EventType === 'SubOrchestrationInstanceFailed')).toHaveLength(1);
    expect(h.historyEvents.filter((e: any) => e.EventType === 'SubOrchestrationInstanceCompleted')).toHaveLength(2);
  });

  it('keeps an event raised before the orchestrator waits for it', async () => {
    const id = await a.start('eventBeforeWait');
    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    expect(await a.raise(id, 'go', 'early')).toBe(202);
    const s = await a.waitFor(id);
    expect(s.output).toBe('early');
  });

  it('continues as new with fresh history until done', async () => {
    const id = await a.start('counter', 0);
    const s = await a.waitFor(id);
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toBe(3);
    expect(s.input).toBe(3);
    const h = await a.status(id, '?showHistory=true');
    // Only the last execution's history remains.
    expect(h.historyEvents.filter((e: any) => e.EventType === 'TaskScheduled')).toHaveLength(1);
  });

  it('terminates a running instance with its reason', async () => {
    const id = await a.start('waitForever');
    const running = await a.waitFor(id, (s) => s.runtimeStatus === 'Running' && s.customStatus);
    expect(running.customStatus).toEqual({ phase: 'waiting' });
    expect((await a.call('POST', `instances/${id}/terminate?reason=operator%20abort`)).status).toBe(202);
    const s = await a.waitFor(id);
    expect(s.runtimeStatus).toBe('Terminated');
    expect(s.output).toBe('operator abort');
    expect((await a.call('POST', `instances/${id}/terminate?reason=again`)).status).toBe(410);
  });

  it('detects non-determinism and fails the instance clearly', async () => {
    codeVersion.current = 1;
    const id = await a.start('changing');
    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    await a.raise(id, 'continue');
    // Version 1 has scheduled its slow second step; "deploy" version 2 before it completes.
    const withHistory = async () => a.status(id, '?showHistory=true');
    for (let i = 0; i < 200 && !(await withHistory()).historyEvents.some((e: any) => e.FunctionName === 'slow'); i++) await new Promise((r) => setTimeout(r, 10));
    codeVersion.current = 2;
    try {
      const s = await a.waitFor(id);
      expect(s.runtimeStatus).toBe('Failed');
      expect(s.output).toMatch(/Non-deterministic orchestrator 'changing': action #2 was activity 'slow' in history but the replay now schedules activity 'noop'/);
    } finally {
      codeVersion.current = 1;
    }
  });

  it('fails the instance with an unhandled orchestrator error', async () => {
    const id = await a.start('failing');
    const s = await a.waitFor(id);
    expect(s.runtimeStatus).toBe('Failed');
    expect(s.output).toContain('boom: the orchestrator gave up');
  });

  it('offloads payloads over 45 KB to blobs and reads them back', async () => {
    const id = await a.start('bigPayload', 200_000);
    const s = await a.waitFor(id);
    expect(s.output).toBe(200_000);
    const blobs: string[] = [];
    for await (const b of host.engine.store.blobs.listBlobsFlat({ prefix: `${id}/` })) blobs.push(b.name);
    expect(blobs.length).toBeGreaterThan(0);
  });
});
