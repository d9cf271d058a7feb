// The simulated estate's state file is shared by the workers of every site and by `lyncdr lab`,
// each a process of its own: their read-modify-writes must not lose one another's updates.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Simulator } from '../../worker/simulator/simulator.js';
import { ROOT } from '../support/host.js';

const writer = (dir: string, tag: string, n: number) => new Promise<void>((resolve, reject) => {
  const script = `
    const { Simulator } = await import(${JSON.stringify(path.join(ROOT, 'dist/worker/simulator/simulator.js'))});
    const sim = new Simulator({ dir: ${JSON.stringify(dir)}, timeFactor: 0 });
    for (let i = 0; i < ${n}; i++) {
      await sim.store.update((s) => { s.executions.push({ commandId: '${tag}-' + i, name: 'pool.get', mode: 'run', startedAt: new Date().toISOString(), outcome: 'running' }); });
    }`;
  execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT }, (err, _out, stderr) => (err ? reject(new Error(stderr || String(err))) : resolve()));
});

describe('simulator state across processes', () => {
  it('three processes updating at once lose nothing, and leave no lock behind', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-simlock-'));
    const sim = new Simulator({ dir, timeFactor: 0 });
    await sim.reset();
    await Promise.all(['a', 'b', 'c'].map((tag) => writer(dir, tag, 60)));
    const ids = (await sim.state()).executions.map((e) => e.commandId);
    expect(ids).toHaveLength(180);
    for (const tag of ['a', 'b', 'c']) expect(ids.filter((x) => x.startsWith(`${tag}-`))).toEqual(Array.from({ length: 60 }, (_, i) => `${tag}-${i}`));
    expect(existsSync(path.join(dir, 'state.json.lock'))).toBe(false);
  }, 60_000);

  it('an armed fault is used exactly as many times as armed, whichever processes take it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-simlock-'));
    const sim = new Simulator({ dir, timeFactor: 0 });
    await sim.faults.add({ command: 'pool.get', kind: 'fail', remaining: 50 });
    const taker = (n: number) => new Promise<number>((resolve, reject) => {
      const script = `
        const { Simulator } = await import(${JSON.stringify(path.join(ROOT, 'dist/worker/simulator/simulator.js'))});
        const sim = new Simulator({ dir: ${JSON.stringify(dir)}, timeFactor: 0 });
        let hits = 0;
        for (let i = 0; i < ${n}; i++) if (await sim.faults.take(['pool.get'])) hits++;
        process.stdout.write(String(hits));`;
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT }, (err, out, stderr) => (err ? reject(new Error(stderr || String(err))) : resolve(Number(out))));
    });
    const hits = await Promise.all([taker(30), taker(30), taker(30)]);
    expect(hits.reduce((a, b) => a + b, 0)).toBe(50);
    expect(await sim.faults.list()).toEqual([]);
  }, 60_000);
});
