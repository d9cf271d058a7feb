// The worker keeps a recorded list (the users a pre-flight listed) whole, and users.moveRecorded
// runs as users.move with a range of it: a real worker process over Azurite queues, the simulator
// as the estate. The list never travels back in full (a result message holds ~46 KB).
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { resultKey } from '../support/result-keys.js';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { azurite, uniqueName } from '../support/azurite.js';
import { AzuriteQueueTransport } from '../../shared/transport/azurite.js';
import { Simulator } from '../../worker/simulator/simulator.js';
import { ResultMessage, type CommandMessage } from '../../shared/messages.js';
import { killStack, spawnStack } from '../support/stack-process.js';

const root = path.resolve(import.meta.dirname, '../..');
const mainJs = path.join(root, 'dist/worker/main.js');
beforeAll(() => {
  if (!existsSync(mainJs)) throw new Error('build did not produce dist/worker/main.js');
});

interface Harness { site: string; prefix: string; transport: AzuriteQueueTransport; sim: Simulator; child?: ChildProcess; logs: string[]; inbox: ResultMessage[] }
const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    if (h.child) await killStack(h.child);
    await h.transport.close();
  }
});

function startHarness(): Harness {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-recorded-'));
  const prefix = uniqueName('rec');
  const h: Harness = {
    site: 'west', prefix, transport: new AzuriteQueueTransport({ connectionString: azurite(), prefix, pollMs: 50 }),
    sim: new Simulator({ dir: path.join(dir, 'sim'), timeFactor: 0.001 }), logs: [], inbox: [],
  };
  h.child = spawnStack(process.execPath, [mainJs, '--site', h.site, '--journal', path.join(dir, 'journal'), '--sim-dir', path.join(dir, 'sim'), '--queue-prefix', prefix, '--heartbeat-ms', '1000'], {
    cwd: root, env: { ...process.env, AzureWebJobsStorage: azurite(), LYNCDR_SIM_TIME_FACTOR: '0.001', LYNCDR_RESULT_KEY: resultKey(h.site) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  h.child.stderr!.on('data', (b: Buffer) => h.logs.push(b.toString()));
  harnesses.push(h);
  return h;
}

const command = (h: Harness, runId: string, name: string, params: Record<string, unknown>, extra: Partial<CommandMessage> = {}): CommandMessage => ({
  v: 1, commandId: uniqueName('cmd'), runId, stepId: name.replace('.', '-'), site: h.site, invocation: { name, params },
  mode: 'drill', timeoutMs: 20_000, sentAt: new Date().toISOString(), ...extra,
});

async function send(h: Harness, cmd: CommandMessage): Promise<ResultMessage> {
  await h.transport.sendCommand(cmd);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const i = h.inbox.findIndex((r) => r.commandId === cmd.commandId);
    if (i >= 0) return h.inbox.splice(i, 1)[0];
    for (const r of await h.transport.receiveResults({ maxMessages: 32, maxWaitMs: 500 })) h.inbox.push(ResultMessage.parse(r.body));
  }
  throw new Error(`no result for ${cmd.commandId}\n${h.logs.join('')}`);
}

const POOL = 'eepool1.contoso.com';
const DR = 'eepool2.contoso.com';
const move = (h: Harness, runId: string, from: number, to: number) =>
  command(h, runId, 'users.moveRecorded', { recorded: 'legacy.usersToMove', from, to, targetPoolFqdn: DR, force: true });

describe('a recorded list kept by the worker, moved in ranges', () => {
  it('moves exactly the listed users of the range; a range past the end moves nobody', async () => {
    const h = startHarness();
    const listed = await send(h, command(h, 'run-a', 'users.listByPool', { registrarPool: POOL }, { keep: 'legacy.usersToMove' }));
    expect(listed.status).toBe('succeeded');
    // The list as the pre-flight read it, in the order the batches take it.
    const users = ((await h.sim.execute({ name: 'users.listByPool', params: { registrarPool: POOL } }, { commandId: uniqueName('peek'), timeoutMs: 10_000, whatIf: false })).output as { SipAddress: string }[]).map((u) => u.SipAddress);
    expect(users.length).toBeGreaterThan(3);
    const r = await send(h, move(h, 'run-a', 1, 3));
    expect(r).toMatchObject({ status: 'succeeded' });
    expect(r.rendered).toContain(`'${users[1]}','${users[2]}' | Move-CsUser -Target '${DR}' -Force`);
    expect((await h.sim.state()).movedUsers).toEqual({ [users[1].toLowerCase()]: DR, [users[2].toLowerCase()]: DR });
    const past = await send(h, move(h, 'run-a', users.length + 500, users.length + 1000));
    expect(past).toMatchObject({ status: 'succeeded', output: { moved: 0, recordedCount: users.length } });
    expect(Object.keys((await h.sim.state()).movedUsers)).toHaveLength(2);
  }, 60_000);

  it('refuses a range of a list it did not keep (another run, or a read sent without keep), moving nobody', async () => {
    const h = startHarness();
    expect((await send(h, command(h, 'run-b', 'users.listByPool', { registrarPool: POOL }))).status).toBe('succeeded');
    for (const runId of ['run-b', 'run-c']) {
      const r = await send(h, move(h, runId, 0, 2));
      expect(r).toMatchObject({ status: 'rejected', error: { kind: 'invalid-params', message: expect.stringMatching(/kept no list legacy\.usersToMove/) } });
    }
    expect((await h.sim.state()).movedUsers).toEqual({});
  }, 60_000);
});
