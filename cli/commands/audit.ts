// `lyncdr audit verify|show <run>`: the compliance officer's view of a run's audit trail.
// Exit codes are a contract for scripts: 0 intact, 1 tampered (problems listed), 2 could not
// check (unknown run, bad configuration, storage unreachable) — "could not check" is never 0 or 1.
import type { Command } from 'commander';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  auditConfigFromEnv, createAuditTrail, type AuditEntry, type AuditTrail, type VerifyReport,
} from '../../shared/audit/index.js';
import { makePack, verifyPack } from '../../shared/evidence/pack.js';
import { renderReport } from '../../shared/evidence/report-html.js';
import { evidenceSections } from '../../shared/evidence/build.js';
import { periodReport } from '../../shared/evidence/period.js';
import { renderPeriodReport } from '../../shared/evidence/period-html.js';
import { runbooks } from '../../orchestrations/runbooks/index.js';

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
    .command('verify [run]')
    .description('walk the chain of a run, or check an evidence pack offline (--file); exit 0 intact, 1 tampered, 2 error')
    .option('--json', 'print the verification report as JSON')
    .option('--table <name>', 'audit table (default LYNCDR_AUDIT_TABLE or LyncdrAudit)')
    .option('--file <evidence.json>', 'verify an evidence pack with no storage: its trail, anchor and payloads, and its sections against the trail')
    .action((run: string | undefined, opts: { json?: boolean; table?: string; file?: string }) =>
      guarded(async () => {
        if ((run === undefined) === (opts.file === undefined)) throw new Error('name a run, or an evidence pack with --file, not both');
        // Offline: only the HMAC key is read from the environment, never the storage settings.
        const report = opts.file !== undefined ? verifyPack(await readPackFile(opts.file), hmacKeyFromEnv(env)) : await makeTrail(env, opts.table).verify(run!);
        out(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
        return report.ok ? EXIT_INTACT : EXIT_PROBLEMS;
      }));

  audit
    .command('evidence <run>')
    .description('write DIR/evidence.json and DIR/report.html for a run: exit 0 intact, 1 written but the trail is tampered, 2 nothing written')
    .requiredOption('--out <dir>', 'folder for the two files (created if missing)')
    .option('--force', 'replace evidence.json and report.html already in the folder')
    .option('--table <name>', 'audit table (default LYNCDR_AUDIT_TABLE or LyncdrAudit)')
    .action((run: string, opts: { out: string; force?: boolean; table?: string }) =>
      guarded(async () => {
        const files = [join(opts.out, 'evidence.json'), join(opts.out, 'report.html')];
        if (!opts.force) {
          for (const f of files) if (await exists(f)) throw new Error(`${f} exists: choose another --out folder, or --force to replace it`);
        }
        const trail = makeTrail(env, opts.table);
        // One read: the pack holds exactly the rows its verification checked.
        const snapshot = await trail.snapshot(run);
        const pack = makePack(snapshot, trail.checkSnapshot(snapshot), new Date().toISOString(), 'lyncdr audit evidence');
        const texts = [JSON.stringify(pack, null, 1) + '\n', renderReport(pack)];
        await writeBoth(opts.out, files, texts);
        out(`run ${clean(pack.run.runId)}: ${pack.verification.ok ? 'INTACT' : `TAMPERED (${pack.verification.problems.length} problem(s))`}; ` +
          `${pack.timeline.length} entries, ${pack.approvals.reduce((n, g) => n + g.votes.length, 0)} vote(s), ${pack.commands.length} command(s), ` +
          `${pack.confirmations.length} confirmation(s), ${pack.decisions.length} decision(s), ${pack.deviations.length} deviation(s)\n` +
          `  ${files[0]} (${Buffer.byteLength(texts[0])} bytes)\n  ${files[1]} (${Buffer.byteLength(texts[1])} bytes)\n`);
        return pack.verification.ok ? EXIT_INTACT : EXIT_PROBLEMS;
      }));

  audit
    .command('report')
    .description('the period report: per runbook the last drill, RTO/RPO against targets, failures and what was done; DIR/report.html and DIR/report.json. Exit 0, 1 when a trail of the period does not verify, 2 nothing written')
    .requiredOption('--since <date>', 'start of the period (ISO date or date-time, inclusive)')
    .option('--until <date>', 'end of the period (exclusive; default now)')
    .requiredOption('--out <dir>', 'folder for the two files (created if missing)')
    .option('--force', 'replace report.html and report.json already in the folder')
    .option('--table <name>', 'audit table (default LYNCDR_AUDIT_TABLE or LyncdrAudit)')
    .action((opts: { since: string; until?: string; out: string; force?: boolean; table?: string }) =>
      guarded(async () => {
        const since = isoDate(opts.since, '--since');
        const until = opts.until !== undefined ? isoDate(opts.until, '--until') : new Date().toISOString();
        if (until <= since) throw new Error(`--until ${until} is not after --since ${since}`);
        const files = [join(opts.out, 'report.json'), join(opts.out, 'report.html')];
        if (!opts.force) for (const f of files) if (await exists(f)) throw new Error(`${f} exists: choose another --out folder, or --force to replace it`);
        const trail = makeTrail(env, opts.table);
        // Anchored or written to at or after the start; a schedule's trail is not a run.
        const listed = (await trail.listRuns()).filter((r) => !r.runId.startsWith('schedule-') && [r.lastWrite, r.anchoredAt].some((t) => t !== undefined && t >= since));
        const runs = [];
        for (const [i, r] of listed.entries()) {
          const snapshot = await trail.snapshot(r.runId);
          runs.push({ sections: evidenceSections(snapshot), verification: trail.checkSnapshot(snapshot) });
          if (listed.length > 20 && (i + 1) % 20 === 0) err(`lyncdr audit report: ${i + 1} of ${listed.length} trails read\n`);
        }
        const report = periodReport({ since, until, generatedAt: new Date().toISOString(), table: trail.tableName, catalog: Object.keys(runbooks), runs });
        await writeBoth(opts.out, files, [JSON.stringify(report, null, 1) + '\n', renderPeriodReport(report)]);
        const gaps = report.runbooks.reduce((n, b) => n + b.gaps.length, 0);
        out(`${since} to ${until}: ${report.runs.length} run(s) of ${new Set(report.runs.map((x) => x.runbook)).size} runbook(s); ` +
          `${report.runbooks.reduce((n, b) => n + b.failures.length, 0)} failure(s), ${gaps} gap(s), ${report.tampered.length} trail(s) that do not verify\n  ${files[0]}\n  ${files[1]}\n`);
        return report.tampered.length ? EXIT_PROBLEMS : EXIT_INTACT;
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

/** Both files or neither: each is written aside, then both are renamed into place. */
async function writeBoth(dir: string, files: string[], texts: string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temps = files.map((f) => `${f}.${process.pid}.tmp`);
  try {
    await Promise.all(temps.map((t, i) => writeFile(t, texts[i], 'utf8')));
    for (let i = 0; i < files.length; i++) await rename(temps[i], files[i]);
  } finally {
    await Promise.all(temps.map((t) => rm(t, { force: true })));
  }
}

/** An ISO date or date-time, as the UTC instant it names (a bare date is its midnight UTC). */
function isoDate(text: string, what: string): string {
  const ok = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text);
  const t = ok ? Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text) : NaN;
  if (Number.isNaN(t)) throw new Error(`${what} ${JSON.stringify(text)}: give an ISO date (2026-01-01) or date-time with its offset (2026-01-01T08:00:00Z)`);
  return new Date(t).toISOString();
}

const exists = (f: string) => stat(f).then(() => true, () => false);

/** Only the HMAC key: an offline check must not need (or reach) storage. */
function hmacKeyFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const key = env.LYNCDR_AUDIT_HMAC_KEY || undefined;
  if (key !== undefined && key.length < 32) throw new Error('the audit HMAC key must be at least 32 characters');
  return key;
}

async function readPackFile(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
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
