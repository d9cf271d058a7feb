// Issue 13 §3: a result counts only when the worker of the step's site sent it. Forged results go
// onto the real results queue (Azurite) of a real host; each is audited as refused and the step
// keeps waiting, until the site's own worker (signing with its key) answers and finishes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAuditTrail, type AuditTrail } from '../../shared/audit/index.js';
import type { ResultMessage } from '../../shared/messages.js';
import { signResult } from '../../shared/results/signature.js';
import { AzuriteQueueTransport } from '../../shared/transport/azurite.js';
import type { LocalHost } from '../../local/host.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { startTestHost } from '../support/host.js';
import { resultKey } from '../support/result-keys.js';
import { APP, assertNoTimerHeld, finished, runsClient, runsSettings, startSimWorkers, stepState, type RunsClient, type SimWorkers } from './support.js';

const STEP = 'pairing-eepool2'; // readiness: read on site west, in parallel with the rest
let host: LocalHost;
let client: RunsClient;
let trail: AuditTrail;
let transport: AzuriteQueueTransport;
let workers: SimWorkers | undefined;
let prefix: string;
let dir: string;

beforeAll(async () => {
  prefix = uniqueName('t').toLowerCase().slice(0, 12);
  dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-results-'));
  const values = runsSettings(prefix);
  host = await startTestHost({ entry: APP, triggers: true, values });
  client = runsClient(() => host.url);
  trail = createAuditTrail({ connectionString: azurite(), tableName: values.LYNCDR_AUDIT_TABLE });
  transport = new AzuriteQueueTransport({ connectionString: azurite(), prefix });
}, 60_000);

afterAll(async () => {
  await workers?.stop();
  await transport?.close();
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Entry = Awaited<ReturnType<AuditTrail['readRun']>>[number];
/** The run's entries matching `match`, once there are at least `count` of them. */
async function entries(runId: string, match: (e: Entry) => boolean, count: number, timeoutMs = 30_000): Promise<Entry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await trail.readRun(runId)).filter(match);
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('results from the right worker', () => {
  it('refuses forged, unsigned, mismatched and altered results (each audited), then counts the west worker\'s own', async () => {
    // No worker runs yet: the command waits on west's queue and the step waits for its result.
    const runId = await client.start('operator', 'readiness');
    await client.waitFor(runId, stepState(STEP, 'running'));
    const [dispatched] = await entries(runId, (e) => e.kind === 'step-dispatched' && e.key.startsWith(`step:${STEP}:`), 1);
    expect(dispatched?.data).toMatchObject({ site: 'west' });
    const commandId = (dispatched!.data as { commandId: string }).commandId;

    const base: ResultMessage = {
      v: 1, commandId, runId, stepId: STEP, site: 'west', workerId: 'forger', status: 'succeeded', exitCode: 0,
      output: [{ BackupPoolFqdn: 'eepool1.contoso.com' }], finishedAt: new Date().toISOString(), duplicate: false, attempt: 1,
    };
    const westSigned = signResult(base, resultKey('west'));
    const forgeries: Array<[string, ResultMessage]> = [
      ['unsigned', base],
      // East's worker (or anyone holding east's key) answering a command sent to west.
      ['wrong-site', signResult({ ...base, site: 'east' }, resultKey('east'))],
      ['bad-signature', signResult(base, resultKey('east'))],
      ['bad-signature', { ...westSigned, output: [{ BackupPoolFqdn: 'eepool9.contoso.com' }] }],
      ['wrong-attempt', signResult({ ...base, attempt: 2 }, resultKey('west'))],
      ['unknown-command', signResult({ ...base, commandId: `${runId}:${STEP}:7` }, resultKey('west'))],
      ['wrong-step', signResult({ ...base, stepId: 'cms-location' }, resultKey('west'))],
      ['no-key', signResult({ ...base, site: 'north' }, resultKey('west'))],
    ];
    for (const [, forged] of forgeries) await transport.sendResult(forged);

    const refused = await entries(runId, (e) => e.kind === 'result-refused', forgeries.length);
    expect(refused.map((e) => (e.data as { refusal: string }).refusal).sort()).toEqual(forgeries.map(([why]) => why).sort());
    expect(refused.every((e) => (e.data as { commandId: string }).commandId.startsWith(runId))).toBe(true);
    expect(refused.find((e) => (e.data as { refusal: string }).refusal === 'no-key')?.data).toMatchObject({ reason: expect.stringContaining('LYNCDR_RESULT_KEY_NORTH') });
    expect(refused.find((e) => (e.data as { refusal: string }).refusal === 'unsigned')?.data).toMatchObject({ reason: expect.stringContaining('LYNCDR_RESULT_KEY_WEST') });
    // All eight were taken off the queue and refused: the step is still waiting for west.
    expect((await client.run(runId)).status.steps[STEP].state).toBe('running');

    // The real workers, each signing with its own site's key.
    workers = await startSimWorkers({ prefix, dir });
    const done = await client.waitFor(runId, finished, 60_000);
    expect(done.status.steps[STEP].state).toBe('succeeded');
    const results = (await trail.readRun(runId)).filter((e) => e.kind === 'step-result' && e.key.startsWith(`step:${STEP}:`));
    expect(results.length).toBeGreaterThan(0);
    expect(results.map((e) => e.actor)).not.toContain('forger');
    expect(results[0].data).toMatchObject({ commandId, status: 'succeeded' });
    assertNoTimerHeld(host);
  }, 120_000);
});
