// kill -9 of the host in the middle of a 20-step orchestration, at several points, then a
// restart: the run completes, every step's effect is applied exactly once, none is skipped.
import { odata } from '@azure/data-tables';
import { afterAll, describe, expect, it } from 'vitest';
import { azurite, uniqueName } from '../support/azurite.js';
import { CONFORMANCE_APP, api } from '../support/host.js';
import { kill9, spawnHost, type HostProcess } from '../support/host-process.js';
import { tableClient } from '../../shared/storage/connection.js';

const hosts: HostProcess[] = [];
afterAll(async () => { await Promise.all(hosts.map((h) => h.stop())); });

async function readTable(name: string, partitionKey?: string): Promise<Array<Record<string, unknown>>> {
  const rows: Array<Record<string, unknown>> = [];
  const filter = partitionKey === undefined ? undefined : odata`PartitionKey eq ${partitionKey}`;
  try {
    for await (const r of tableClient(azurite(), name).listEntities({ queryOptions: { filter } })) rows.push(r);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err; // the activity has not created it yet
  }
  return rows;
}

async function waitForRow(table: string, partitionKey: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await readTable(table, partitionKey)).length === 0) {
    if (Date.now() > deadline) throw new Error(`no row ${partitionKey} in ${table} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function countBy(rows: Array<Record<string, unknown>>): Map<number, number> {
  const n = new Map<number, number>();
  for (const r of rows) n.set(Number(r.step), (n.get(Number(r.step)) ?? 0) + 1);
  return n;
}

describe('crash recovery (SIGKILL of the host process)', () => {
  it('completes a 20-step run killed at several points, each effect applied exactly once', async () => {
    const hub = uniqueName('Crash');
    const table = uniqueName('Effects');
    const start = () => spawnHost({ hub, entry: CONFORMANCE_APP, connectionString: azurite() }).then((h) => { hosts.push(h); return h; });
    // Where each kill lands. Mid-activity: the step's first execution stops before its effect.
    // After the effect: it stops once the effect is applied but before its completion is
    // committed, so the engine runs the step again and only the idempotency key stands between
    // the estate and a second effect. Between steps: wherever the run is when step 8 shows.
    const kills: Array<[number, 'before-effect' | 'after-effect' | 'between-steps']> = [
      [2, 'before-effect'], [7, 'after-effect'], [8, 'between-steps'], [13, 'before-effect'], [17, 'after-effect'],
    ];
    const hang = Object.fromEntries(kills.filter(([, at]) => at !== 'between-steps'));
    let host = await start();
    const id = await api(host).start('effects', { table, steps: 20, delayMs: 40, hang });

    const resumes: number[] = [];
    for (const [step, at] of kills) {
      const key = `${id}:${step}`;
      if (at === 'before-effect') await waitForRow(`${table}Runs`, key);
      else if (at === 'after-effect') await waitForRow(table, key);
      else await api(host).waitFor(id, (s) => (s.customStatus?.step ?? -1) >= step || s.runtimeStatus === 'Completed', 60_000);
      await kill9(host);
      host = await start();
      resumes.push(host.resumed);
    }
    const done = await api(host).waitFor(id, undefined, 60_000);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toBe(20);
    expect(resumes).toEqual(kills.map(() => 1));

    // Every application of an effect is a row of its own: a second one would show as a second row.
    const applied = countBy(await readTable(table));
    expect([...applied.entries()].sort(([a], [b]) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => [i, 1]));
    // Executions are at least once: the steps stopped by a kill ran again, yet applied once.
    const executed = countBy(await readTable(`${table}Runs`));
    expect([...executed.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (const step of Object.keys(hang).map(Number)) expect(executed.get(step), `executions of step ${step}`).toBeGreaterThanOrEqual(2);
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
