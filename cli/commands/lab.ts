// `lyncdr lab ...`: look at and disturb the simulated estate the drill workers run against.
// It works on the same state / faults files as the simulator executor, so a fault armed here
// hits the next matching command of a running worker.
import { Command, InvalidArgumentError } from 'commander';
import path from 'node:path';
import { FaultKind } from '../../worker/simulator/faults.js';
import { Simulator } from '../../worker/simulator/simulator.js';
import type { EstateState } from '../../worker/simulator/state.js';

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
  lines.push(`cms: ${s.cms.pool} (${s.cms.sqlServer}\\${s.cms.sqlInstance})`);
  for (const e of Object.values(s.edges)) lines.push(`edge ${e.fqdn}: next hop ${e.nextHop}`);
  lines.push(`pchat ${s.pchat.poolFqdn}: ${s.pchat.state}; active ${s.pchat.activeServers.join(', ') || '(none)'}`);
  const sec = s.pchatSql.secondary;
  lines.push(`mgc primary ${s.pchatSql.primary.server}: ${s.pchatSql.primary.mgc}; secondary ${sec.server}: ${sec.mgc}, last restored log #${sec.lastRestoredSeq}, log shipping ${s.pchatSql.logShipping.configured ? 'on' : 'removed'}${sec.mirror ? ', mirrored' : ''}`);
  lines.push(`executions: ${s.executions.length}${s.executions.length ? ` (last: ${s.executions.at(-1)!.name} ${s.executions.at(-1)!.outcome})` : ''}`);
  return `${lines.join('\n')}\n`;
}

export function registerLabCommands(program: Command, deps: LabCommandDeps = {}): Command {
  const env = deps.env ?? process.env;
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const lab = program.command('lab').description('inspect and disturb the simulated Lync estate used by drills')
    .option('--sim-dir <dir>', 'simulator state directory (default LYNCDR_SIM_DIR or .data/sim)');
  const sim = () => new Simulator({ dir: lab.opts<{ simDir?: string }>().simDir ?? env.LYNCDR_SIM_DIR ?? path.join('.data', 'sim') });

  lab.command('state').description('show the estate').option('--json', 'the whole state as JSON')
    .action(async (o: { json?: boolean }) => {
      const s = await sim().state();
      out(o.json ? `${JSON.stringify({ ...s, faults: await sim().faults.list() }, null, 2)}\n` : summary(s));
    });

  lab.command('reset').description('back to the default estate, no faults, empty execution log')
    .action(async () => {
      await sim().reset();
      out('estate reset\n');
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

  return lab;
}
