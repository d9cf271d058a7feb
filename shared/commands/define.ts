import type { z } from 'zod';
import type { ExecutionSpec, PsArgument, PowerShellSpec } from './spec.js';
import { renderSpec } from './render.js';

/** Decides retry safety: read-only and idempotent commands may be retried after a timeout. */
export type Effect = 'read-only' | 'idempotent' | 'non-idempotent';
export type CommandKind = ExecutionSpec['kind'];

// Method syntax (not arrow properties) on purpose: it lets a typed definition sit in the
// catalog beside the others as CommandDefinition<z.ZodType>.
export interface CommandDefinition<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly kind: CommandKind;
  readonly summary: string;
  readonly params: S;
  readonly effect: Effect;
  readonly supportsWhatIf: boolean;
  /** A valid parameter set; tests render it and run it through the reference and injection checks. */
  readonly example: z.input<S>;
  build(params: z.output<S>): ExecutionSpec;
  /** The exact line an administrator would type (display only, never executed). */
  render(params: z.output<S>): string;
}

export function defineCommand<S extends z.ZodType>(def: Omit<CommandDefinition<S>, 'render'>): CommandDefinition<S> {
  return { ...def, render: (params: z.output<S>) => renderSpec(def.build(params)) };
}

export const arg = {
  value: (name: string, value: string | number | string[]): PsArgument => ({ kind: 'value', name, value }),
  switch: (name: string, value = true): PsArgument => ({ kind: 'switch', name, value }),
  null: (name: string): PsArgument => ({ kind: 'null', name }),
  listAdd: (name: string, value: string[]): PsArgument => ({ kind: 'listAdd', name, value }),
  listRemove: (name: string, value: string[]): PsArgument => ({ kind: 'listRemove', name, value }),
  /** A PSCredential from the worker's secret vault, named, never carried. */
  credential: (name: string, secret: string): PsArgument => ({ kind: 'credential', name, secret }),
  /** -Confirm:$false: the runbooks run unattended, so any ShouldProcess prompt must be suppressed. */
  noConfirm: (): PsArgument => ({ kind: 'switch', name: 'Confirm', value: false }),
};

/** Leaves optional arguments out instead of sending empty values. */
export function ps(cmdlet: string, args: ReadonlyArray<PsArgument | false | '' | undefined>, pipeline?: PowerShellSpec['pipeline']): PowerShellSpec {
  return { kind: 'powershell', cmdlet, arguments: args.filter((a): a is PsArgument => Boolean(a)), ...(pipeline ? { pipeline } : {}) };
}
