// A step's verification command rides with the command (CommandMessage.verify): the worker runs
// the read-only check right after the command succeeds and returns both in one result. Here: what
// the estate and the audit trail see, and a check that fails (retried, then an operator decides).
// Workers that predate the field: verification-older-workers.test.ts (one host per test file).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appSettings, runConfigFrom } from '../../shared/config/index.js';
import { ORCHESTRATION } from '../../shared/runs/contract.js';
import { seal } from '../../functions/runs/signing.js';
import { DECISION_KEY, finished, startRunsEnv, stepState, type RunsEnv } from './support.js';

let env: RunsEnv;
beforeAll(async () => { env = await startRunsEnv(); }, 60_000);
afterAll(async () => { await env?.stop(); });

const executionsOf = async (e: RunsEnv, id: string) => (await e.sim.state()).executions.filter((x) => x.commandId.startsWith(`${id}:`));

describe('verification with the command', () => {
  it('one dispatch carries the check; the estate runs the command, then the check, once each; the trail records both', async () => {
    const id = await env.start('operator1', 'readiness', { fixture: 'verified', tag: 'bundled' });
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps.checked).toMatchObject({ state: 'succeeded', attempt: 1 });

    const runs = await executionsOf(env, id);
    expect(runs.map((x) => [x.commandId, x.name, x.outcome])).toEqual([
      [`${id}:checked:1`, 'pool.fabricState', 'succeeded'],
      [`${id}:checked.verify:1`, 'pool.get', 'succeeded'],
    ]);
    expect(Date.parse(runs[1].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[0].finishedAt!));

    const trail = await env.trail.readRun(id);
    const byKey = new Map(trail.map((e) => [e.key, e]));
    expect(trail.filter((e) => e.kind === 'step-dispatched').map((e) => e.key)).toEqual(['step:checked:attempt:1:dispatched']);
    expect(byKey.get('step:checked:attempt:1:dispatched')!.data).toMatchObject({ verify: { commandId: `${id}:checked.verify:1`, invocation: { name: 'pool.get' } } });
    expect(byKey.get('step:checked:attempt:1:result')!.data).toMatchObject({
      status: 'succeeded', verification: { status: 'succeeded', rendered: expect.stringMatching(/^Get-CsPool/), output: [{ Fqdn: 'eepool2.contoso.com' }] },
    });
    expect(byKey.get('step:checked:attempt:1:verified')!.data).toMatchObject({ ok: true });
    // Result then verdict, next to each other in the chain.
    expect(byKey.get('step:checked:attempt:1:verified')!.seq).toBe(byKey.get('step:checked:attempt:1:result')!.seq + 1);
    expect((await env.trail.verify(id)).ok).toBe(true);
  }, 60_000);

  it('a check that fails once: the step is retried (command and check again) and then succeeds', async () => {
    await env.sim.faults.add({ command: 'pool.get', kind: 'fail', remaining: 1 });
    const id = await env.start('operator1', 'readiness', { fixture: 'verified', tag: 'flaky' });
    const done = await env.waitFor(id, finished);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps.checked).toMatchObject({ state: 'succeeded', attempt: 2 });
    const trail = new Map((await env.trail.readRun(id)).map((e) => [e.key, e.data as any]));
    expect(trail.get('step:checked:attempt:1:result')).toMatchObject({ status: 'succeeded', verification: { status: 'failed', error: { message: expect.stringMatching(/Injected fault/) } } });
    expect(trail.get('step:checked:attempt:1:verified')).toMatchObject({ ok: false, error: expect.stringMatching(/^verification command failed: failed/) });
    expect(trail.get('step:checked:attempt:2:verified')).toMatchObject({ ok: true });
    expect((await executionsOf(env, id)).map((x) => `${x.commandId.slice(id.length + 1)} ${x.outcome}`)).toEqual([
      'checked:1 succeeded', 'checked.verify:1 failed', 'checked:2 succeeded', 'checked.verify:2 succeeded',
    ]);
  }, 60_000);

  it('an estate that does not meet the post-condition: retried, then an operator decides', async () => {
    const id = await env.start('operator1', 'readiness', { fixture: 'verified', tag: 'wrong', expectFqdn: 'eepool1.contoso.com' });
    const r = await env.waitFor(id, (x) => stepState('checked', 'waiting-decision')(x) && x.status.steps.checked.lastError !== undefined);
    expect(r.status.steps.checked.attempt).toBe(2);
    expect(r.status.steps.checked.lastError).toMatch(/^verification failed: the pool is eepool2/);
    expect((await env.call('operator2', 'POST', `runs/${id}/steps/checked/decision`, { decision: 'abort', comment: 'wrong site' })).status).toBe(202);
    expect((await env.waitFor(id, finished)).status.phase).toBe('aborted');
  }, 60_000);

  it('a run started before executor version 2 (no executorVersion in its input) keeps the old shape, so it replays as it ran', async () => {
    const { executorVersion: _v2, ...config } = runConfigFrom(appSettings({ ...process.env, ...env.values }));
    const id = `run-v1-${Date.now().toString(36)}`;
    // Sealed with the app's key: a new run may name an older version only so (no downgrade, README Security).
    const input = seal(DECISION_KEY, { kind: 'run', runId: id, target: 'run' }, { runId: id, runbook: 'readiness', options: { fixture: 'verified', tag: 'v1' }, mode: 'drill', requestedBy: 'operator1', requestedAt: new Date().toISOString(), config });
    const res = await fetch(`${env.host.url}/runtime/webhooks/durabletask/orchestrators/${ORCHESTRATION.runPlan}/${id}`, { method: 'POST', body: JSON.stringify(input), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(202);
    expect((await env.waitFor(id, finished)).status.phase).toBe('succeeded');
    const trail = await env.trail.readRun(id);
    expect(trail.map((e) => e.key).filter((k) => k.startsWith('step:'))).toEqual([
      'step:checked:attempt:1:dispatched', 'step:checked:attempt:1:result',
      'step:checked.verify:attempt:1:dispatched', 'step:checked:attempt:1:verify:result', 'step:checked:attempt:1:verified',
    ]);
    expect(trail.find((e) => e.key === 'step:checked:attempt:1:dispatched')!.data).not.toHaveProperty('verify');
    // The activities it scheduled, in order: the check's result and the verdict as two audits at once.
    const history = ((await (await fetch(`${env.host.url}/runtime/webhooks/durabletask/instances/${id}?showHistory=true`)).json()) as { historyEvents: Array<{ EventType: string; FunctionName?: string }> }).historyEvents;
    const scheduled = history.filter((e) => e.EventType === 'TaskScheduled').map((e) => e.FunctionName!.replace(/^runs-/, ''));
    expect(scheduled.slice(scheduled.indexOf('dispatchCommand'))).toEqual(['dispatchCommand', 'audit', 'dispatchCommand', 'audit', 'audit', 'audit', 'audit', 'releaseLocks']);
  }, 60_000);
});
