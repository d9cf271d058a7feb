// `lyncdr topology validate <file> [--json]`. Exit codes are a contract for scripts:
// 0 valid, 1 the estate breaks rules (every problem listed with its path), 2 the file could
// not be read or parsed.
import type { Command } from 'commander';
import { formatTopologySummary, parseTopology, readTopologyFile, summarizeTopology, TopologyFileError } from '../../shared/topology/index.js';

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;
export const EXIT_UNREADABLE = 2;

export interface TopologyCommandDeps {
  out?: (text: string) => void;
  err?: (text: string) => void;
  setExitCode?: (code: number) => void;
}

export function registerTopologyCommands(program: Command, deps: TopologyCommandDeps = {}): Command {
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const err = deps.err ?? ((t: string) => process.stderr.write(t));
  const setExitCode = deps.setExitCode ?? ((c: number) => { process.exitCode = c; });

  const topology = program.command('topology').description('work with the estate description (topology file, JSON or YAML)');

  topology
    .command('validate <file>')
    .description('check an estate file against the schema and the DR rules; exit 0 valid, 1 problems, 2 unreadable')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      let data: unknown;
      try {
        data = await readTopologyFile(file);
      } catch (e) {
        if (!(e instanceof TopologyFileError)) throw e;
        if (opts.json) out(JSON.stringify({ ok: false, error: e.message }, null, 2) + '\n');
        err(`lyncdr topology: ${e.message}\n`);
        return setExitCode(EXIT_UNREADABLE);
      }
      const result = parseTopology(data);
      if (result.ok) {
        out(opts.json ? JSON.stringify({ ok: true, summary: summarizeTopology(result.topology) }, null, 2) + '\n' : `${file}: valid\n${formatTopologySummary(result.topology)}\n`);
        return setExitCode(EXIT_VALID);
      }
      if (opts.json) out(JSON.stringify({ ok: false, problems: result.problems }, null, 2) + '\n');
      else out(`${file}: ${result.problems.length} problem(s)\n${result.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}\n`);
      return setExitCode(EXIT_INVALID);
    });

  return topology;
}
