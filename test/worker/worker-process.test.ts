// The worker as a real child process over Azurite queues: what an operator deploys.
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { azurite, uniqueName } from '../support/azurite.js';
import { AzuriteQueueTransport } from '../../shared/transport/azurite.js';
import { Simulator } from '../../worker/simulator/simulator.js';
import { ResultMessage, type CommandMessage } from '../../shared/messages.js';
import { resultKey } from '../support/result-keys.js';
import { signatureMatches } from '../../shared/results/signature.js';
import { killStack, spawnStack } from '../support/stack-process.js';

const root = path.resolve(import.meta.dirname, '../..');
const mainJs = path.join(root, 'dist/worker/main.js');

beforeAll(() => {
  if (!existsSync(mainJs)) throw new Error('build did not produce dist/worker/main.js');
}, 180_000);

interface Harness {
  site: string; prefix: string; simDir: string; journal: string;
  transport: AzuriteQueueTransport; sim: Simulator; children: ChildProcess[]; logs: string[]; inbox: ResultMessage[];
}
const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    for (const c of h.children) await killStack(c);
    await h.transport.close();
  }
});

function harness(): Harness {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-worker-'));
  const prefix = uniqueName('w');
  const h: Harness = {
    site: 'west', prefix, simDir: path.join(dir, 'sim'), journal: path.join(dir, 'journal'),
    transport: new AzuriteQueueTransport({ connectionString: azurite(), prefix, pollMs: 50 }),
    sim: new Simulator({ dir: path.join(dir, 'sim'), timeFactor: 0.001 }), children: [], logs: [], inbox: [],
  };
  harnesses.push(h);
  return h;
}

