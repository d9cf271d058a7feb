// The PowerShell runner: one fresh process per command running the fixed script, with the
// request as JSON on stdin.
import { validateInvocation } from '../../shared/commands/invocation.js';
import type { PowerShellSpec } from '../../shared/commands/spec.js';
import type { CommandInvocation } from '../../shared/commands/invocation.js';
import { ENCODED_POWERSHELL_SCRIPT, REFUSED_EXIT_CODE } from './powershell-script.js';
import { runProcess } from './process.js';
import { refused, type CommandExecutor, type ExecutionContext, type ExecutionResult } from './types.js';

export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export function defaultPowerShellExecutable(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'powershell.exe' : 'pwsh';
}

export interface PowerShellRunOptions {
  executable?: string;
  timeoutMs: number;
  maxOutputBytes?: number;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** The SecretManagement vault credential arguments are read from. */
  secretVault?: string;
}

export interface PowerShellRunResult {
  exitCode: number | null;
  /** Parsed ConvertTo-Json output, or null when there was none or it was not JSON (or was truncated). */
  output: unknown;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  truncated: boolean;
  /** The process could not be started (no pwsh / powershell.exe on this machine). */
  spawnFailed?: boolean;
}

export const POWERSHELL_ARGS: readonly string[] = ['-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand', ENCODED_POWERSHELL_SCRIPT];

function parseJson(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed) return null;
  try {
    return JSON.parse(trimmed);
  } catch {
    return null;
  }
}

export async function runPowerShell(spec: PowerShellSpec, opts: PowerShellRunOptions): Promise<PowerShellRunResult> {
  const request = JSON.stringify({ cmdlet: spec.cmdlet, arguments: spec.arguments, pipeline: spec.pipeline ?? null, secretVault: opts.secretVault ?? null });
  const r = await runProcess({
    executable: opts.executable ?? defaultPowerShellExecutable(),
    args: POWERSHELL_ARGS,
    stdin: request,
    timeoutMs: opts.timeoutMs,
    maxOutputBytes: opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return {
    exitCode: r.exitCode,
    output: r.truncated ? null : parseJson(r.stdout),
    stdout: r.stdout,
    stderr: r.spawnError ? `${r.stderr}${r.spawnError}` : r.stderr,
    durationMs: r.durationMs,
    timedOut: r.timedOut,
    truncated: r.truncated,
    ...(r.spawnError ? { spawnFailed: true } : {}),
  };
}

export interface PowerShellExecutorOptions {
  executable?: string;
  maxOutputBytes?: number;
  env?: NodeJS.ProcessEnv;
  /** The SecretManagement vault holding the test users' credentials (LYNCDR_SECRET_VAULT). */
  secretVault?: string;
}

export const SECRET_VAULT_NOT_CONFIGURED =
  'this worker has no secret vault: set LYNCDR_SECRET_VAULT to the SecretManagement vault that holds the test users\' credentials (README: Test users)';

export class PowerShellExecutor implements CommandExecutor {
  constructor(private readonly options: PowerShellExecutorOptions = {}) {}

  async execute(invocation: CommandInvocation, ctx: ExecutionContext): Promise<ExecutionResult> {
    const v = validateInvocation(invocation);
    if (!v.ok) return refused('', `invalid invocation: ${v.error}`, 0, 'precondition');
    if (v.spec.kind !== 'powershell') return refused(v.rendered, `${v.command.name} is a ${v.spec.kind} command, not PowerShell`);
    if (!this.options.secretVault && v.spec.arguments.some((a) => a.kind === 'credential')) {
      return refused(v.rendered, `${v.command.name}: ${SECRET_VAULT_NOT_CONFIGURED}`);
    }
    let spec = v.spec;
    let rendered = v.rendered;
    if (ctx.whatIf && v.command.effect !== 'read-only') {
      if (!v.command.supportsWhatIf) {
        return { status: 'succeeded', exitCode: null, output: null, stderr: '', durationMs: 0, rendered, skipped: true };
      }
      spec = { ...spec, arguments: [...spec.arguments, { kind: 'switch', name: 'WhatIf', value: true }] };
      rendered = `${rendered} -WhatIf`;
    }
    const r = await runPowerShell(spec, {
      timeoutMs: ctx.timeoutMs,
      ...(this.options.executable ? { executable: this.options.executable } : {}),
      ...(this.options.maxOutputBytes ? { maxOutputBytes: this.options.maxOutputBytes } : {}),
      ...(this.options.env ? { env: this.options.env } : {}),
      ...(this.options.secretVault ? { secretVault: this.options.secretVault } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    const status = r.timedOut ? 'timeout' : r.exitCode === 0 ? 'succeeded' : 'failed';
    return {
      status,
      ...(status === 'succeeded' ? {}
        : { errorKind: r.timedOut ? 'timeout' as const : r.spawnFailed || r.exitCode === REFUSED_EXIT_CODE ? 'not-supported' as const : 'execution' as const }),
      exitCode: r.exitCode,
      output: r.output,
      stdout: r.stdout,
      stderr: r.stderr,
      durationMs: r.durationMs,
      rendered,
      ...(r.truncated ? { truncated: true } : {}),
    };
  }
}
