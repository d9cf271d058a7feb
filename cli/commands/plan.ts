// `lyncdr plan <runbook> [--topology <file>] [--option key=value ...] [--markdown] [--json]`:
// builds, validates and shows a runbook's plan offline (no stack, no worker). A failback's
// `--from-run <failover run>` is the exception: it reads that run's records from the app. Exit codes are a
// contract for scripts: 0 shown, 1 the topology breaks rules (every problem listed) or the built
// plan is invalid, 2 bad runbook name, bad option, or an unreadable topology file.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { z } from 'zod';
import { parseTopology, readTopologyFile, TopologyFileError } from '../../shared/topology/index.js';
import { forecastRto, planHash, renderWhatIf, validatePlan } from '../../shared/plan/index.js';
import { buildPlan, PlanBuildError, runbookEntry, runbooks } from '../../orchestrations/runbooks/index.js';
import { recordedFromFailover } from '../../orchestrations/runbooks/recorded.js';
import { appRequest, type AppTarget } from '../app-request.js';

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

export interface PlanCommandDeps {
  out?: (text: string) => void;
  err?: (text: string) => void;
  setExitCode?: (code: number) => void;
  env?: NodeJS.ProcessEnv;
}

/** The sample estate, found from both the source tree (tsx) and the build (dist/). */
function defaultTopologyFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../examples/estate.sample.yaml'), path.resolve(here, '../../../examples/estate.sample.yaml')];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

class OptionError extends Error {}

/** The parts of a zod 4 schema definition the option parser looks at. */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema as z.ZodType & { _zod: { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } } };
  // optional / default / nullable wrap the type; a pipe (a transform such as fqdn) starts with its input.
  for (;;) {
    const def = s._zod.def;
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') && def.innerType) s = def.innerType as typeof s;
    else if (def.type === 'pipe' && def.in) s = def.in as typeof s;
    else return s;
  }
}

