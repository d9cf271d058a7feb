// Executor version 13: a command step's check may compare with what the run recorded before (the
// legacy-site-dr contact import against the users its pre-flight listed). A run of version 12
// replays as it ran: its command checks saw no records, so the same check fails there.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appSettings, runConfigFrom } from '../../shared/config/index.js';
import { seal } from '../../functions/runs/signing.js';
import { ORCHESTRATION } from '../../shared/runs/contract.js';
import type { LocalHost } from '../../local/host.js';
import { uniqueName } from '../support/azurite.js';
import { startTestHost } from '../support/host.js';
import { APP, DECISION_KEY, finished, runsClient, runsSettings, startSimWorkers, type SimWorkers } from './support.js';

const prefix = uniqueName('r').toLowerCase().slice(0, 12);
const values = runsSettings(prefix);
let dir: string;
let host: LocalHost;
let west: SimWorkers;
const api = runsClient(() => host.url);

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-recorded-check-'));
  host = await startTestHost({ entry: APP, triggers: true, values });
  west = await startSimWorkers({ prefix, dir, sites: ['west'] });
}, 60_000);
afterAll(async () => {
  await west?.stop();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// The summary says waiting-decision as soon as the step waits; its error comes with the step's row,
// written alongside the wait: settled once both are there.
const settled = (r: any) => finished(r) || (r?.status?.steps?.step?.state === 'waiting-decision' && r.status.steps.step.lastError !== undefined);

async function runAt(executorVersion: number): Promise<any> {
  const id = `run-rc${executorVersion}-${Date.now().toString(36)}`;
  const config = { ...runConfigFrom(appSettings({ ...process.env, ...values })), executorVersion };
  const options = { fixture: 'recorded-check', tag: `v${executorVersion}` };
  const input = seal(DECISION_KEY, { kind: 'run', runId: id, target: 'run' }, { runId: id, runbook: 'readiness', options, mode: 'drill', requestedBy: 'operator1', requestedAt: new Date().toISOString(), config });
  const res = await fetch(`${host.url}/runtime/webhooks/durabletask/orchestrators/${ORCHESTRATION.runPlan}/${id}`, { method: 'POST', body: JSON.stringify(input), headers: { 'content-type': 'application/json' } });
  expect(res.status).toBe(202);
  const r = await api.waitFor(id, settled);
  if (!finished(r)) await api.call('operator1', 'POST', `runs/${id}/steps/step/decision`, { decision: 'abort', comment: 'test done' }).then(() => api.waitFor(id, finished, 20_000)).catch(() => undefined);
  return r;
}

describe('a command step\'s check reads the run\'s records (executor version 13)', () => {
  it('version 13: the check compares with the recorded pool and passes', async () => {
    const r = await runAt(13);
    expect(r.status.steps.step.state, JSON.stringify(r.status.steps.step)).toBe('succeeded');
  }, 60_000);

  it('version 12 replays as it ran: the check had no records, so it fails', async () => {
    const r = await runAt(12);
    expect(r.status.steps.step.state).not.toBe('succeeded');
    expect(r.status.steps.step.lastError).toMatch(/verification failed: PoolFqdn is the recorded pool/);
  }, 60_000);
});
