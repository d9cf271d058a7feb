// `lyncdr audit verify|show <run>`: the compliance officer's view of a run's audit trail.
// Exit codes are a contract for scripts: 0 intact, 1 tampered (problems listed), 2 could not
// check (unknown run, bad configuration, storage unreachable) — "could not check" is never 0 or 1.
import type { Command } from 'commander';
import {
  auditConfigFromEnv, createAuditTrail, type AuditEntry, type AuditTrail, type VerifyReport,
} from '../../shared/audit/index.js';

export interface AuditCommandDeps {
  env?: NodeJS.ProcessEnv;
  out?: (text: string) => void;
  err?: (text: string) => void;
  setExitCode?: (code: number) => void;
  /** Builds the trail; tests point it at their own Azurite table. */
  trail?: (env: NodeJS.ProcessEnv, table: string | undefined) => AuditTrail;
}

export const EXIT_INTACT = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_ERROR = 2;

const defaultTrail = (env: NodeJS.ProcessEnv, table: string | undefined): AuditTrail =>
  createAuditTrail({ ...auditConfigFromEnv(table ? { ...env, LYNCDR_AUDIT_TABLE: table } : env) });

export function registerAuditCommands(program: Command, deps: AuditCommandDeps = {}): Command {
  const env = deps.env ?? process.env;
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const err = deps.err ?? ((t: string) => process.stderr.write(t));
  const setExitCode = deps.setExitCode ?? ((c: number) => { process.exitCode = c; });
  const makeTrail = deps.trail ?? defaultTrail;

  const audit = program
    .command('audit')
    .description('inspect and verify the hash-chained audit trail of a run (AzureWebJobsStorage, default Azurite)');

  // Runs an action and turns any failure into exit code 2 with a one-line reason.
  const guarded = (fn: () => Promise<number>) => fn().then(setExitCode, (e: unknown) => {
    err(`lyncdr audit: ${e instanceof Error ? e.message : String(e)}\n`);
    setExitCode(EXIT_ERROR);
  });

  audit
    .command('verify <run>')
    .description('walk the chain of a run; exit 0 intact, 1 tampered, 2 error')
    .option('--json', 'print the verification report as JSON')
    .option('--table <name>', 'audit table (default LYNCDR_AUDIT_TABLE or LyncdrAudit)')
    .action((run: string, opts: { json?: boolean; table?: string }) =>
      guarded(async () => {
        const report = await makeTrail(env, opts.table).verify(run);
        out(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
        return report.ok ? EXIT_INTACT : EXIT_PROBLEMS;
      }));

  audit
    .command('show <run>')
    .description('list the entries of a run (--json: the JSON-lines export)')
    .option('--json', 'print one canonical JSON entry per line')
    .option('--table <name>', 'audit table (default LYNCDR_AUDIT_TABLE or LyncdrAudit)')
    .action((run: string, opts: { json?: boolean; table?: string }) =>
      guarded(async () => {
        const trail = makeTrail(env, opts.table);
        out(opts.json ? await trail.exportRun(run) : formatEntries(run, await trail.readRun(run)));
        return EXIT_INTACT;
      }));

  return audit;
}

// Stored text is untrusted: strip control characters so an entry cannot rewrite the terminal.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

export function formatReport(r: VerifyReport): string {
  const head = r.head ? `head records ${r.head.count} entries (${r.head.alg}), last hash ${r.head.lastHash.slice(0, 16)}…` : 'no head row';
  const anchor = anchorText(r);
  if (r.ok) return `run ${clean(r.runId)}: INTACT: ${r.entries} entries, ${head}\n${anchor}`;
  const lines = r.problems.map((p) => {
    const where = p.seq !== undefined ? `seq ${p.seq}` : clean(p.rowKey ?? '-');
    return `  ${where.padEnd(12)} ${p.type.padEnd(10)} ${clean(p.message)}`;
  });
  return `run ${clean(r.runId)}: TAMPERED: ${r.problems.length} problem(s) in ${r.entries} entries, ${head}\n${lines.join('\n')}\n${anchor}`;
}

/** What the anchor outside the table vouches for, or that there is none to compare with. */
function anchorText(r: VerifyReport): string {
  if (r.anchor === undefined) return '';
  if (r.anchor === null) return '  anchor: none (the run was written before anchors, or its anchor is gone): only the chain was checked\n';
  const last = r.anchor.last;
  const to = last ? `, up to entry ${last.seq} (${clean(last.kind)}, ${clean(last.at)})` : '';
  return `  anchor: ${r.anchor.lines} line(s)${to}${r.anchor.ended ? '; the run ended there' : '; the run had not ended when it was last anchored'}\n`;
}

export function formatEntries(run: string, entries: AuditEntry[]): string {
  const lines = entries.map((e) => {
    const data = JSON.stringify(e.data);
    const brief = data.length > 100 ? `${data.slice(0, 99)}…` : data;
    return [String(e.seq).padStart(4), e.at, e.kind.padEnd(18), e.actor, e.key, brief].map((s) => clean(s)).join('  ');
  });
  return `run ${clean(run)}: ${entries.length} entries (run "lyncdr audit verify ${clean(run)}" to check the chain)\n${lines.join('\n')}\n`;
}
