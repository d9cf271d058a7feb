// The hybrid worker (worker/worker.ts) in this process, over real Azurite queues, executing on the
// simulator with a journal on disk: what test/worker/worker-process.test.ts checks of the built
// worker process, here against the sources, so that StrykerJS's mutants of worker.ts are what
// runs. Results are read from the results queue as the orchestrator reads them.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateInvocation } from '../../shared/commands/index.js';
import { ResultMessage, type CommandMessage, type HealthMessage } from '../../shared/messages.js';
import { AzuriteQueueTransport } from '../../shared/transport/azurite.js';
import { FileJournal, journalKey } from '../../worker/journal.js';
import { Simulator } from '../../worker/simulator/simulator.js';
import { catalogResolver, HybridWorker, type WorkerOptions } from '../../worker/worker.js';
import { azurite, uniqueName } from '../support/azurite.js';

interface Bench {
  prefix: string; dir: string; sim: Simulator; transport: AzuriteQueueTransport; inbox: ResultMessage[];
  logs: Array<[string, Record<string, unknown> | undefined]>;
  worker(o?: Partial<WorkerOptions>): Promise<HybridWorker>;
}
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

function bench(): Bench {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-worker-inproc-'));
  const prefix = uniqueName('wi').toLowerCase().slice(0, 14);
  const transport = new AzuriteQueueTransport({ connectionString: azurite(), prefix, pollMs: 50 });
  cleanups.push(() => transport.close());
  const b: Bench = {
    prefix, dir, transport, inbox: [], logs: [],
    sim: new Simulator({ dir: path.join(dir, 'sim'), timeFactor: 0.001 }),
    async worker(o = {}) {
      const w = new HybridWorker({
        site: 'west', transport: new AzuriteQueueTransport({ connectionString: azurite(), prefix, pollMs: 50, lockMs: 2000 }), executor: b.sim,
        journal: await FileJournal.open(path.join(dir, 'journal')), resolve: catalogResolver(validateInvocation),
        receiveWaitMs: 200, heartbeatMs: 600_000, probeMs: 600_000, graceMs: 5000, log: (e, f) => { b.logs.push([e, f]); }, ...o,
      });
      w.start();
      cleanups.push(() => w.stop());
      return w;
    },
  };
  return b;
}

const command = (name: string, params: Record<string, unknown>, extra: Partial<CommandMessage> = {}): CommandMessage => ({
  v: 1, commandId: uniqueName('cmd'), runId: 'run-1', stepId: name, site: 'west', invocation: { name, params },
  mode: 'drill', timeoutMs: 20_000, sentAt: new Date().toISOString(), ...extra,
});
const withCheck = (cmd: CommandMessage, name: string, params: Record<string, unknown>, timeoutMs = 20_000): CommandMessage =>
  ({ ...cmd, verify: { commandId: `${cmd.commandId}.check`, invocation: { name, params }, timeoutMs } });

/** The next `count` results for one command (others stay in the inbox); every one must be a valid contract message. */
async function resultsFor(b: Bench, commandId: string, count = 1, timeoutMs = 15_000): Promise<ResultMessage[]> {
  const found: ResultMessage[] = [];
  const take = () => {
    for (let i = 0; i < b.inbox.length && found.length < count;) {
      if (b.inbox[i].commandId === commandId) found.push(...b.inbox.splice(i, 1)); else i++;
    }
  };
  const deadline = Date.now() + timeoutMs;
  take();
  while (found.length < count && Date.now() < deadline) {
    for (const r of await b.transport.receiveResults({ maxMessages: 32, maxWaitMs: 300 })) b.inbox.push(ResultMessage.parse(r.body));
    take();
  }
  if (found.length < count) throw new Error(`expected ${count} result(s) for ${commandId}, got ${found.length}; log: ${JSON.stringify(b.logs)}`);
  return found;
}
const executionsOf = async (b: Bench, commandId: string) => (await b.sim.state()).executions.filter((e) => e.commandId === commandId);

