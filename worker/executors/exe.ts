// The DBImpExp.exe runner (Lync 2010 contact lists, runbook 9): the catalog's argument array goes
// to the process as argv, with no shell; the executable is the one configured, never one named
// by a message.
import { validateInvocation, type CommandInvocation } from '../../shared/commands/invocation.js';
import { dbImpExpUserCount } from '../../shared/commands/dbimpexp-output.js';
import { runProcess } from './process.js';
import { refused, type CommandExecutor, type ExecutionContext, type ExecutionResult } from './types.js';

/** Where the Lync 2010 Resource Kit installs it; override with LYNCDR_DBIMPEXP_PATH. */
export const DEFAULT_DBIMPEXP_PATH = 'C:\\Program Files\\Common Files\\Microsoft Lync Server 2010\\Support\\DBImpExp.exe';

/** Switches the catalog builds: /name or /name:value, without quotes or control characters. */
const ARG = /^\/[A-Za-z]+(?::[^"]{1,400})?$/;
const hasControl = (a: string) => [...a].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);

export interface DbImpExpExecutorOptions {
  executable?: string;
  maxOutputBytes?: number;
  env?: NodeJS.ProcessEnv;
}

export class DbImpExpExecutor implements CommandExecutor {
  constructor(private readonly options: DbImpExpExecutorOptions = {}) {}

  async execute(invocation: CommandInvocation, ctx: ExecutionContext): Promise<ExecutionResult> {
    const v = validateInvocation(invocation);
    if (!v.ok) return refused('', `invalid invocation: ${v.error}`, 0, 'precondition');
    if (v.spec.kind !== 'exe') return refused(v.rendered, `${v.command.name} is a ${v.spec.kind} command, not an executable`);
    const bad = v.spec.args.find((a) => !ARG.test(a) || hasControl(a));
    if (bad !== undefined) return refused(v.rendered, `argument ${JSON.stringify(bad.slice(0, 80))} is not a DBImpExp.exe switch`, 0, 'precondition');
    if (ctx.whatIf && v.command.effect !== 'read-only') {
      return { status: 'succeeded', exitCode: null, output: null, stderr: '', durationMs: 0, rendered: v.rendered, skipped: true };
    }
    const r = await runProcess({
      executable: this.options.executable ?? DEFAULT_DBIMPEXP_PATH,
      args: v.spec.args,
      timeoutMs: ctx.timeoutMs,
      maxOutputBytes: this.options.maxOutputBytes ?? 4 * 1024 * 1024,
      ...(this.options.env ? { env: this.options.env } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    const ok = !r.timedOut && !r.spawnError && r.exitCode === 0;
    const users = ok && !r.truncated ? dbImpExpUserCount(r.stdout) : undefined;
    return {
      status: r.timedOut ? 'timeout' : ok ? 'succeeded' : 'failed',
      exitCode: r.exitCode,
      // The count it reports, for the plan's check (an import of 0 users restored nothing).
      output: users === undefined ? null : { Users: users },
      stdout: r.stdout,
      stderr: r.spawnError ? `${r.stderr}cannot start DBImpExp.exe: ${r.spawnError}` : r.stderr || (ok ? '' : `DBImpExp.exe exited with code ${r.exitCode}`),
      durationMs: r.durationMs,
      rendered: v.rendered,
      ...(r.truncated ? { truncated: true } : {}),
      ...(r.timedOut ? { errorKind: 'timeout' as const } : r.spawnError ? { errorKind: 'not-supported' as const } : ok ? {} : { errorKind: 'execution' as const }),
    };
  }
}