function startWorker(h: Harness, extra: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawnStack(process.execPath, [mainJs, '--site', h.site, '--journal', h.journal, '--sim-dir', h.simDir,
    '--queue-prefix', h.prefix, '--lock-ms', '2000', '--heartbeat-ms', '300', '--grace-ms', '5000', ...extra], {
    cwd: root, env: { ...process.env, AzureWebJobsStorage: azurite(), LYNCDR_SIM_TIME_FACTOR: '0.001', LYNCDR_RESULT_KEY: resultKey(h.site), ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (b: Buffer) => h.logs.push(b.toString()));
  child.stdout!.on('data', (b: Buffer) => h.logs.push(b.toString()));
  h.children.push(child);
  return child;
}
const exited = (c: ChildProcess) => new Promise<{ code: number | null; signal: string | null }>((r) => {
  if (c.exitCode !== null || c.signalCode !== null) return r({ code: c.exitCode, signal: c.signalCode });
  c.once('exit', (code, signal) => r({ code, signal }));
});

function command(h: Harness, name: string, params: Record<string, unknown>, extra: Partial<CommandMessage> = {}): CommandMessage {
  return {
    v: 1, commandId: uniqueName('cmd'), runId: 'run-1', stepId: name, site: h.site, invocation: { name, params },
    mode: 'drill', timeoutMs: 20_000, sentAt: new Date().toISOString(), ...extra,
  };
}

async function resultsFor(h: Harness, commandId: string, count = 1, timeoutMs = 20_000): Promise<ResultMessage[]> {
  // Results for other commands stay in the inbox for later calls.
  const found: ResultMessage[] = [];
  const take = () => {
    for (let i = 0; i < h.inbox.length && found.length < count;) {
      if (h.inbox[i].commandId === commandId) found.push(...h.inbox.splice(i, 1));
      else i++;
    }
  };
  const deadline = Date.now() + timeoutMs;
  take();
  while (found.length < count && Date.now() < deadline) {
    for (const r of await h.transport.receiveResults({ maxMessages: 32, maxWaitMs: 500 })) {
      h.inbox.push(ResultMessage.parse(r.body)); // the worker must emit valid contract messages
    }
    take();
  }
  if (found.length < count) throw new Error(`expected ${count} result(s) for ${commandId}, got ${found.length}\n${h.logs.join('')}`);
  return found;
}

const executionsOf = async (h: Harness, commandId: string) => (await h.sim.state()).executions.filter((e) => e.commandId === commandId);

describe('hybrid worker process over Azurite queues', () => {
  it('executes a command, replies with its result and sends heartbeats and probes', async () => {
    const h = harness();
    startWorker(h);
    const cmd = command(h, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' });
    await h.transport.sendCommand(cmd);
    const [r] = await resultsFor(h, cmd.commandId);
    expect(r).toMatchObject({ status: 'succeeded', duplicate: false, runId: 'run-1', site: 'west', exitCode: 0 });
    expect(r.output).toEqual([]); // Invoke-CsPoolFailover writes no objects
    expect(r.rendered).toContain("Invoke-CsPoolFailover -PoolFqdn 'eepool1.contoso.com'");
    // The estate refusing a command is a precondition failure, not an execution failure.
    const again = command(h, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' });
    await h.transport.sendCommand(again);
    const [refused] = await resultsFor(h, again.commandId);
    expect(refused).toMatchObject({ status: 'failed', error: { kind: 'precondition', message: expect.stringMatching(/already failed over/) } });
    expect((await h.sim.state()).pools['eepool1.contoso.com'].failedOver).toBe(true);
    const health = (await h.transport.receiveHealth({ maxMessages: 32, maxWaitMs: 3000 })).map((m) => m.body as { kind: string; probes?: unknown[] });
    expect(health.some((m) => m.kind === 'heartbeat')).toBe(true);
    expect(health.find((m) => m.kind === 'probe')?.probes?.length).toBeGreaterThan(0);
  });

  it('the worker of a lost site runs nothing: every command is refused as a precondition and the estate is unchanged', async () => {
    const h = harness();
    startWorker(h);
    await h.sim.disaster('West');
    const cmd = command(h, 'dns.addA', { dnsServer: 'dc1.contoso.com', zoneName: 'contoso.com', name: 'lost-site-probe', ipv4Address: '10.2.0.99', ttlSeconds: 300 });
    await h.transport.sendCommand(cmd);
    const [r] = await resultsFor(h, cmd.commandId);
    expect(r).toMatchObject({ status: 'failed', site: 'west', error: { kind: 'precondition', message: expect.stringMatching(/site "west" is down/) } });
    expect((await h.sim.state()).dns['lost-site-probe.contoso.com']).toBeUndefined();
  });

  it('a duplicate delivery of a finished command gets the recorded result with duplicate:true, not a second execution', async () => {
    const h = harness();
    startWorker(h);
    const cmd = command(h, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' });
    await h.transport.sendCommand(cmd);
    const [first] = await resultsFor(h, cmd.commandId);
    await h.transport.sendCommand(cmd);
    const [second] = await resultsFor(h, cmd.commandId);
    expect(first.status).toBe('succeeded');
    expect(second).toMatchObject({ status: 'succeeded', duplicate: true, output: first.output, finishedAt: first.finishedAt });
    // A second execution would have failed with "already failed over"; and the log shows one.
    expect(await executionsOf(h, cmd.commandId)).toHaveLength(1);
  });

  it('invalid messages are dead-lettered with the reason, answered rejected, and never executed', async () => {
    const h = harness();
    startWorker(h);
    await h.transport.sendRawCommand(h.site, 'this is not json');
    const badParams = command(h, 'pool.failover', { poolFqdn: 'eepool1.contoso.com; Remove-Item C:\\' });
    const unknown = command(h, 'Remove-Everything', {});
    const wrongSite = command(h, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' }, { site: 'east' });
    await h.transport.sendCommand(badParams);
    await h.transport.sendCommand(unknown);
    // Delivered to west's queue although it is for east (a misrouted message).
    await h.transport.sendRawCommand(h.site, JSON.stringify(wrongSite));
    const [rp] = await resultsFor(h, badParams.commandId);
    const [ru] = await resultsFor(h, unknown.commandId);
    const [rw] = await resultsFor(h, wrongSite.commandId);
    expect(rp).toMatchObject({ status: 'rejected', error: { kind: 'invalid-params' } });
    expect(rp.error?.message).toMatch(/poolFqdn/);
    expect(ru).toMatchObject({ status: 'rejected', error: { kind: 'unknown-command' } });
    expect(rw).toMatchObject({ status: 'rejected', error: { kind: 'wrong-site' } });
    await expect.poll(async () => (await h.transport.peekDeadLettered(h.site, 32)).length, { timeout: 10_000 }).toBe(4);
    const dead = await h.transport.peekDeadLettered(h.site, 32);
    expect(dead.every((d) => d.reason === 'InvalidCommand')).toBe(true);
    expect(dead.find((d) => d.body === 'this is not json')?.description).toMatch(/invalid-message: body is not JSON/);
    expect(dead.find((d) => (d.body as CommandMessage).commandId === badParams.commandId)?.description).toMatch(/invalid-params/);
    expect((await h.sim.state()).executions).toEqual([]);
  });

  it('a hanging command is stopped at its timeout and reported as timeout', async () => {
    const h = harness();
    await h.sim.faults.add({ command: 'pool.get', kind: 'hang', remaining: 1 });
    startWorker(h);
    const cmd = command(h, 'pool.get', { poolFqdn: 'eepool1.contoso.com' }, { timeoutMs: 800 });
    await h.transport.sendCommand(cmd);
    const [r] = await resultsFor(h, cmd.commandId);
    expect(r).toMatchObject({ status: 'timeout', error: { kind: 'timeout' } });
    expect(r.durationMs).toBeGreaterThanOrEqual(750);
    expect(await executionsOf(h, cmd.commandId)).toEqual([expect.objectContaining({ outcome: 'failed', message: expect.stringMatching(/timed out/) })]);
  });

  it('worker crashes mid-command: after restart the redelivery is answered outcome-unknown and never run again', async () => {
    const h = harness();
    await h.sim.faults.add({ command: 'pool.failover', kind: 'crash', remaining: 1 });
    const first = startWorker(h);
    const cmd = command(h, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' });
    await h.transport.sendCommand(cmd);
    expect(await exited(first)).toMatchObject({ signal: 'SIGKILL' });
    expect(await executionsOf(h, cmd.commandId)).toEqual([expect.objectContaining({ outcome: 'running' })]);

    startWorker(h);
    // The message reappears when the dead worker's 2 s lock lapses.
    const [r] = await resultsFor(h, cmd.commandId);
    expect(r).toMatchObject({ status: 'outcome-unknown', duplicate: false, error: { kind: 'outcome-unknown' } });
    expect(r.startedAt).toBeDefined();
    const runs = await executionsOf(h, cmd.commandId);
    expect(runs).toHaveLength(1);
    expect((await h.sim.state()).pools['eepool1.contoso.com'].failedOver).toBe(false);

    // Yet another delivery gets the same recorded answer, marked duplicate.
    await h.transport.sendCommand(cmd);
    const [again] = await resultsFor(h, cmd.commandId);
    expect(again).toMatchObject({ status: 'outcome-unknown', duplicate: true });
    expect(await executionsOf(h, cmd.commandId)).toHaveLength(1);
  });

  it('SIGKILL while a command hangs: the restarted worker answers outcome-unknown', async () => {
    const h = harness();
    await h.sim.faults.add({ command: 'pool.failback', kind: 'hang', remaining: 1 });
    const first = startWorker(h);
    const cmd = command(h, 'pool.failback', { poolFqdn: 'eepool2.contoso.com' }, { timeoutMs: 60_000 });
    // Failback needs a failed-over pool: prepare the estate directly.
    const st = await h.sim.state();
    st.pools['eepool2.contoso.com'].failedOver = true;
    await h.sim.store.save(st);
    await h.transport.sendCommand(cmd);
    await expect.poll(async () => (await executionsOf(h, cmd.commandId)).length, { timeout: 10_000 }).toBe(1);
    first.kill('SIGKILL');
    await exited(first);
    startWorker(h);
    const [r] = await resultsFor(h, cmd.commandId);
    expect(r.status).toBe('outcome-unknown');
    expect(await executionsOf(h, cmd.commandId)).toHaveLength(1);
    expect((await h.sim.state()).pools['eepool2.contoso.com'].failedOver).toBe(true);
  });

  it('SIGTERM lets an in-flight command finish and reply, then exits 0', async () => {
    const h = harness();
    await h.sim.faults.add({ command: 'pool.failover', kind: 'slow', remaining: 1, factor: 3 }); // 8 min * 0.001 * 3 = 1.44 s
    const child = startWorker(h);
    const cmd = command(h, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' });
    await h.transport.sendCommand(cmd);
    await expect.poll(async () => (await executionsOf(h, cmd.commandId)).length, { timeout: 10_000 }).toBe(1);
    child.kill('SIGTERM');
    expect(await exited(child)).toMatchObject({ code: 0 });
    const [r] = await resultsFor(h, cmd.commandId, 1, 5000);
    expect(r.status).toBe('succeeded');
  });

  describe('a verification riding with its command (verify)', () => {
    const verify = (h: Harness, cmd: CommandMessage, name: string, params: Record<string, unknown>, timeoutMs = 20_000) =>
      ({ ...cmd, verify: { commandId: `${cmd.commandId}.check`, invocation: { name, params }, timeoutMs } });

    it('runs the check after the command succeeds and returns both; a duplicate delivery returns both again', async () => {
      const h = harness();
      startWorker(h);
      const cmd = verify(h, command(h, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' }), 'pool.get', { poolFqdn: 'eepool1.contoso.com' });
      await h.transport.sendCommand(cmd);
      const [r] = await resultsFor(h, cmd.commandId);
      expect(r).toMatchObject({ status: 'succeeded', verification: { status: 'succeeded', rendered: expect.stringMatching(/^Get-CsPool -Identity 'eepool1.contoso.com'/), output: [{ Fqdn: 'eepool1.contoso.com' }] } });
      const [main] = await executionsOf(h, cmd.commandId);
      const [check] = await executionsOf(h, `${cmd.commandId}.check`);
      expect(check).toMatchObject({ name: 'pool.get', outcome: 'succeeded' });
      expect(Date.parse(check.startedAt)).toBeGreaterThanOrEqual(Date.parse(main.finishedAt!));
      await h.transport.sendCommand(cmd);
      const [again] = await resultsFor(h, cmd.commandId);
      expect(again).toMatchObject({ duplicate: true, verification: r.verification });
      expect(await executionsOf(h, `${cmd.commandId}.check`)).toHaveLength(1);
    });

    it('no check after a failed command, and none in what-if', async () => {
      const h = harness();
      await h.sim.faults.add({ command: 'pool.get', kind: 'fail', remaining: 1 });
      startWorker(h);
      const failed = verify(h, command(h, 'pool.get', { poolFqdn: 'eepool2.contoso.com' }), 'pool.fabricState', { poolFqdn: 'eepool2.contoso.com' });
      const whatif = verify(h, command(h, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' }, { mode: 'whatif' }), 'pool.get', { poolFqdn: 'eepool1.contoso.com' });
      await h.transport.sendCommand(failed);
      await h.transport.sendCommand(whatif);
      const [rf] = await resultsFor(h, failed.commandId);
      const [rw] = await resultsFor(h, whatif.commandId);
      expect(rf.status).toBe('failed');
      expect(rw.status).toBe('succeeded');
      expect(rf).not.toHaveProperty('verification');
      expect(rw).not.toHaveProperty('verification');
      expect((await h.sim.state()).executions.filter((e) => e.commandId.endsWith('.check'))).toEqual([]);
    });

    it('a check that would change the estate, or that the catalog refuses, is rejected before anything runs', async () => {
      const h = harness();
      startWorker(h);
      const writes = verify(h, command(h, 'pool.get', { poolFqdn: 'eepool2.contoso.com' }), 'pool.failover', { poolFqdn: 'eepool1.contoso.com' });
      const invalid = verify(h, command(h, 'pool.get', { poolFqdn: 'eepool2.contoso.com' }), 'pool.get', { poolFqdn: "x'; Remove-Item C:\\" });
      await h.transport.sendCommand(writes);
      await h.transport.sendCommand(invalid);
      const [rw] = await resultsFor(h, writes.commandId);
      const [ri] = await resultsFor(h, invalid.commandId);
      expect(rw).toMatchObject({ status: 'rejected', error: { kind: 'invalid-params', message: expect.stringMatching(/verify: pool.failover is not read-only/) } });
      expect(ri).toMatchObject({ status: 'rejected', error: { kind: 'invalid-params', message: expect.stringMatching(/^verify: /) } });
      expect((await h.sim.state()).executions).toEqual([]);
    });

    it('a check that outlasts the message lock: the lock is renewed, so there is one answer, with the check', async () => {
      const h = harness();
      // The worker renews at a third of its lock; 4 s leaves 2.7 s of slack for a busy machine.
      const lockMs = 4000;
      // pool.get takes 2 s * 0.001 = 2 ms; this much slower it lasts one and a half locks.
      await h.sim.faults.add({ command: 'pool.get', kind: 'slow', remaining: 1, factor: (1.5 * lockMs) / 2 });
      startWorker(h, ['--lock-ms', String(lockMs)]);
      const cmd = verify(h, command(h, 'pool.fabricState', { poolFqdn: 'eepool2.contoso.com' }), 'pool.get', { poolFqdn: 'eepool2.contoso.com' });
      await h.transport.sendCommand(cmd);
      const [r] = await resultsFor(h, cmd.commandId, 1, 30_000);
      expect(r).toMatchObject({ status: 'succeeded', duplicate: false, verification: { status: 'succeeded' } });
      expect(Date.parse(r.verification!.finishedAt) - Date.parse(r.verification!.startedAt)).toBeGreaterThan(lockMs);
      // No second answer. The command's message is completed after its answer, and any answer a
      // redelivery would give is sent before that copy is completed: once the queue is empty, every
      // answer there will be is in the results queue.
      const commands = await h.transport.queue(h.transport.names.commands(h.site));
      for (const deadline = Date.now() + 2 * lockMs; (await commands.getProperties()).approximateMessagesCount !== 0;) {
        if (Date.now() > deadline) throw new Error('the command message was not completed');
        await new Promise((res) => setTimeout(res, 50));
      }
      for (let batch = await h.transport.receiveResults({ maxMessages: 32, maxWaitMs: 0 }); batch.length; batch = await h.transport.receiveResults({ maxMessages: 32, maxWaitMs: 0 })) {
        for (const x of batch) h.inbox.push(ResultMessage.parse(x.body));
      }
      expect(h.inbox.filter((x) => x.commandId === cmd.commandId)).toEqual([]);
      expect(h.logs.join('')).not.toMatch(/command\.(concurrent-)?duplicate/);
    });

    it('a large output and a failing check still fit one queue message', async () => {
      const h = harness();
      await h.sim.faults.add({ command: 'pool.get', kind: 'fail', remaining: 1 });
      startWorker(h);
      // Every user of a 20,000-user pool (cut to fit), then a check that fails.
      const cmd = verify(h, command(h, 'users.listByPool', { registrarPool: 'eepool1.contoso.com' }), 'pool.get', { poolFqdn: 'eepool1.contoso.com' });
      await h.transport.sendCommand(cmd);
      const [r] = await resultsFor(h, cmd.commandId);
      expect(r).toMatchObject({ status: 'succeeded', output: { truncated: true }, verification: { status: 'failed' } });
      // The whole result, the check's answer included, fits one storage-queue message (base64 under 64 KiB).
      expect(Buffer.byteLength(JSON.stringify(r), 'utf8')).toBeLessThanOrEqual(46_000);
    });

    it('a check that hangs is stopped at its own timeout; the command still counts as succeeded', async () => {
      const h = harness();
      await h.sim.faults.add({ command: 'pool.get', kind: 'hang', remaining: 1 });
      startWorker(h);
      const cmd = verify(h, command(h, 'pool.fabricState', { poolFqdn: 'eepool2.contoso.com' }), 'pool.get', { poolFqdn: 'eepool2.contoso.com' }, 800);
      await h.transport.sendCommand(cmd);
      const [r] = await resultsFor(h, cmd.commandId);
      expect(r).toMatchObject({ status: 'succeeded', verification: { status: 'timeout', error: { kind: 'timeout' } } });
    });

    it('the worker dies during the check: the redelivery answers with the journaled result alone, and the command does not run again', async () => {
      const h = harness();
      await h.sim.faults.add({ command: 'pool.get', kind: 'crash', remaining: 1 });
      const first = startWorker(h);
      const cmd = verify(h, command(h, 'pool.failover', { poolFqdn: 'eepool1.contoso.com' }), 'pool.get', { poolFqdn: 'eepool1.contoso.com' });
      await h.transport.sendCommand(cmd);
      expect(await exited(first)).toMatchObject({ signal: 'SIGKILL' });
      startWorker(h);
      const [r] = await resultsFor(h, cmd.commandId);
      expect(r).toMatchObject({ status: 'succeeded', duplicate: true });
      expect(r).not.toHaveProperty('verification');
      expect(await executionsOf(h, cmd.commandId)).toEqual([expect.objectContaining({ outcome: 'succeeded' })]);
      expect((await h.sim.state()).pools['eepool1.contoso.com'].failedOver).toBe(true);
    });
  });
});


describe('the worker signs its results with its site key', () => {
  it('every result, a duplicate too, carries the attempt and verifies with the site key only', async () => {
    const h = harness();
    startWorker(h);
    const cmd = command(h, 'pool.get', { poolFqdn: 'eepool2.contoso.com' }, { attempt: 3 });
    await h.transport.sendCommand(cmd);
    const [first] = await resultsFor(h, cmd.commandId);
    await h.transport.sendCommand(cmd);
    const [second] = await resultsFor(h, cmd.commandId);
    for (const r of [first, second]) {
      expect(r).toMatchObject({ site: 'west', attempt: 3, signature: expect.stringMatching(/^hmac-sha256:/) });
      expect(signatureMatches(r, [resultKey('west')])).toBe(true);
      expect(signatureMatches(r, [resultKey('east')])).toBe(false);
      expect(signatureMatches({ ...r, status: r.status === 'succeeded' ? 'failed' : 'succeeded' }, [resultKey('west')])).toBe(false);
    }
    expect(second.duplicate).toBe(true);
  });

  it('refuses to start without a key, naming where it goes', async () => {
    const h = harness();
    const child = startWorker(h, [], { LYNCDR_RESULT_KEY: '' });
    const { code } = await exited(child);
    expect(code).not.toBe(0);
    expect(h.logs.join('')).toMatch(/result key: missing or shorter than 32 characters \(LYNCDR_RESULT_KEY or --result-key-file\)/);
  });
});
