// The real app (functions/index.ts) plus hand-built plans for the scenarios no runbook produces
// on demand (a manual step, a short-timeout gate, a command with a fault armed on it). A run asks
// for one with the option `fixture`; any other run goes to the real runbook builders.
import '../../functions/index.js';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import { cmd, gate, manual } from '../../orchestrations/runbooks/steps.js';
import type { PlanInput } from '../../shared/plan/schema.js';
import { usePlanBuilder } from '../../shared/runs/plan-source.js';

const targets = { rtoMinutes: 30, rpoMinutes: 30, source: 'test' };

export const FIXTURES: Record<string, (o: Record<string, unknown>) => PlanInput> = {
  manual: (o) => ({
    v: 1, runbook: 'readiness', title: 'Manual step', options: o, targets, locks: [String(o.lock ?? 'test:manual')],
    steps: [
      cmd('read-pool', 'pool.get', { poolFqdn: 'eepool2.contoso.com' }, { title: 'Read the backup pool', site: 'west', records: 'pool' }),
      manual('recreate-log-shipping', { title: 'Re-create log shipping', instructions: 'Run the SSMS log shipping wizard', estimatedMs: 60_000, timeoutMs: 3_600_000, dependsOn: ['read-pool'] }),
      cmd('after', 'pool.fabricState', { poolFqdn: 'eepool2.contoso.com' }, { title: 'Read fabric state', site: 'west', dependsOn: ['recreate-log-shipping'] }),
    ],
  }),
  'quick-gate': (o) => ({
    v: 1, runbook: 'readiness', title: 'Gate with short timeouts', options: o, targets, locks: [`test:quick-gate${o.tag ? `:${String(o.tag)}` : ''}`],
    steps: [
      gate('declare', { title: 'Declare the disaster', policy: String(o.policy ?? 'quick'), reason: 'test', startsRtoClock: true }),
      cmd('read-pool', 'pool.get', { poolFqdn: 'eepool2.contoso.com' }, { title: 'Read the backup pool', site: 'west', dependsOn: ['declare'] }),
    ],
  }),
  faulty: (o) => ({
    v: 1, runbook: 'readiness', title: 'A failing step', options: o, targets, locks: [`test:faulty:${String(o.tag ?? '')}`],
    steps: [
      { ...cmd('failing', 'pool.fabricState', { poolFqdn: 'eepool1.contoso.com' }, { title: 'Read eepool1 fabric state', site: 'east' }),
        retry: { maxAttempts: 2, firstIntervalMs: 10, backoffCoefficient: 2 } },
      cmd('after', 'pool.get', { poolFqdn: 'eepool2.contoso.com' }, { title: 'Read the backup pool', site: 'west', dependsOn: ['failing'] }),
    ],
  }),
  // Two gates open at once: a vote must name the one it is for.
  'two-gates': (o) => ({
    v: 1, runbook: 'readiness', title: 'Two gates at once', options: o, targets, locks: [`test:two-gates:${String(o.tag ?? '')}`],
    steps: [
      gate('gate-a', { title: 'First approval', policy: 'default', reason: 'test', startsRtoClock: false }),
      gate('gate-b', { title: 'Second approval', policy: 'default', reason: 'test', startsRtoClock: false }),
      cmd('read-pool', 'pool.get', { poolFqdn: 'eepool2.contoso.com' }, { title: 'Read the backup pool', site: 'west', dependsOn: ['gate-a', 'gate-b'] }),
    ],
  }),
  // A run that waits for its maintenance window (option `startsAt`) before its first command.
  window: (o) => ({
    v: 1, runbook: 'readiness', title: 'A maintenance window', options: o, targets, locks: [`test:window:${String(o.tag ?? '')}`],
    maintenanceWindow: { startsAt: String(o.startsAt), reason: 'off hours' },
    steps: [cmd('read-pool', 'pool.get', { poolFqdn: 'eepool2.contoso.com' }, { title: 'Read the backup pool', site: 'west' })],
  }),
  // One read on East whose retry policy allows three attempts: `retrySafe` and `timeoutMs` come
  // from the options, so a test can build the step no automatic retry may touch.
  'three-attempts': (o) => ({
    v: 1, runbook: 'readiness', title: 'A step with three attempts', options: o, targets, locks: [`test:three-attempts:${String(o.tag ?? '')}`],
    steps: [
      { ...cmd('step', 'pool.fabricState', { poolFqdn: 'eepool1.contoso.com' }, { title: 'Read eepool1 fabric state', site: 'east', timeoutMs: Number(o.timeoutMs ?? 10_000) }),
        retrySafe: o.retrySafe !== false, retry: { maxAttempts: 3, firstIntervalMs: 10, backoffCoefficient: 2 } },
    ],
  }),
  // One catalog command (`command`, `params`, `site`) as the runbooks build it, with the retry
  // policy the options give (`maxAttempts`, `firstIntervalMs`, `backoffCoefficient`).
  'one-command': (o) => {
    const step = cmd('step', o.command as Parameters<typeof cmd>[1], o.params as Record<string, unknown>, { title: `Run ${String(o.command)}`, site: String(o.site) });
    const n = (k: string, d: number) => (o[k] === undefined ? d : Number(o[k]));
    return {
      v: 1, runbook: 'readiness', title: 'One command', options: o, targets, locks: [`test:one-command:${String(o.tag ?? '')}`],
      steps: [{ ...step, retry: { maxAttempts: n('maxAttempts', step.retry.maxAttempts), firstIntervalMs: n('firstIntervalMs', step.retry.firstIntervalMs), backoffCoefficient: n('backoffCoefficient', step.retry.backoffCoefficient) } }],
    };
  },
  // A step whose post-condition is checked by a command of its own (retried once when it fails).
  verified: (o) => ({
    v: 1, runbook: 'readiness', title: 'A verified step', options: o, targets, locks: [`test:verified:${String(o.tag ?? '')}`],
    steps: [
      { ...cmd('checked', 'pool.fabricState', { poolFqdn: 'eepool2.contoso.com' }, {
        title: 'Read eepool2 fabric state', site: 'west',
        verification: {
          description: 'the pool answers as eepool2', command: { name: 'pool.get', params: { poolFqdn: 'eepool2.contoso.com' } },
          expect: [{ path: 'Fqdn', op: 'equals', value: String(o.expectFqdn ?? 'eepool2.contoso.com'), description: 'the pool is eepool2' }],
        },
      }), retry: { maxAttempts: 2, firstIntervalMs: 10, backoffCoefficient: 2 } },
    ],
  }),
  // A command whose check compares with what an earlier step recorded (executor version 13).
  'recorded-check': (o) => ({
    v: 1, runbook: 'readiness', title: 'A check against a record', options: o, targets, locks: [`test:recorded-check:${String(o.tag ?? '')}`],
    steps: [
      cmd('read-pool', 'pool.get', { poolFqdn: 'eepool2.contoso.com' }, { title: 'Read the backup pool', site: 'west', records: 'pool' }),
      { ...cmd('step', 'pool.backupRelationship', { poolFqdn: 'eepool2.contoso.com' }, {
        title: 'Read eepool2 backup relationship', site: 'west', dependsOn: ['read-pool'],
        verification: { description: 'the relationship is of the pool read before', expect: [{ path: 'PoolFqdn', op: 'equals', from: { record: 'pool', path: 'Fqdn' }, description: 'PoolFqdn is the recorded pool' }] },
      }), retry: { maxAttempts: 1, firstIntervalMs: 10, backoffCoefficient: 2 } },
    ],
  }),
};

usePlanBuilder((runbook, topology, options) => {
  const { fixture, retryIntervalMs, ...rest } = options;
  if (typeof fixture === 'string') {
    const f = FIXTURES[fixture];
    if (!f) throw new Error(`no fixture ${fixture}`);
    return f(rest);
  }
  const plan = buildPlan(runbook, topology, rest);
  // A real runbook's plan whose retries start after `retryIntervalMs` (the policies' backoff
  // kept): a test waits milliseconds, not the 15 s an idempotent command's first retry waits.
  if (retryIntervalMs === undefined) return plan;
  return { ...plan, steps: plan.steps.map((s) => (s.kind === 'command' ? { ...s, retry: { ...s.retry, firstIntervalMs: Number(retryIntervalMs) } } : s)) };
});
