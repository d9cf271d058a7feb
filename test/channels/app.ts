// The runs test app (test/runs/app.ts) plus plans for the e-mail channel's tests: a gate, then a
// manual step, then a command that a fault can fail (each run under a lock of its own tag).
import { FIXTURES } from '../runs/app.js';
import { cmd, gate, manual } from '../../orchestrations/runbooks/steps.js';

const targets = { rtoMinutes: 30, rpoMinutes: 30, source: 'test' };

FIXTURES['email-flow'] = (o) => ({
  v: 1, runbook: 'readiness', title: `E-mail flow <${String(o.tag ?? '')}>`, options: o, targets, locks: [`test:email:${String(o.tag ?? '')}`],
  steps: [
    gate('declare', { title: 'Declare the <disaster> & fail over', policy: 'default', reason: 'East is down "for real"', startsRtoClock: true }),
    manual('do-by-hand', { title: 'Remove the old SRV target', instructions: 'Delete the record <eepool1> by hand', estimatedMs: 60_000, timeoutMs: 3_600_000, dependsOn: ['declare'] }),
    { ...cmd('read-fabric', 'pool.fabricState', { poolFqdn: 'eepool2.contoso.com' }, { title: 'Read eepool2 fabric state', site: 'west', dependsOn: ['do-by-hand'] }),
      retry: { maxAttempts: 1, firstIntervalMs: 10, backoffCoefficient: 2 } },
  ],
});

// The gate, then a manual step and a command side by side (the scheduler races their tasks).
FIXTURES['email-parallel'] = (o) => ({
  v: 1, runbook: 'readiness', title: 'E-mail in parallel', options: o, targets, locks: [`test:email-parallel:${String(o.tag ?? '')}`],
  steps: [
    gate('declare', { title: 'Declare', policy: 'default', reason: 'test', startsRtoClock: true }),
    manual('by-hand', { title: 'By hand', instructions: 'Do it', estimatedMs: 60_000, timeoutMs: 3_600_000, dependsOn: ['declare'] }),
    cmd('read-pool', 'pool.get', { poolFqdn: 'eepool2.contoso.com' }, { title: 'Read the backup pool', site: 'west', dependsOn: ['declare'] }),
  ],
});
