// The retry policy of a retry-safe step with a retryable failure: as many attempts as it allows,
// each one not earlier than its interval (firstIntervalMs, times backoffCoefficient per attempt)
// after the failure before it; then an operator decides. And the whole path in a real run: a
// fault injected into a changing step goes retry, then decision, then skip / abort / retry, each
// in the audit trail.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../shared/audit/index.js';
import { finished, startRunsEnv, stepState, type RunsEnv } from './support.js';

let env: RunsEnv;
beforeAll(async () => { env = await startRunsEnv(); }, 60_000);
beforeEach(async () => { await env.sim.faults.clear(); await env.sim.reset(); });
afterAll(async () => { await env?.stop(); });

const ms = (e: AuditEntry | undefined) => Date.parse(String(e?.at));
const byKey = (entries: AuditEntry[]) => new Map(entries.map((e) => [e.key, e]));
const dispatches = (entries: AuditEntry[], step: string) =>
  entries.filter((e) => e.kind === 'step-dispatched' && e.key.startsWith(`step:${step}:attempt:`)).map((e) => e.key);

describe('the retry policy', () => {
  const policy = { maxAttempts: 3, firstIntervalMs: 1500, backoffCoefficient: 2 };
  const start = (tag: string) => env.start('operator1', 'readiness', {
    fixture: 'one-command', tag, site: 'west', command: 'pool.fabricState', params: { poolFqdn: 'eepool2.contoso.com' }, ...policy,
  });

  it('a retry-safe step whose attempts keep failing runs maxAttempts times, each retry not earlier than its backoff interval, then waits for a decision', async () => {
    await env.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: policy.maxAttempts });
    const id = await start('exhausted');
    const r = await env.waitFor(id, (x) => finished(x) || (stepState('step', 'waiting-decision')(x) && x.status.steps.step.lastError !== undefined), 60_000);
    expect(r.status.steps.step, JSON.stringify(r.status.steps.step)).toMatchObject({ state: 'waiting-decision', attempt: policy.maxAttempts, lastError: expect.stringMatching(/Injected fault/) });
    const entries = await env.trail.readRun(id);
    expect(dispatches(entries, 'step')).toEqual([1, 2, 3].map((n) => `step:step:attempt:${n}:dispatched`));
    expect((await env.sim.state()).executions.filter((e) => e.commandId.startsWith(`${id}:`)).map((e) => e.outcome)).toEqual(['failed', 'failed', 'failed']);
    const at = byKey(entries);
    for (const n of [1, 2]) {
      // The failure is recorded, then the durable timer waits; the next dispatch is stamped after it fired.
      const waited = ms(at.get(`step:step:attempt:${n + 1}:dispatched`)) - ms(at.get(`step:step:attempt:${n}:result`));
      expect(waited, `wait before attempt ${n + 1}`).toBeGreaterThanOrEqual(policy.firstIntervalMs * policy.backoffCoefficient ** (n - 1));
    }
    expect(entries.some((e) => e.kind === 'operator-decision')).toBe(false);
    expect((await env.call('operator2', 'POST', `runs/${id}/steps/step/decision`, { decision: 'abort', comment: 'test over' })).status).toBe(202);
    expect((await env.waitFor(id, finished)).status.phase).toBe('aborted');
  }, 90_000);

  it('stops retrying at the first attempt that succeeds', async () => {
    await env.sim.faults.add({ command: 'pool.fabricState', kind: 'fail', remaining: 1 });
    const id = await start('recovers');
    const done = await env.waitFor(id, finished, 60_000);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps.step).toMatchObject({ state: 'succeeded', attempt: 2 });
    const entries = await env.trail.readRun(id);
    expect(dispatches(entries, 'step')).toEqual(['step:step:attempt:1:dispatched', 'step:step:attempt:2:dispatched']);
    const at = byKey(entries);
    expect(ms(at.get('step:step:attempt:2:dispatched')) - ms(at.get('step:step:attempt:1:result'))).toBeGreaterThanOrEqual(policy.firstIntervalMs);
  }, 60_000);
});

