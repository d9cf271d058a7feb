// A stand-in for '@azure/functions-core', the module only Azure's Node worker provides. The
// @azure/functions library registers every app.* call through it; by answering that require we
// capture exactly the registrations Azure would see, with no second list of functions anywhere.
// Only local/ installs this, and it must be installed before functions/index.js is imported.
import Module from 'node:module';

export interface BindingMetadata {
  type: string;
  direction: 'in' | 'out' | 'inout';
  name?: string;
  [key: string]: unknown;
}

export interface RegisteredFunction {
  name: string;
  bindings: Record<string, BindingMetadata>;
  handler: (...args: unknown[]) => unknown;
  /** The trigger binding (direction 'in', type ending in 'Trigger'). */
  trigger: BindingMetadata & { bindingName: string };
}

export type HookName = 'appStart' | 'appTerminate' | 'preInvocation' | 'postInvocation' | 'log';

interface CoreApiStandIn {
  version: string;
  registerFunction(metadata: { name: string; bindings: Record<string, BindingMetadata> }, callback: (...a: unknown[]) => unknown): { dispose(): void };
  setProgrammingModel(model: unknown): void;
  getProgrammingModel(): unknown;
  registerHook(name: HookName, cb: (...a: unknown[]) => unknown): { dispose(): void };
  log(level: string, category: string, message: string): void;
}

export class FunctionRegistry {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks = new Map<HookName, Array<(...a: unknown[]) => unknown>>();
  programmingModel: unknown;

  byTriggerType(type: string): RegisteredFunction[] {
    return [...this.functions.values()].filter((f) => f.trigger.type === type);
  }

  get(name: string): RegisteredFunction | undefined {
    return this.functions.get(name);
  }
}

let installed: FunctionRegistry | undefined;

/** Installs the stand-in (once per process) and returns the registry it fills. */
export function installFunctionsCore(): FunctionRegistry {
  if (installed) return installed;
  const registry = new FunctionRegistry();
  const api: CoreApiStandIn = {
    version: '3.10.1-lyncdr-local',
    registerFunction(metadata, callback) {
      if (registry.functions.has(metadata.name)) {
        throw new Error(`A function named "${metadata.name}" is already registered`);
      }
      const entry = Object.entries(metadata.bindings).find(([, b]) => b.direction === 'in' && /Trigger$/.test(b.type));
      if (!entry) throw new Error(`Function "${metadata.name}" has no trigger binding`);
      const [bindingName, binding] = entry;
      registry.functions.set(metadata.name, {
        name: metadata.name,
        bindings: metadata.bindings,
        handler: callback,
        trigger: { ...binding, bindingName },
      });
      return { dispose: () => registry.functions.delete(metadata.name) };
    },
    setProgrammingModel(model) {
      registry.programmingModel = model;
    },
    getProgrammingModel() {
      return registry.programmingModel;
    },
    registerHook(name, cb) {
      const list = registry.hooks.get(name) ?? [];
      list.push(cb);
      registry.hooks.set(name, list);
      return { dispose: () => list.splice(list.indexOf(cb), 1) };
    },
    log(level, category, message) {
      if (level === 'error' || level === 'warning' || process.env.LYNCDR_DEBUG) {
        process.stderr.write(`[functions:${category}:${level}] ${message}\n`);
      }
    },
  };
  // Module.prototype.require is what CommonJS packages (like @azure/functions) call; the Azure
  // worker intercepts the same method.
  const proto = (Module as unknown as { prototype: { require: (id: string) => unknown } }).prototype;
  const original = proto.require;
  proto.require = function patchedRequire(this: unknown, id: string) {
    if (id === '@azure/functions-core') return api;
    return original.call(this, id);
  };
  installed = registry;
  return registry;
}
