// `lyncdr lab ...`: look at and disturb the simulated estate the drill workers run against.
// It works on the same state / faults files as the simulator executor, so a fault armed here
// hits the next matching command of a running worker.
import { Command, InvalidArgumentError } from 'commander';
import path from 'node:path';
import { FaultKind } from '../../worker/simulator/faults.js';
import { Simulator } from '../../worker/simulator/simulator.js';
import type { EstateState } from '../../worker/simulator/state.js';
import { loadSimulatorTopology, topologyFile } from '../../worker/simulator/topology.js';
import { registerMailCommands } from './lab-mail.js';
import { registerTeamsLabCommands } from './lab-teams.js';

export interface LabCommandDeps {
  env?: NodeJS.ProcessEnv;
  out?: (text: string) => void;
  setExitCode?: (code: number) => void;
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
const positiveNumber = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
};

function summary(s: EstateState): string {
  const lines: string[] = [];
  lines.push(`sites: ${Object.entries(s.sites).map(([n, x]) => `${n} ${x.up ? 'up' : 'DOWN'}`).join(', ')}`);
  for (const p of Object.values(s.pools)) {
    const up = p.up && (s.sites[p.site]?.up ?? false);
    lines.push(`pool ${p.fqdn} (${p.site}, ${p.edition}${p.backupPool ? `, backup ${p.backupPool}` : ''}): ${up ? 'up' : 'DOWN'}${p.failedOver ? ', FAILED OVER' : ''}`);
  }
  lines.push(`cms: ${s.cms.pool} (${s.cms.sqlServer}${s.cms.sqlInstance ? `\\${s.cms.sqlInstance}` : ''})`);
  for (const e of Object.values(s.edges)) lines.push(`edge ${e.fqdn}: next hop ${e.nextHop}`);
  if (s.pchat && s.pchatSql) {
    lines.push(`pchat ${s.pchat.poolFqdn}: ${s.pchat.state}; active ${s.pchat.activeServers.join(', ') || '(none)'}`);
    const { primary: pri, secondary: sec } = s.pchatSql;
    lines.push(`mgc primary ${pri.server}: ${pri.mgc}${pri.mirror ? ', mirrored' : ''}; secondary ${sec.server}: ${sec.mgc}, last restored log #${sec.lastRestoredSeq}, log shipping ${s.pchatSql.logShipping.configured ? 'on' : 'removed'}${sec.mirror ? ', mirrored' : ''}`);
  }
  for (const [owner, r] of Object.entries(s.dns)) lines.push(`dns ${owner} ${r.type} ${r.records.join(', ')} (ttl ${r.ttl})`);
  lines.push(`executions: ${s.executions.length}${s.executions.length ? ` (last: ${s.executions.at(-1)!.name} ${s.executions.at(-1)!.outcome})` : ''}`);
  return `${lines.join('\n')}\n`;
}

export function registerLabCommands(program: Command, deps: LabCommandDeps = {}): Command {
  const env = deps.env ?? process.env;
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const lab = program.command('lab').description('inspect and disturb the simulated Lync estate used by drills')
    .option('--sim-dir <dir>', 'simulator state directory (default LYNCDR_SIM_DIR or .data/sim)')
    .option('--topology <file>', 'estate topology the simulation is built from when it starts or is reset (default LYNCDR_TOPOLOGY or examples/estate.sample.yaml)');
  const opts = () => lab.opts<{ simDir?: string; topology?: string }>();
  const dir = () => opts().simDir ?? env.LYNCDR_SIM_DIR ?? path.join('.data', 'sim');
  // The topology is read only when needed (a first start or a reset), so `lab state` works without it.
  const sim = () => new Simulator({ dir: dir() });
  const simWithTopology = async (file?: string) => new Simulator({ dir: dir(), topology: await loadSimulatorTopology(topologyFile(file ?? opts().topology, env)) });

  lab.command('state').description('show the estate').option('--json', 'the whole state as JSON')
    .option('--snapshot', "only the estate's durable facts (what a failover -> failback must put back), as JSON")
    .action(async (o: { json?: boolean; snapshot?: boolean }) => {
      const s = await (await simWithTopology()).state();
      if (o.snapshot) out(`${JSON.stringify(await sim().snapshot(), null, 2)}\n`);
      else out(o.json ? `${JSON.stringify({ ...s, faults: await sim().faults.list() }, null, 2)}\n` : summary(s));
    });

  lab.command('reset').description('rebuild the estate from the topology: everything up, nothing failed over, no faults, empty execution log')
    .option('--topology <file>', 'topology to build it from (default: lab --topology, LYNCDR_TOPOLOGY or examples/estate.sample.yaml)')
    .action(async (o: { topology?: string }) => {
      const file = topologyFile(o.topology ?? opts().topology, env);
      await (await simWithTopology(file)).reset();
      out(`estate reset from ${file}\n`);
    });

  lab.command('manual <action> [target]')
    .description('do a manual runbook step in the simulated estate: apply-log-backups (the DBA copies and restores the log backups mgc\'s secondary lacks, as before a retry of pchat-check-log-tail), remove-srv-target <fqdn> (the old target of the SRV record), reestablish-log-shipping (the DBA re-creates log shipping of mgc), restore-rgsconfig (Lync 2010: the DBA restores the lost pool\'s newest RgsConfig backup onto the DR store)')
    .action(async (action: string, target: string | undefined) => {
      if (action === 'apply-log-backups') return out(`${await sim().applyLogBackups()}\n`);
      if (action === 'reestablish-log-shipping') return out(`${await sim().reestablishLogShipping()}\n`);
      if (action === 'restore-rgsconfig') return out(`${await sim().restoreRgsConfig()}\n`);
      if (action === 'remove-srv-target') {
        if (!target) throw new InvalidArgumentError('remove-srv-target needs the target FQDN, e.g. eepool1.contoso.com');
        return out(`${await sim().removeSrvTarget(target)}\n`);
      }
      throw new InvalidArgumentError('action must be apply-log-backups, remove-srv-target <fqdn>, reestablish-log-shipping or restore-rgsconfig');
    });

  lab.command('fault <command> <kind>')
    .description('make the next N executions of a command (catalog name, cmdlet or *) fail | hang | slow | crash')
    .option('--times <n>', 'how many executions', positiveInt, 1)
    .option('--factor <x>', 'for slow: times the normal duration', positiveNumber, 10)
    .action(async (command: string, kind: string, o: { times: number; factor: number }) => {
      const k = FaultKind.safeParse(kind);
      if (!k.success) throw new InvalidArgumentError(`kind must be one of ${FaultKind.options.join(', ')}`);
      await sim().faults.add({ command, kind: k.data, remaining: o.times, factor: o.factor });
      out(`fault armed: ${command} ${k.data} x${o.times}\n`);
    });

  lab.command('disaster <target>').description('take a site or a pool (FQDN) down; --recover brings it back')
    .option('--recover', 'bring it back up')
    .action(async (target: string, o: { recover?: boolean }) => {
      const what = await sim().disaster(target, Boolean(o.recover));
      out(`${what} ${o.recover ? 'recovered' : 'down'}\n`);
    });

  registerMailCommands(lab, deps);
  registerTeamsLabCommands(lab, deps);
  return lab;
}
