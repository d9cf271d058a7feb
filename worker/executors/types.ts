// The contract between the worker and whatever executes a catalog command: the real
// PowerShell / SQL runners here, and the simulator. Results cross a process boundary
// (worker -> orchestrator), so they are a zod schema, not just a type.
import { z } from 'zod';
import type { CommandInvocation } from '../../shared/commands/invocation.js';

export const ExecutionStatus = z.enum(['succeeded', 'failed', 'timeout']);
export type ExecutionStatus = z.infer<typeof ExecutionStatus>;

/**
 * Why a command did not succeed, as far as the executor can tell: the estate refused it
 * (precondition), it ran and failed (execution), it ran out of time (timeout), or this executor
 * cannot run it at all (not-supported: no SQL configured, no runner for the kind, not modelled).
 */
export const ExecutionErrorKind = z.enum(['precondition', 'execution', 'timeout', 'not-supported']);
export type ExecutionErrorKind = z.infer<typeof ExecutionErrorKind>;

export const ExecutionResult = z.object({
  status: ExecutionStatus,
  /** Process exit code; null when there was no process (SQL, refused, what-if skip) or it was killed. */
  exitCode: z.number().int().nullable(),
  /** Structured output (PowerShell: parsed ConvertTo-Json; SQL: recordsets). */
  output: z.unknown(),
  stdout: z.string().optional(),
  stderr: z.string(),
  durationMs: z.number().nonnegative(),
  /** The line an administrator would have typed, for the audit trail. */
  rendered: z.string(),
  /** True when captured stdout/stderr hit the size cap and were cut. */
  truncated: z.boolean().optional(),
  /** True when what-if was requested and the command was not run because it cannot simulate itself. */
  skipped: z.boolean().optional(),
  /** Set on failures and timeouts by executors that can classify them; absent: treat as 'execution'. */
  errorKind: ExecutionErrorKind.optional(),
});
export type ExecutionResult = z.infer<typeof ExecutionResult>;

export const ExecutionContext = z.object({
  /** Idempotency key of this execution (instance + step); shows up in logs. */
  commandId: z.string().min(1),
  timeoutMs: z.number().int().positive(),
  whatIf: z.boolean(),
});
export type ExecutionContext = z.infer<typeof ExecutionContext> & { signal?: AbortSignal };

export interface CommandExecutor {
  /** Never throws for a command failure: failures come back as status 'failed' / 'timeout'. */
  execute(invocation: CommandInvocation, ctx: ExecutionContext): Promise<ExecutionResult>;
}

/** A refusal before anything ran (invalid invocation, wrong executor for the command kind). */
export function refused(rendered: string, message: string, durationMs = 0, errorKind: ExecutionErrorKind = 'not-supported'): ExecutionResult {
  return { status: 'failed', exitCode: null, output: null, stderr: message, durationMs, rendered, errorKind };
}
