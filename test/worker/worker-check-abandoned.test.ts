// A bundled check whose executor ignores the abort (a hung PowerShell host, say) must not hold back
// the command's known result: the worker gives the check up shortly after its deadline and answers.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateInvocation } from '../../shared/commands/index.js';
import { ResultMessage, type CommandMessage } from '../../shared/messages.js';
import { FileJournal } from '../../worker/journal.js';
import { Simulator } from '../../worker/simulator/simulator.js';
import { AzuriteQueueTransport } from '../../shared/transport/azurite.js';
import { catalogResolver, HybridWorker } from '../../worker/worker.js';
import type { WorkerExecutor } from '../../worker/execution.js';
import { azurite, uniqueName } from '../support/azurite.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => { for (const s of stops.splice(0)) await s(); });

describe('a check that will not stop', () => {
  it('is given up after its timeout: the command result goes back with a timed-out check', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-check-'));
    const sim = new Simulator({ dir: path.join(dir, 'sim'), timeFactor: 0.001 });
    // pool.get never returns and ignores its abort signal; everything else is the simulator.
    const executor: WorkerExecutor = {
      kind: 'simulator-with-a-stuck-check',
      execute: (inv, ctx) => (inv.name === 'pool.get' ? new Promise(() => undefined) : sim.execute(inv, ctx)),
    };
    const prefix = uniqueName('c').toLowerCase();
    const transport = new AzuriteQueueTransport({ connectionString: azurite(), prefix, pollMs: 50 });
    const worker = new HybridWorker({
      site: 'west', transport: new AzuriteQueueTransport({ connectionString: azurite(), prefix, pollMs: 50 }), executor,
      journal: await FileJournal.open(path.join(dir, 'journal')), resolve: catalogResolver(validateInvocation),
      heartbeatMs: 600_000, probeMs: 600_000, graceMs: 500, log: () => undefined,
    });
    worker.start();
    stops.push(() => worker.stop(), () => transport.close());
    const cmd: CommandMessage = {
      v: 1, commandId: uniqueName('cmd'), runId: 'run-1', stepId: 'read', site: 'west', invocation: { name: 'pool.fabricState', params: { poolFqdn: 'eepool2.contoso.com' } },
      mode: 'drill', timeoutMs: 10_000, sentAt: new Date().toISOString(),
      verify: { commandId: 'run-1:read.verify:1', invocation: { name: 'pool.get', params: { poolFqdn: 'eepool2.contoso.com' } }, timeoutMs: 300 },
    };
    await transport.sendCommand(cmd);
    let result: ResultMessage | undefined;
    const deadline = Date.now() + 20_000;
    while (!result && Date.now() < deadline) {
      const got = await transport.receiveResults({ maxMessages: 1, maxWaitMs: 500 });
      if (got[0]) result = ResultMessage.parse(got[0].body);
    }
    // 300 ms + the 5 s watchdog margin + 2 s to let go.
    expect(result).toMatchObject({ commandId: cmd.commandId, status: 'succeeded', verification: { status: 'timeout', error: { kind: 'timeout' } } });
  }, 30_000);
});
