// Workers that predate CommandMessage.verify drop the field, run the command alone and answer
// without a verification: the orchestrator records that result and then sends the check as a
// command of its own, as before the two rode together.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, startRunsEnv, type RunsEnv } from './support.js';

let older: RunsEnv;
beforeAll(async () => { older = await startRunsEnv({ olderWorkers: true }); }, 60_000);
afterAll(async () => { await older?.stop(); });

const executionsOf = async (e: RunsEnv, id: string) => (await e.sim.state()).executions.filter((x) => x.commandId.startsWith(`${id}:`));

describe('workers that do not know the field', () => {
  it('answer without the check: the result is recorded, then the check is sent on its own, and the step succeeds', async () => {
    const id = await older.start('operator1', 'readiness', { fixture: 'verified', tag: 'older' });
    const done = await older.waitFor(id, finished);
    expect(done.status.phase).toBe('succeeded');
    expect((await executionsOf(older, id)).map((x) => x.commandId.slice(id.length + 1))).toEqual(['checked:1', 'checked.verify:1']);
    const trail = await older.trail.readRun(id);
    const keys = trail.map((e) => e.key).filter((k) => k.startsWith('step:'));
    expect(keys).toEqual([
      'step:checked:attempt:1:dispatched', 'step:checked:attempt:1:result',
      'step:checked.verify:attempt:1:dispatched', 'step:checked:attempt:1:verify:result', 'step:checked:attempt:1:verified',
    ]);
    expect(trail.find((e) => e.key === 'step:checked:attempt:1:result')!.data).not.toHaveProperty('verification');
    expect((await older.trail.verify(id)).ok).toBe(true);
  }, 60_000);
});
