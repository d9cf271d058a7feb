// The InvocationContext the Functions host builds for any trigger: the trigger's metadata and the
// function's extra input bindings filled in (the durable client), so handlers of every kind
// (HTTP, queue, timer, activity) can call df.getClient(context) as they do in Azure.
import { randomUUID } from 'node:crypto';
import { InvocationContext } from './azure-functions.js';
import type { RegisteredFunction } from './functions-core.js';

/** Extra input bindings with their values (e.g. the durable client). */
export type InputResolver = (binding: { type: string; name: string }) => unknown;

export function invocationContext(fn: RegisteredFunction, resolve: InputResolver, triggerMetadata?: Record<string, unknown>): InvocationContext {
  const extraInputs = Object.entries(fn.bindings)
    .filter(([name, b]) => b.direction === 'in' && name !== fn.trigger.bindingName)
    .map(([name, b]) => ({ ...b, name }));
  const extraOutputs = Object.entries(fn.bindings)
    .filter(([name, b]) => b.direction === 'out' && name !== '$return')
    .map(([name, b]) => ({ ...b, name }));
  const ctx = new InvocationContext({
    functionName: fn.name,
    invocationId: randomUUID(),
    triggerMetadata,
    options: { trigger: { ...fn.trigger, name: fn.trigger.bindingName } as never, extraInputs: extraInputs as never, extraOutputs: extraOutputs as never },
  });
  for (const input of extraInputs) {
    const value = resolve(input);
    if (value !== undefined) ctx.extraInputs.set(input.name, value);
  }
  return ctx;
}

