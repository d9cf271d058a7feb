// The trust boundary for commands: whatever arrives (queue message, plan step, HTTP body)
// is an unknown `{ name, params }` until it has been validated against the catalog.
import { z } from 'zod';
import { getCommand } from './catalog.js';
import type { CommandDefinition } from './define.js';
import type { ExecutionSpec } from './spec.js';

export const CommandInvocation = z.object({
  name: z.string().min(1).max(100),
  params: z.record(z.string(), z.unknown()),
});
export type CommandInvocation = z.infer<typeof CommandInvocation>;

export type ValidatedInvocation = {
  ok: true;
  command: CommandDefinition;
  params: unknown;
  spec: ExecutionSpec;
  rendered: string;
};
export type InvocationError = { ok: false; error: string; issues: Array<{ path: string; message: string }> };

function pathOf(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${String(s)}` : String(s)), '');
}

function fail(issues: Array<{ path: string; message: string }>): InvocationError {
  return { ok: false, error: issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '), issues };
}

export function validateInvocation(input: unknown): ValidatedInvocation | InvocationError {
  const inv = CommandInvocation.safeParse(input);
  if (!inv.success) return fail(inv.error.issues.map((i) => ({ path: pathOf(i.path), message: i.message })));
  const command = getCommand(inv.data.name);
  if (!command) return fail([{ path: 'name', message: `unknown command "${inv.data.name.slice(0, 100)}"` }]);
  const parsed = command.params.safeParse(inv.data.params);
  if (!parsed.success) {
    return fail(parsed.error.issues.map((i) => ({ path: pathOf(['params', ...i.path]), message: i.message })));
  }
  const spec = command.build(parsed.data);
  return { ok: true, command, params: parsed.data, spec, rendered: command.render(parsed.data) };
}
