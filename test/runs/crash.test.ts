// kill -9 of the Functions host in the middle of a site-failover drill. The host runs the real app
// (test/runs/app.ts) as a child process with its queue triggers (results come back through the
// results queue trigger); the East / West workers run in this process on the simulated estate.
// After the host is killed and started again on the same task hub the run must finish, no
// command may have been executed twice (the simulator logs every execution it begins), and the
// audit trail must verify.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditTrail } from '../../shared/audit/index.js';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import { estate } from '../plans/helpers.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { spawnHost, type HostProcess } from '../support/host-process.js';
import { drive, expectSucceeded } from './drive.js';
import { APP, finished, runsClient, runsSettings, startSimWorkers, stepState, type SimWorkers } from './support.js';

const sample = estate('estate.sample.yaml');

type Host = HostProcess;

/** The host as a child process with its triggers on: results come back through the results queue trigger. */
function startHost(hub: string, settings: Record<string, string>): Promise<Host> {
  return spawnHost({ hub, entry: APP, connectionString: azurite(), env: settings, triggers: true });
}

function kill(h: Host | undefined, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (!h || h.child.exitCode !== null || h.child.signalCode) return resolve();
    h.child.once('exit', () => resolve());
    h.child.kill(signal);
  });
}

describe('kill -9 of the host mid-run', () => {
  const prefix = uniqueName('k').toLowerCase().slice(0, 12);
  const hub = uniqueName('Crash');
  const settings = runsSettings(prefix);
  let dir: string;
  let workers: SimWorkers;
  let host: Host | undefined;
  const api = runsClient(() => host!.url);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-crash-'));
    // Slow enough that the host dies with commands in flight and more to come.
    workers = await startSimWorkers({ prefix, dir, timeFactor: 0.004 });
  }, 60_000);
  afterAll(async () => {
    await kill(host, 'SIGTERM');
    await workers?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('site-failover: the run completes after a restart and no command is executed twice', async () => {
    const { sim } = workers;
    await sim.disaster('east');
    host = await startHost(hub, settings);
    const id = await api.start('operator', 'site-failover', { failedSite: 'East' });
    await api.waitFor(id, stepState('declare-disaster', 'waiting-approval'), 30_000);
    const order: string[] = (await api.run(id)).status.order;
    const gateAt = order.indexOf('declare-disaster');
    expect((await api.vote('alice', id, 'approve')).body.outcome).toBe('accepted');
    expect((await api.vote('carol', id, 'approve')).body.gate.status).toBe('approved');

    // Wait until at least 3 command steps after the declaration have succeeded while others still run.
    const afterGate = (r: any) => Object.entries<any>(r.status.steps).filter(([s, st]) => st.kind === 'command' && order.indexOf(s) > gateAt);
    const mid = await api.waitFor(id, (r) => {
      const steps = afterGate(r);
      return steps.filter(([, st]) => st.state === 'succeeded').length >= 3 && steps.some(([, st]) => st.state === 'running');
    }, 30_000);
    expect(finished(mid)).toBe(false);
    const doneBefore = afterGate(mid).filter(([, st]) => st.state === 'succeeded').map(([s]) => s);

    const killed = host;
    await kill(host, 'SIGKILL');
    expect(killed.child.signalCode).toBe('SIGKILL');
    // The workers keep going while the host is down; their results wait in the results queue.
    await new Promise((r) => setTimeout(r, 1000));
    host = await startHost(hub, settings);
    expect(host.resumed).toBeGreaterThanOrEqual(1);

    const { run } = await drive(api, id, {
      // Its manual step (the old SRV target removed) done by drive()'s default.
      sim,
      timeoutMs: 90_000,
    });
    expectSucceeded(run);
    for (const s of doneBefore) expect(run.status.steps[s]).toMatchObject({ state: 'succeeded', attempt: 1 });

    // Exactly one execution per command (and per verification command) of the run, first attempt.
    const executions = (await sim.state()).executions.filter((e) => e.commandId.startsWith(`${id}:`));
    const ids = executions.map((e) => e.commandId);
    expect(new Set(ids).size, JSON.stringify(ids)).toBe(ids.length);
    expect(executions.every((e) => e.outcome === 'succeeded' && e.mode === 'run')).toBe(true);
    const commandSteps = order.filter((s) => run.status.steps[s].kind === 'command');
    // A log-tail step runs its parts under ids of its own (<command id>/history, /restore-<file>, ...).
    // Checks (a step's .verify after it, its .precheck before it) are executions of their own.
    const check = (c: string) => c.includes('.verify:') || c.includes('.precheck:');
    const stepsRun = [...new Set(ids.filter((c) => !check(c)).map((c) => c.slice(id.length + 1).split('/')[0]))];
    expect(stepsRun.sort()).toEqual(commandSteps.map((s) => `${s}:1`).sort());
    expect(ids.filter(check).every((c) => c.endsWith('.verify:1') || c.endsWith('.precheck:1'))).toBe(true);
    // Every precheck of the plan ran, once, before its step.
    const plan = buildPlan('site-failover', sample, { failedSite: 'East' });
    const prechecked = plan.steps.filter((p) => p.kind === 'command' && p.precheck).map((p) => p.id);
    expect(prechecked.length).toBeGreaterThan(3);
    for (const s of prechecked) expect(ids.indexOf(`${id}:${s}.precheck:1`), s).toBeLessThan(ids.indexOf(`${id}:${s}:1`));

    // The estate failed over once: the East pool is served from West, chat is on the West SQL.
    expect(await sim.snapshot()).toMatchObject({
      pools: { 'eepool1.contoso.com': { failedOver: true, usersServedBy: 'eepool2.contoso.com' } },
      pchat: { state: 'FailedOver' },
    });
    const trail = createAuditTrail({ connectionString: azurite(), tableName: settings.LYNCDR_AUDIT_TABLE });
    expect((await trail.verify(id)).ok).toBe(true);
    const dispatched = (await trail.readRun(id)).filter((e) => e.kind === 'step-dispatched').map((e) => e.key);
    expect(new Set(dispatched).size).toBe(dispatched.length);
  }, 180_000);
});
