#!/usr/bin/env node
// `npm run drill`: the main job, end to end, on this machine. Brings the local stack up on a
// fresh simulated estate, declares a disaster (East is down), starts the site-failover runbook in
// drill mode, has two approvers (dev identities alice and bob) approve exactly the plan hash they
// are shown, confirms the manual steps as the operator would, follows every step, prints the
// RTO / RPO report, verifies the audit trail, and stops the stack.
//   npm run drill -- [--runbook site-failover] [--option failedSite=East] [--disaster east]
//                    [--time-factor 0.002] [--channel api|teams] [--keep]
import { Command } from 'commander';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { Simulator } from '../worker/simulator/simulator.js';
import { doManualStep } from './manual-steps.js';
import { createAuditTrail } from '../shared/audit/index.js';
import { log, startStack } from './stack.js';
import { driveRun } from './drill-driver.js';
import { mailPeople } from './drill-mail.js';
import { teamsPeople } from './drill-teams.js';
import { describeMeasure } from '../shared/runs/measure.js';

const program = new Command('lyncdr-drill')
  .option('--runbook <name>', 'the runbook to drill', 'site-failover')
  .option('--option <k=v>', 'a runbook option (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('--disaster <target>', "what fails before the drill (a site, pool or SQL server; 'none' for nothing)", 'east')
  .option('--time-factor <x>', 'simulated durations are scaled by this (1 = real time)', '0.002')
  .option('--approvers <ids>', 'the two approvers (dev identities)', 'alice,bob')
  .option('--operator <id>', 'who declares the disaster and confirms manual steps', 'operator')
  .option('--channel <name>', 'how people act: api (the HTTP API, as the CLI), teams (cards and messages through the Teams stand-in) or email (the links mailed to the local SMTP sink: page, then form)', 'api')
  .option('--keep', 'leave the stack running afterwards, and the estate as the drill left it (Ctrl-C stops it)')
  .parse();
const o = program.opts<{ runbook: string; option: string[]; disaster: string; timeFactor: string; approvers: string; operator: string; channel: string; keep?: boolean }>();
if (!['api', 'teams', 'email'].includes(o.channel)) { console.error('--channel is api, teams or email'); process.exit(2); }

const options: Record<string, string | number | boolean> = o.option.length ? {} : o.runbook === 'site-failover' ? { failedSite: 'East' } : {};
for (const kv of o.option) {
  const i = kv.indexOf('=');
  if (i < 1) { console.error(`--option takes key=value, not '${kv}'`); process.exit(2); }
  const v = kv.slice(i + 1);
  options[kv.slice(0, i)] = v === 'true' ? true : v === 'false' ? false : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}
const factor = Number(o.timeFactor);
if (!Number.isFinite(factor) || factor < 0) { console.error('--time-factor must be a non-negative number'); process.exit(2); }
const approvers = o.approvers.split(',').map((s) => s.trim()).filter(Boolean);

const t0 = Date.now();
const clock = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s`;
const say = (m: string) => console.log(`${clock()}  ${m}`);

async function main(): Promise<number> {
  process.env.LYNCDR_SIM_TIME_FACTOR = String(factor);
  // A drill starts from the estate as the topology describes it, with a fresh task hub.
  process.env.LYNCDR_TASK_HUB ??= `Drill${Date.now().toString(36)}`;
  // Its own lock table too: a drill stopped halfway must not leave locks that refuse npm start's runs.
  process.env.LYNCDR_LOCK_TABLE ??= `${process.env.LYNCDR_TASK_HUB}Locks`;
  const stack = await startStack({
    mail: true,
    quietWorkers: true,
    quietHost: true,
    beforeWorkers: async ({ dataDir, topology }) => {
      rmSync(path.join(dataDir, 'worker'), { recursive: true, force: true });
      const sim = new Simulator({ dir: path.join(dataDir, 'sim'), topology });
      await sim.reset(topology);
      if (o.disaster !== 'none') log(`disaster: ${await sim.disaster(o.disaster)}`);
    },
  });
  if (o.channel === 'teams' && !stack.teams) throw new Error('--channel teams needs the Teams stand-in (unset LYNCDR_TEAMS_STANDIN=off)');
  log(`host and worker logs: ${path.relative(process.cwd(), path.join(stack.dataDir, 'logs')) || '.'}`);
  let code = 1;
  if (o.channel === 'email' && !stack.mail) { await stack.stop(); throw new Error('--channel email reads the local SMTP sink: unset LYNCDR_SMTP_HOST'); }
  try {
    const result = await Promise.race([
      driveRun({ url: stack.url, runbook: o.runbook, options, approvers, operator: o.operator, say, doManual: (step) => doManualStep(new Simulator({ dir: path.join(stack.dataDir, 'sim'), topology: stack.topology }), step),
        ...(o.channel === 'teams' ? { people: teamsPeople(stack.teams!) } : o.channel === 'email' ? { people: mailPeople(stack.url, stack.mail!.dir, say) } : {}) }),
      stack.broken.then((why) => { throw new Error(why); }),
    ]);
    const { report, runId } = result;
    say(`run ${runId}: ${report.outcome ?? result.runtimeStatus}${report.error ? ` (${report.error})` : ''}`);
    console.log(`\n  ${describeMeasure('RTO', report.rto, factor)}\n  ${describeMeasure('RPO', report.rpo, factor)}`);
    console.log(`  simulated durations were scaled by ${factor}; wall time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const trail = createAuditTrail({ connectionString: stack.connectionString, tableName: process.env.LYNCDR_AUDIT_TABLE || 'LyncdrAudit' });
    const verify = await trail.verify(runId);
    const anchored = verify.anchor?.ended === true;
    console.log(`  audit trail: ${verify.entries} entries, ${verify.ok ? 'intact (hash chain verified)' : `PROBLEMS: ${verify.problems.map((p) => p.message).join('; ')}`}; ${anchored ? `anchored outside the table up to its end (entry ${verify.anchor!.last!.seq})` : 'NO ANCHOR of the run\'s end'}\n`);
    let channelsOk = true;
    if (o.channel === 'email') {
      // Every vote, confirmation and decision of the run says it came by e-mail.
      const acts = (await trail.readRun(runId)).filter((e) => ['vote', 'manual-confirmed', 'operator-decision'].includes(e.kind));
      const other = acts.filter((e) => (e.data as { channel?: string } | undefined)?.channel !== 'email');
      channelsOk = acts.length > 0 && other.length === 0;
      console.log(`  channel: ${acts.length} votes, confirmations and decisions, ${other.length ? `NOT ALL by e-mail (${other.map((e) => e.key).join(', ')})` : 'every one by e-mail'}\n`);
    }
    code = report.outcome === 'succeeded' && verify.ok && anchored && channelsOk ? 0 : 1;
  } finally {
    if (o.keep) {
      log(`the stack keeps running at ${stack.url} (npx lyncdr runs --as ${o.operator}); Ctrl-C stops it`);
      process.on('SIGINT', () => void stack.stop().then(() => process.exit(code)));
    } else {
      await stack.stop();
      // Leave the lab as the drill found it: `npm start` (and the README's walkthrough) start
      // from the estate the topology describes. --keep leaves it failed over, to look at.
      await new Simulator({ dir: path.join(stack.dataDir, 'sim'), topology: stack.topology }).reset();
      log('the simulated estate is back as the topology describes it (--keep leaves it as the drill left it)');
    }
  }
  return code;
}

main().then((code) => { if (!o.keep) process.exit(code); }, (err) => {
  console.error(`[lyncdr] drill failed: ${(err as Error).message}`);
  process.exit(1);
});
