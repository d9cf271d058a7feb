// A mail server that is down must not stop a run: every notify activity fails, is retried by the
// orchestrator (3 attempts) and then dropped, in the gate, in steps running side by side, and at
// the end; the run is approved and confirmed through the API and succeeds.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, startRunsEnv, stepState, type RunsEnv } from '../runs/support.js';
import { EMAIL_APP, emailSettings } from './support.js';

let env: RunsEnv;
beforeAll(async () => {
  // A port nobody listens on: every connection is refused at once.
  const closed = await new Promise<number>((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
  env = await startRunsEnv({ settings: emailSettings(closed), app: EMAIL_APP });
}, 60_000);
afterAll(async () => { await env?.stop(); });

/** How the instance's notify activities ended, attempt by attempt. */
const notifyOutcomes = async (instance: string) => {
  const h = (await (await fetch(`${env.host.url}/runtime/webhooks/durabletask/instances/${encodeURIComponent(instance)}?showHistory=true`)).json()) as { historyEvents: Array<{ EventType: string; FunctionName?: string; Name?: string }> };
  const ends = h.historyEvents.filter((x) => (x.FunctionName ?? x.Name) === 'notify');
  return { failed: ends.filter((x) => x.EventType === 'TaskFailed').length, completed: ends.filter((x) => x.EventType === 'TaskCompleted').length };
};

describe('the mail server is down', () => {
  it('notifications fail after their retries and are dropped; the run still succeeds', async () => {
    const id = await env.start('operator1', 'readiness', { fixture: 'email-parallel', tag: 'down' });
    await env.waitFor(id, stepState('declare', 'waiting-approval'));
    for (const who of ['alice', 'bob']) expect((await env.vote(who, id, 'approve')).body.outcome).toBe('accepted');
    await env.waitFor(id, stepState('by-hand', 'waiting-confirmation'), 90_000);
    expect((await env.call('operator1', 'POST', `runs/${id}/steps/by-hand/confirm`, {})).status).toBe(202);
    const done = await env.waitFor(id, finished, 90_000);
    expect(done.status.phase).toBe('succeeded');
    expect(done.status.steps['read-pool'].state).toBe('succeeded');
    // Every notify that had mail to send was tried 3 times, then dropped: the gate's when it opened
    // and after the first vote (invitations), the run's for the manual step and the end. Once the
    // gate is approved, e-mail has nothing to send for it (no connection, so they complete).
    expect(await notifyOutcomes(`${id}:gate:declare`)).toEqual({ failed: 2 * 3, completed: 2 });
    expect(await notifyOutcomes(id)).toEqual({ failed: 2 * 3, completed: 0 });
  }, 150_000);
});
