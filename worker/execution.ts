// What the worker needs of an executor beyond the catalog's CommandExecutor contract: a name for
// logs and heartbeats, and optional health probes of the estate as this worker sees it.
import type { ProbeResult } from '../shared/messages.js';
import type { CommandExecutor } from './executors/types.js';

export interface WorkerExecutor extends CommandExecutor {
  readonly kind: string;
  probes?(): Promise<ProbeResult[]>;
}

/** Resolves after ms, or rejects with the signal's reason as soon as it aborts. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