function coerceScalar(schema: z.ZodType, raw: string): unknown {
  const type = (unwrap(schema) as unknown as { _zod: { def: { type: string } } })._zod.def.type;
  if (type === 'boolean') {
    if (raw === 'true' || raw === 'false') return raw === 'true';
    return raw;
  }
  if (type === 'number' && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

/**
 * Turns `key=value` pairs into the runbook's options: dotted keys nest (recorded.activeServers=...),
 * a record's key may itself contain dots (recorded.edgeNextHops.edge1.contoso.com=...), arrays are
 * comma-separated, booleans and numbers are converted where the schema wants them, and a value
 * starting with [ or { is JSON.
 */
export function optionsFromPairs(schema: z.ZodType, pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new OptionError(`--option ${pair}: expected key=value`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    let node: z.ZodType | undefined = schema;
    let target = out;
    const segments = key.split('.');
    for (let i = 0; i < segments.length; i++) {
      const u: z.ZodType | undefined = node ? unwrap(node) : undefined;
      const def: SchemaDef | undefined = (u as unknown as { _zod?: { def: SchemaDef } } | undefined)?._zod?.def;
      let seg = segments[i];
      let last = i === segments.length - 1;
      if (def?.type === 'record') {
        seg = segments.slice(i).join('.');
        last = true;
        node = def.valueType;
      } else {
        node = def?.type === 'object' ? def.shape?.[seg] : undefined;
      }
      if (seg === '__proto__' || seg === 'constructor' || seg === 'prototype') throw new OptionError(`--option ${key}: not an option name`);
      if (last) {
        const leaf = node ? (unwrap(node) as unknown as { _zod: { def: { type: string; element?: z.ZodType } } })._zod.def : undefined;
        let value: unknown;
        if (/^[[{]/.test(raw)) {
          try {
            value = JSON.parse(raw);
          } catch (e) {
            throw new OptionError(`--option ${key}: not valid JSON: ${(e as Error).message}`);
          }
        } else if (leaf?.type === 'array') {
          value = raw === '' ? [] : raw.split(',').map((v) => coerceScalar(leaf.element!, v.trim()));
        } else {
          value = node ? coerceScalar(node, raw) : raw;
        }
        target[seg] = value;
        break;
      }
      const next = target[seg];
      if (next === undefined) target[seg] = {};
      else if (typeof next !== 'object' || next === null || Array.isArray(next)) throw new OptionError(`--option ${key}: ${segments.slice(0, i + 1).join('.')} is already set to a value`);
      target = target[seg] as Record<string, unknown>;
      if (i === segments.length - 1) break;
    }
  }
  return out;
}

export function registerPlanCommands(program: Command, deps: PlanCommandDeps = {}): Command {
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const err = deps.err ?? ((t: string) => process.stderr.write(t));
  const setExitCode = deps.setExitCode ?? ((c: number) => { process.exitCode = c; });
  const env = deps.env ?? process.env;

  return program
    .command('plan <runbook>')
    .description(`build and show a runbook's plan offline (what-if); runbooks: ${Object.keys(runbooks).join(', ')}`)
    .option('--topology <file>', 'estate file (default: $LYNCDR_TOPOLOGY, else examples/estate.sample.yaml)')
    .option('--option <key=value>', 'a runbook option; repeat for more (e.g. --option pool=eepool1.contoso.com)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--markdown', 'print the what-if as Markdown')
    .option('--json', 'print the plan, its hash and the RTO forecast as JSON')
    .option('--from-run <run>', 'a failback: restore what this failover run recorded (asks the app: --url, --as, --token)')
    .option('--url <url>', 'with --from-run: the app (default LYNCDR_URL or http://127.0.0.1:7071)')
    .option('--as <user>', 'with --from-run: who you are (local dev identity; default LYNCDR_USER)')
    .option('--token <token>', 'with --from-run: an Entra access token for the app in Azure (default LYNCDR_TOKEN)')
    .action(async (runbook: string, opts: { topology?: string; option: string[]; markdown?: boolean; json?: boolean; fromRun?: string; url?: string; as?: string; token?: string }) => {
      const fail = (code: number, message: string): void => {
        if (opts.json) out(JSON.stringify({ ok: false, error: message }, null, 2) + '\n');
        err(`lyncdr plan: ${message}\n`);
        setExitCode(code);
      };
      let options: Record<string, unknown>;
      try {
        options = optionsFromPairs(runbookEntry(runbook).options, opts.option);
      } catch (e) {
        if (e instanceof PlanBuildError || e instanceof OptionError) return fail(EXIT_USAGE, e.message);
        throw e;
      }
      if (opts.fromRun) {
        // The only part that is not offline: the failover run's records, through the runs API.
        const got = await failoverRun(opts.fromRun, opts, env);
        if (!got.ok) return fail(EXIT_USAGE, got.error);
        const r = recordedFromFailover(runbook, opts.fromRun, got.run);
        if (!r.ok) return fail(EXIT_USAGE, r.error);
        options.recorded = r.recorded;
      }
      // An empty LYNCDR_TOPOLOGY counts as unset (a shell's `LYNCDR_TOPOLOGY= lyncdr ...`).
      const file = opts.topology ?? (env.LYNCDR_TOPOLOGY || defaultTopologyFile());
      let data: unknown;
      try {
        data = await readTopologyFile(file);
      } catch (e) {
        if (e instanceof TopologyFileError) return fail(EXIT_USAGE, e.message);
        throw e;
      }
      const topo = parseTopology(data);
      if (!topo.ok) {
        if (opts.json) out(JSON.stringify({ ok: false, topology: file, problems: topo.problems }, null, 2) + '\n');
        err(`lyncdr plan: ${file}: the topology has ${topo.problems.length} problem(s)\n${topo.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}\n`);
        return setExitCode(EXIT_INVALID);
      }
      let plan;
      try {
        plan = buildPlan(runbook, topo.topology, options);
      } catch (e) {
        if (e instanceof PlanBuildError) return fail(EXIT_USAGE, e.message);
        throw e;
      }
      const v = validatePlan(plan);
      if (!v.ok) {
        // A builder produced something the contract refuses: a bug, never shown as runnable.
        return fail(EXIT_INVALID, `the ${runbook} builder produced an invalid plan: ${v.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
      }
      const hash = planHash(v.plan);
      if (opts.json) out(JSON.stringify({ ok: true, topology: file, hash, rto: forecastRto(v.plan), plan: v.plan }, null, 2) + '\n');
      else out(renderWhatIf(v.plan, { format: opts.markdown ? 'markdown' : 'text', hash }));
      return setExitCode(EXIT_OK);
    });
}

type FailoverRun = { runbook?: string; outcome?: string; records?: Record<string, unknown>; options?: Record<string, unknown> };

/** GET /api/runs/{run}: the failover's report (runbook, outcome, records) and its options. */
async function failoverRun(id: string, o: AppTarget, env: NodeJS.ProcessEnv): Promise<{ ok: true; run: FailoverRun } | { ok: false; error: string }> {
  let res: Response;
  try {
    res = await appRequest(o, env, 'GET', `runs/${encodeURIComponent(id)}`);
  } catch (e) {
    return { ok: false, error: `--from-run: ${(e as Error).message}` };
  }
  const body = (await res.json().catch(() => ({}))) as { error?: string; options?: Record<string, unknown>; report?: Omit<FailoverRun, 'options'> };
  if (!res.ok) return { ok: false, error: `--from-run ${id}: ${body.error ?? `HTTP ${res.status}`}` };
  return { ok: true, run: { ...(body.report ?? {}), ...(body.options ? { options: body.options } : {}) } };
}