describe('the worker in process', () => {
  it('executes a command and answers with what ran, when and by whom; an estate that refuses is a precondition failure', async () => {
    const b = bench();
    const w = await b.worker({ workerId: 'west-test-1' });
    const cmd = command('pool.failover', { poolFqdn: 'eepool1.contoso.com' }, { attempt: 2 });
    await b.transport.sendCommand(cmd);
    const [r] = await resultsFor(b, cmd.commandId);
    expect(w.workerId).toBe('west-test-1');
    expect(r).toMatchObject({
      v: 1, commandId: cmd.commandId, runId: 'run-1', stepId: 'pool.failover', site: 'west', workerId: 'west-test-1', attempt: 2,
      status: 'succeeded', duplicate: false, exitCode: 0, output: [], rendered: expect.stringContaining("Invoke-CsPoolFailover -PoolFqdn 'eepool1.contoso.com'"),
    });
    expect(r).not.toHaveProperty('error');
    expect(r.durationMs).toBe(Date.parse(r.finishedAt) - Date.parse(r.startedAt!));
    expect(await executionsOf(b, cmd.commandId)).toEqual([expect.objectContaining({ outcome: 'succeeded' })]);

    const again = command('pool.failover', { poolFqdn: 'eepool1.contoso.com' });
    await b.transport.sendCommand(again);
    const [refused] = await resultsFor(b, again.commandId);
    expect(refused).toMatchObject({ status: 'failed', error: { kind: 'precondition', message: expect.stringMatching(/already failed over/) } });
    expect(refused).not.toHaveProperty('attempt');
    expect(refused.stderr).toMatch(/already failed over/);
    expect(b.logs.map(([e]) => e)).toEqual(expect.arrayContaining(['worker.started', 'command.started', 'command.finished']));
  }, 40_000);

  it('sends a heartbeat and a probe when it starts and then every interval', async () => {
    const b = bench();
    await b.worker({ heartbeatMs: 200, probeMs: 300 });
    const seen: HealthMessage[] = [];
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (seen.filter((m) => m.kind === 'heartbeat').length < 2 || seen.filter((m) => m.kind === 'probe').length < 2)) {
      seen.push(...(await b.transport.receiveHealth({ maxMessages: 32, maxWaitMs: 300 })).map((m) => m.body as HealthMessage));
    }
    const probe = seen.find((m) => m.kind === 'probe');
    expect(seen.filter((m) => m.kind === 'heartbeat').length).toBeGreaterThanOrEqual(2);
    expect(probe).toMatchObject({ v: 1, site: 'west', workerId: expect.stringMatching(/^west-[0-9a-f]{8}$/) });
    expect(probe!.probes!.length).toBeGreaterThan(0);
    expect(seen.find((m) => m.kind === 'heartbeat')).not.toHaveProperty('probes');
  }, 30_000);

  it('a duplicate delivery of a finished command gets the recorded result with duplicate:true and the new attempt, and nothing runs twice', async () => {
    const b = bench();
    await b.worker();
    const cmd = command('pool.failover', { poolFqdn: 'eepool1.contoso.com' }, { attempt: 1 });
    await b.transport.sendCommand(cmd);
    const [first] = await resultsFor(b, cmd.commandId);
    await b.transport.sendCommand({ ...cmd, attempt: 3 });
    const [second] = await resultsFor(b, cmd.commandId);
    expect(first).toMatchObject({ status: 'succeeded', duplicate: false, attempt: 1 });
    expect(second).toMatchObject({ status: 'succeeded', duplicate: true, attempt: 3, output: first.output, finishedAt: first.finishedAt, startedAt: first.startedAt });
    expect(await executionsOf(b, cmd.commandId)).toHaveLength(1);
    expect(b.logs.find(([e]) => e === 'command.duplicate')?.[1]).toMatchObject({ commandId: cmd.commandId, status: 'succeeded' });
  }, 40_000);

  it('refuses what it cannot run: answered rejected with the ids it could read, dead-lettered with the reason, never executed', async () => {
    const b = bench();
    await b.worker();
    await b.transport.sendRawCommand('west', 'this is not json');
    const badParams = command('pool.failover', { poolFqdn: 'eepool1.contoso.com; Remove-Item C:\\' }, { attempt: 4 });
    const unknown = command('Remove-Everything', {});
    const wrongSite = command('pool.failover', { poolFqdn: 'eepool1.contoso.com' }, { site: 'east' });
    const noId = { ...command('pool.get', { poolFqdn: 'eepool1.contoso.com' }), mode: 'sometimes', runId: 'r'.repeat(201), attempt: 2.5 };
    // The longest run id a rejection keeps, an empty step id, attempt 0: neither is a valid attempt.
    const edge = { ...command('pool.get', { poolFqdn: 'eepool1.contoso.com' }), mode: 'sometimes', runId: 'r'.repeat(200), stepId: '', attempt: 0 };
    await b.transport.sendCommand(badParams);
    await b.transport.sendCommand(unknown);
    await b.transport.sendRawCommand('west', JSON.stringify(wrongSite));
    await b.transport.sendRawCommand('west', JSON.stringify(noId));
    await b.transport.sendRawCommand('west', JSON.stringify(edge));
    await b.transport.sendRawCommand('west', '42');
    const [rp] = await resultsFor(b, badParams.commandId);
    const [ru] = await resultsFor(b, unknown.commandId);
    const [rw] = await resultsFor(b, wrongSite.commandId);
    const [rn] = await resultsFor(b, noId.commandId);
    expect(rp).toMatchObject({ status: 'rejected', duplicate: false, runId: 'run-1', stepId: 'pool.failover', attempt: 4, error: { kind: 'invalid-params', message: expect.stringMatching(/poolFqdn/) } });
    expect(ru).toMatchObject({ status: 'rejected', error: { kind: 'unknown-command' } });
    expect(ru).not.toHaveProperty('attempt');
    expect(rw).toMatchObject({ status: 'rejected', error: { kind: 'wrong-site', message: 'command for site "east" delivered to the worker of "west"' } });
    // An invalid message: the ids that are well-formed are kept, the others say unknown.
    expect(rn).toMatchObject({ status: 'rejected', runId: 'unknown', stepId: 'pool.get', error: { kind: 'invalid-message', message: expect.stringMatching(/^runId: .+; mode: /) } });
    expect(rn).not.toHaveProperty('attempt');
    const [re] = await resultsFor(b, edge.commandId);
    expect(re).toMatchObject({ status: 'rejected', runId: 'r'.repeat(200), stepId: 'unknown', error: { kind: 'invalid-message' } });
    expect(re).not.toHaveProperty('attempt');
    expect(b.logs.find(([e, f]) => e === 'command.rejected' && f?.commandId === badParams.commandId)?.[1]).toMatchObject({ kind: 'invalid-params', message: rp.error!.message });
    // The poison queue is at-least-once (the copy is written before the original is deleted), and
    // on a loaded machine a 2 s lock can lapse mid-batch, so one message may be dead-lettered
    // twice: wait for the seven distinct messages, not for a count of seven.
    const keyOf = (d: { body: unknown }) => (typeof d.body === 'object' && d.body !== null ? (d.body as CommandMessage).commandId : String(d.body));
    const expected = ['this is not json', '42', badParams.commandId, unknown.commandId, wrongSite.commandId, noId.commandId, edge.commandId];
    await expect.poll(async () => [...new Set((await b.transport.peekDeadLettered('west', 32)).map(keyOf))].sort(), { timeout: 10_000 })
      .toEqual([...expected].sort());
    const dead = await b.transport.peekDeadLettered('west', 32);
    expect(dead.every((d) => d.reason === 'InvalidCommand')).toBe(true);
    expect(dead.find((d) => d.body === 'this is not json')?.description).toBe('invalid-message: body is not JSON');
    expect(dead.find((d) => d.body === 42)?.description).toMatch(/^invalid-message: \(root\): /);
    expect(dead.find((d) => (d.body as CommandMessage).commandId === badParams.commandId)?.description).toMatch(/^invalid-params: /);
    expect(dead.find((d) => (d.body as CommandMessage).commandId === wrongSite.commandId)?.description).toBe('wrong-site: command for site "east" delivered to the worker of "west"');
    expect((await b.sim.state()).executions).toEqual([]);
  }, 40_000);

  it('a hanging command is stopped at its timeout and answered timeout', async () => {
    const b = bench();
    await b.sim.faults.add({ command: 'pool.get', kind: 'hang', remaining: 1 });
    await b.worker();
    const cmd = command('pool.get', { poolFqdn: 'eepool1.contoso.com' }, { timeoutMs: 500 });
    await b.transport.sendCommand(cmd);
    const [r] = await resultsFor(b, cmd.commandId);
    expect(r).toMatchObject({ status: 'timeout', error: { kind: 'timeout', message: expect.stringMatching(/timed out after 500 ms/) } });
  }, 40_000);

  it('stopped while a command hangs: the command is abandoned, and the next worker on the journal answers outcome-unknown, once, then duplicates', async () => {
    const b = bench();
    await b.sim.faults.add({ command: 'pool.failover', kind: 'hang', remaining: 1 });
    const first = await b.worker({ workerId: 'west-first', graceMs: 200 });
    const cmd = command('pool.failover', { poolFqdn: 'eepool1.contoso.com' }, { timeoutMs: 60_000 });
    await b.transport.sendCommand(cmd);
    await expect.poll(async () => (await executionsOf(b, cmd.commandId)).length, { timeout: 10_000 }).toBe(1);
    await first.stop();
    expect(b.logs.map(([e]) => e)).toEqual(expect.arrayContaining(['worker.draining', 'command.abandoned', 'worker.stopped']));
    expect(b.logs.filter(([e]) => e === 'command.unhandled')).toEqual([]);
    await b.worker({ workerId: 'west-second' });
    const [r] = await resultsFor(b, cmd.commandId);
    expect(r).toMatchObject({
      status: 'outcome-unknown', duplicate: false, workerId: 'west-second', startedAt: expect.any(String),
      error: { kind: 'outcome-unknown', message: expect.stringMatching(new RegExp(`^the worker stopped while running this command \\(started \\S+ by west-first, pid ${process.pid}\\); check the estate before retrying$`)) },
    });
    expect(b.logs.find(([e]) => e === 'command.outcome-unknown')?.[1]).toEqual({ commandId: cmd.commandId });
    await b.transport.sendCommand(cmd);
    const [again] = await resultsFor(b, cmd.commandId);
    expect(again).toMatchObject({ status: 'outcome-unknown', duplicate: true });
    expect(await executionsOf(b, cmd.commandId)).toHaveLength(1);
    expect((await b.sim.state()).pools['eepool1.contoso.com'].failedOver).toBe(false);
  }, 60_000);

  it('runs a read-only check after a successful command and answers both; no check after a failure or in what-if; a check that could change the estate is refused', async () => {
    const b = bench();
    await b.worker();
    // What-if first: the pool is still in place, so the command succeeds, and no check follows.
    const whatif = withCheck(command('pool.failover', { poolFqdn: 'eepool1.contoso.com' }, { mode: 'whatif' }), 'pool.get', { poolFqdn: 'eepool1.contoso.com' });
    await b.transport.sendCommand(whatif);
    const [rw] = await resultsFor(b, whatif.commandId);
    const ok = withCheck(command('pool.failover', { poolFqdn: 'eepool1.contoso.com' }), 'pool.get', { poolFqdn: 'eepool1.contoso.com' });
    await b.transport.sendCommand(ok);
    const [r] = await resultsFor(b, ok.commandId);
    expect(r).toMatchObject({ status: 'succeeded', verification: { status: 'succeeded', rendered: expect.stringMatching(/^Get-CsPool -Identity 'eepool1.contoso.com'/), output: [{ Fqdn: 'eepool1.contoso.com' }] } });
    expect(Date.parse(r.verification!.startedAt)).toBeLessThanOrEqual(Date.parse(r.verification!.finishedAt));
    expect(await executionsOf(b, `${ok.commandId}.check`)).toEqual([expect.objectContaining({ name: 'pool.get', outcome: 'succeeded' })]);

    const failed = withCheck(command('pool.failover', { poolFqdn: 'eepool1.contoso.com' }), 'pool.get', { poolFqdn: 'eepool1.contoso.com' });
    const changing = withCheck(command('pool.get', { poolFqdn: 'eepool2.contoso.com' }), 'pool.failover', { poolFqdn: 'eepool2.contoso.com' });
    const unknownCheck = withCheck(command('pool.get', { poolFqdn: 'eepool2.contoso.com' }), 'No-Such', {});
    for (const c of [failed, changing, unknownCheck]) await b.transport.sendCommand(c);
    const [rf] = await resultsFor(b, failed.commandId);
    const [rc] = await resultsFor(b, changing.commandId);
    const [ru] = await resultsFor(b, unknownCheck.commandId);
    expect(rf.status).toBe('failed');
    expect(rw.status).toBe('succeeded');
    expect(rf).not.toHaveProperty('verification');
    expect(rw).not.toHaveProperty('verification');
    expect(rc).toMatchObject({ status: 'rejected', error: { kind: 'invalid-params', message: 'verify: pool.failover is not read-only, and a verification must only read' } });
    expect(ru).toMatchObject({ status: 'rejected', error: { kind: 'unknown-command', message: expect.stringMatching(/^verify: /) } });
    expect((await b.sim.state()).executions.map((e) => e.commandId).filter((id) => id.endsWith('.check'))).toEqual([`${ok.commandId}.check`]);
    expect(await executionsOf(b, changing.commandId)).toEqual([]);
    expect((await b.sim.state()).pools['eepool2.contoso.com'].failedOver).toBe(false);
  }, 60_000);

  it('a claim whose started file is torn (the worker died writing it) is answered outcome-unknown, started at an unknown time', async () => {
    const b = bench();
    const cmd = command('pool.failover', { poolFqdn: 'eepool1.contoso.com' });
    mkdirSync(path.join(b.dir, 'journal'), { recursive: true });
    writeFileSync(path.join(b.dir, 'journal', `${journalKey(cmd.commandId)}.started.json`), '{"commandId":');
    await b.worker();
    await b.transport.sendCommand(cmd);
    const [r] = await resultsFor(b, cmd.commandId);
    expect(r).toMatchObject({ status: 'outcome-unknown', error: { message: 'the worker stopped while running this command (started at an unknown time); check the estate before retrying' } });
    expect(r).not.toHaveProperty('startedAt');
    expect(await executionsOf(b, cmd.commandId)).toEqual([]);
  }, 40_000);

  it('users.moveRecorded takes its users from the list the worker kept: past its end it moves nobody, and without a kept list it is refused', async () => {
    const b = bench();
    await b.worker();
    const list = command('users.listByPool', { registrarPool: 'eepool1.contoso.com' }, { runId: 'run-rec', keep: 'users' });
    await b.transport.sendCommand(list);
    const [listed] = await resultsFor(b, list.commandId);
    // The message carries a bounded part of the 20,000 users and the test user; the worker kept them all.
    expect(listed).toMatchObject({ status: 'succeeded', output: { truncated: true, count: 20_001 } });
    const count = 20_001;
    const past = command('users.moveRecorded', { recorded: 'users', from: count, to: count + 10, targetPoolFqdn: 'eepool2.contoso.com' }, { runId: 'run-rec', attempt: 1 });
    const none = command('users.moveRecorded', { recorded: 'users', from: 0, to: 10, targetPoolFqdn: 'eepool2.contoso.com' }, { runId: 'run-other' });
    const bad = command('users.moveRecorded', { recorded: 'users', from: 10, to: 5, targetPoolFqdn: 'eepool2.contoso.com' }, { runId: 'run-rec' });
    for (const c of [past, none, bad]) await b.transport.sendCommand(c);
    const [rp] = await resultsFor(b, past.commandId);
    const [rn] = await resultsFor(b, none.commandId);
    const [rb] = await resultsFor(b, bad.commandId);
    expect(rp).toMatchObject({ status: 'succeeded', duplicate: false, attempt: 1, runId: 'run-rec', workerId: expect.any(String), output: { moved: 0, recordedCount: count } });
    expect(rn).toMatchObject({ status: 'rejected', error: { kind: 'invalid-params', message: 'users.moveRecorded: this worker kept no list users for run run-other (the read that records it ran elsewhere, or not at all)' } });
    expect(rb).toMatchObject({ status: 'rejected', error: { kind: 'invalid-params', message: expect.stringMatching(/^users\.moveRecorded: .*from\.\.to/) } });
    expect((await b.sim.state()).executions.filter((e) => e.name === 'users.move')).toEqual([]);
  }, 40_000);

  it('a delivery that comes back while the same command still runs (its lock lapsed) is dropped: the one answer is the running one\'s', async () => {
    const b = bench();
    await b.sim.faults.add({ command: 'pool.get', kind: 'hang', remaining: 1 });
    // The lock (2 s) is never renewed in time, so the queue hands the message out again mid-command.
    await b.worker({ lockRenewMs: 60_000 });
    const cmd = command('pool.get', { poolFqdn: 'eepool1.contoso.com' }, { timeoutMs: 5000 });
    await b.transport.sendCommand(cmd);
    await expect.poll(() => b.logs.some(([e, f]) => e === 'command.concurrent-duplicate' && f?.commandId === cmd.commandId), { timeout: 15_000 }).toBe(true);
    const [r] = await resultsFor(b, cmd.commandId);
    expect(r).toMatchObject({ status: 'timeout', duplicate: false });
    expect(await executionsOf(b, cmd.commandId)).toHaveLength(1);
  }, 40_000);

  it('renews the lock of a command that outlasts it, so the queue never hands it out again while it runs', async () => {
    const b = bench();
    await b.sim.faults.add({ command: 'pool.get', kind: 'hang', remaining: 1 });
    await b.worker({ lockRenewMs: 300 });
    const cmd = command('pool.get', { poolFqdn: 'eepool1.contoso.com' }, { timeoutMs: 5000 });
    await b.transport.sendCommand(cmd);
    const [r] = await resultsFor(b, cmd.commandId);
    // It ran 5 s under a 2 s lock: without the renewals the message would have come back twice by now.
    expect(r).toMatchObject({ status: 'timeout' });
    expect(b.logs.filter(([e]) => e === 'command.concurrent-duplicate' || e === 'lock.renew-failed')).toEqual([]);
  }, 40_000);

  it('refuses a concurrency below one', async () => {
    const b = bench();
    await expect(b.worker({ concurrency: 0 })).rejects.toThrow(new RangeError('concurrency must be at least 1'));
  });
});