describe('a fault in a changing step of a real run: retries, then an operator decides', () => {
  // fe-pool-failover of eepool1: after the declaration, the Edge pool's next hop moves to eepool2
  // (edge.setNextHop: it changes the estate, and is idempotent, so its policy retries it: three
  // attempts). Its retries start after 10 ms instead of 15 s (the test app's retryIntervalMs).
  const EDGE = 'edge-next-hop-edgepool1';
  const failing = async (tag: string, failures: number) => {
    await env.sim.faults.add({ command: 'edge.setNextHop', kind: 'fail', remaining: failures });
    const id = await env.start('operator1', 'fe-pool-failover', { pool: 'eepool1.contoso.com', retryIntervalMs: 10 }, 'live');
    await env.waitFor(id, stepState('declare-disaster', 'waiting-approval'));
    for (const who of ['alice', 'bob']) expect((await env.vote(who, id, 'approve')).body.outcome).toBe('accepted');
    const r = await env.waitFor(id, (x) => finished(x) || (stepState(EDGE, 'waiting-decision')(x) && x.status.steps[EDGE].lastError !== undefined), 60_000);
    expect(r.status.steps[EDGE], `${tag}: ${JSON.stringify(r.status.steps[EDGE])}`).toMatchObject({ state: 'waiting-decision', attempt: 3, lastError: expect.stringMatching(/Injected fault: edge.setNextHop failed/) });
    const entries = await env.trail.readRun(id);
    expect(entries.filter((e) => e.key.startsWith(`step:${EDGE}:`)).map((e) => e.key)).toEqual([1, 2, 3].flatMap((n) => [`step:${EDGE}:attempt:${n}:dispatched`, `step:${EDGE}:attempt:${n}:result`]));
    return id;
  };
  const decide = async (id: string, decision: string) => {
    const res = await env.call('operator2', 'POST', `runs/${id}/steps/${EDGE}/decision`, { decision, comment: `${decision} it` });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
  };
  const decisionEntry = async (id: string, step = EDGE, attempt = 3) => (await env.trail.readRun(id)).find((e) => e.key === `step:${step}:attempt:${attempt}:decision`);

  it('retry: a fourth attempt runs and the failover completes', async () => {
    const id = await failing('retry', 3);
    await decide(id, 'retry');
    const done = await env.waitFor(id, finished, 60_000);
    expect(done.status.phase, JSON.stringify(done.status.steps[EDGE])).toBe('succeeded');
    expect(done.status.steps[EDGE]).toMatchObject({ state: 'succeeded', attempt: 4, decisions: [{ decision: 'retry', by: 'operator2' }] });
    expect(await decisionEntry(id)).toMatchObject({ kind: 'operator-decision', actor: 'operator2', data: { stepId: EDGE, attempt: 3, decision: 'retry', comment: 'retry it' } });
    const keys = (await env.trail.readRun(id)).map((e) => e.key);
    expect(keys).toEqual(expect.arrayContaining([`step:${EDGE}:attempt:4:dispatched`, `step:${EDGE}:attempt:4:result`]));
    expect((await env.trail.readRun(id)).at(-1)?.kind).toBe('run-completed');
    expect((await env.sim.state()).edges['edgepool1.contoso.com'].nextHop).toBe('eepool2.contoso.com');
  }, 120_000);

  it('skip: the step is skipped and recorded; the run goes on without it', async () => {
    const id = await failing('skip', 3);
    await decide(id, 'skip');
    const r = await env.waitFor(id, (x) => x.status.steps[EDGE].state !== 'waiting-decision', 30_000);
    expect(r.status.steps[EDGE]).toMatchObject({ state: 'skipped', attempt: 3, decisions: [{ decision: 'skip', by: 'operator2' }] });
    expect(await decisionEntry(id)).toMatchObject({ kind: 'operator-decision', actor: 'operator2', data: { stepId: EDGE, attempt: 3, decision: 'skip', comment: 'skip it' } });
    expect((await env.trail.readRun(id)).filter((e) => e.key.startsWith(`step:${EDGE}:attempt:4`))).toEqual([]);
    // What depends on it goes on: the pool failover (which waited for the Edge) reads its
    // precondition, and since the Edge pool still routes to eepool1 (seed 004), Invoke-CsPoolFailover
    // is not sent: the step waits for a decision with the read's finding. Then the test ends the run.
    const FO = 'pool-failover-eepool1';
    const held = await env.waitFor(id, (x) => stepState(FO, 'waiting-decision')(x) && x.status.steps[FO].lastError !== undefined, 30_000);
    expect(held.status.steps[FO].lastError).toBe(
      'precondition not met, the command was not sent: no Edge pool\'s next hop is eepool1.contoso.com (Registrar excludes "Registrar:eepool1.contoso.com": got ["Registrar:eepool1.contoso.com","Registrar:eepool2.contoso.com"])');
    const keys = (await env.trail.readRun(id)).map((e) => e.key);
    expect(keys).toContain(`step:${FO}.precheck:attempt:1:dispatched`);
    expect(keys).not.toContain(`step:${FO}:attempt:1:dispatched`);
    await env.call('operator2', 'POST', `runs/${id}/cancel`, { reason: 'test over' });
    await env.waitFor(id, finished, 60_000);
  }, 120_000);

  it('abort: the run ends aborted, the step failed, what depends on it never runs', async () => {
    const id = await failing('abort', 3);
    await decide(id, 'abort');
    const done = await env.waitFor(id, finished, 60_000);
    expect(done.status.phase).toBe('aborted');
    expect(done.status.steps[EDGE]).toMatchObject({ state: 'failed', attempt: 3, decisions: [{ decision: 'abort', by: 'operator2' }] });
    expect(done.status.steps['pool-failover-eepool1'].state).toBe('cancelled');
    const entries = await env.trail.readRun(id);
    expect(await decisionEntry(id)).toMatchObject({ kind: 'operator-decision', actor: 'operator2', data: { stepId: EDGE, attempt: 3, decision: 'abort', comment: 'abort it' } });
    expect(entries.filter((e) => e.key.startsWith('step:pool-failover-eepool1:'))).toEqual([]);
    expect(entries.at(-1)?.kind).toBe('run-aborted');
  }, 120_000);
});
