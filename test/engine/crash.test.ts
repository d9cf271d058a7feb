// kill -9 of the host in the middle of a 20-step orchestration, at several points, then a
// restart: the run completes, every step's effect is recorded exactly once, none is skipped.
import { afterAll, describe, expect, it } from 'vitest';
import { azurite, uniqueName } from '../support/azurite.js';
import { CONFORMANCE_APP, api } from '../support/host.js';
import { kill9, spawnHost, type HostProcess } from '../support/host-process.js';
import { tableClient } from '../../shared/storage/connection.js';

const hosts: HostProcess[] = [];
afterAll(async () => { await Promise.all(hosts.map((h) => h.stop())); });

async function readTable(name: string): Promise<Array<Record<string, unknown>>> {
  const rows: Array<Record<string, unknown>> = [];
  try {
    for await (const r of tableClient(azurite(), name).listEntities()) rows.push(r);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  return rows;
}

describe('crash recovery (SIGKILL of the host process)', () => {
  it('completes a 20-step run killed at several points, each effect exactly once', async () => {
    const hub = uniqueName('Crash');
    const table = uniqueName('Effects');
    const start = () => spawnHost({ hub, entry: CONFORMANCE_APP, connectionString: azurite() }).then((h) => { hosts.push(h); return h; });
    let host = await start();
    const id = await api(host).start('effects', { table, steps: 20, delayMs: 60 });

    // Kill at different depths: mid-activity, between steps, right after a commit.
    const killAtStep = [2, 7, 8, 13, 17];
    const resumes: number[] = [];
    for (const step of killAtStep) {
      await api(host).waitFor(id, (s) => (s.customStatus?.step ?? -1) >= step || s.runtimeStatus === 'Completed', 60_000);
      await new Promise((r) => setTimeout(r, (step % 3) * 25));
      await kill9(host);
      host = await start();
      resumes.push(host.resumed);
    }
    const done = await api(host).waitFor(id, undefined, 60_000);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toBe(20);
    expect(resumes.every((n) => n >= 1)).toBe(true);

    // Exactly-once effects: one row per step, keyed by instance and step.
    const effects = await readTable(table);
    expect(effects.map((e) => Number(e.step)).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // At-least-once executions: every step ran, some may have run twice around a kill.
    const runs = await readTable(`${table}Runs`);
    const perStep = new Map<number, number>();
    for (const r of runs) perStep.set(Number(r.step), (perStep.get(Number(r.step)) ?? 0) + 1);
    expect([...perStep.keys()].length).toBe(20);
    // History shows each step scheduled once and completed once.
    const h = await api(host).status(id, '?showHistory=true');
    expect(h.historyEvents.filter((e: any) => e.EventType === 'TaskScheduled')).toHaveLength(20);
    expect(h.historyEvents.filter((e: any) => e.EventType === 'TaskCompleted')).toHaveLength(20);
  }, 240_000);
});

describe('an activity that keeps killing its host', () => {
  it('is given up on after maxDequeueCount restarts, and the orchestration learns why', async () => {
    const hub = uniqueName('Poison');
    let host = await spawnHost({ hub, entry: CONFORMANCE_APP, connectionString: azurite() });
    hosts.push(host);
    const id = await api(host).start('poisoned');
    let restarts = 0;
    let finished = false;
    for (; restarts < 12 && !finished; restarts++) {
      await new Promise<void>((resolve) => { if (host.child.exitCode !== null || host.child.signalCode) resolve(); else host.child.once('exit', () => resolve()); });
      try {
        host = await spawnHost({ hub, entry: CONFORMANCE_APP, connectionString: azurite() });
        hosts.push(host);
      } catch {
        continue; // it died while resuming the run: the recovery re-dispatched the crashing task
      }
      const s = await api(host).waitFor(id, undefined, 3000).catch(() => undefined);
      finished = s?.runtimeStatus === 'Completed';
    }
    const done = await api(host).waitFor(id, undefined, 30_000);
    expect(done.output).toMatch(/gave up: .*activity 'crashHost' was given up on: its host stopped 6 times/);
    expect(restarts).toBeGreaterThanOrEqual(5);
  }, 180_000);
});

describe('two hosts on one task hub', () => {
  it('never both commit the same episode', async () => {
    const hub = uniqueName('Twin');
    const [h1, h2] = await Promise.all([
      spawnHost({ hub, entry: CONFORMANCE_APP, connectionString: azurite() }),
      spawnHost({ hub, entry: CONFORMANCE_APP, connectionString: azurite() }),
    ]);
    hosts.push(h1, h2);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await api(i % 2 ? h2 : h1).start('sequence', 15));
    // Events for the same instances arrive at both hosts, which both dispatch them.
    const outputs = await Promise.all(ids.map((id) => api(h1).waitFor(id, undefined, 90_000)));
    for (const s of outputs) {
      expect(s.runtimeStatus).toBe('Completed');
      expect(s.output).toBe(15);
    }
    // Contention on purpose: both hosts deliver events to one instance at the same moment.
    const collector = await api(h1).start('collect', 20);
    await api(h1).waitFor(collector, (s) => s.runtimeStatus === 'Running');
    const codes = await Promise.all(Array.from({ length: 20 }, (_, i) => api(i % 2 ? h2 : h1).raise(collector, 'vote', i)));
    expect(codes.every((c) => c === 202)).toBe(true);
    const collected = await api(h2).waitFor(collector, undefined, 60_000);
    expect(collected.runtimeStatus).toBe('Completed');
    expect([...collected.output].sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const ch = await api(h1).status(collector, '?showHistory=true');
    expect(ch.historyEvents.filter((e: any) => e.EventType === 'EventRaised')).toHaveLength(20);
    for (const id of ids) {
      const h = await api(h2).status(id, '?showHistory=true');
      const scheduled = h.historyEvents.filter((e: any) => e.EventType === 'TaskScheduled');
      expect(scheduled).toHaveLength(15);
      expect(h.historyEvents.filter((e: any) => e.EventType === 'TaskCompleted')).toHaveLength(15);
      expect(h.historyEvents.filter((e: any) => e.EventType === 'ExecutionCompleted')).toHaveLength(1);
    }
  }, 180_000);
});
