// Whether the run holding a lock can still act. A lock row outlives its run when the run was
// terminated through the Durable API, or its release failed: such a lock is stale. It may be
// taken over only when the run is known to have ended with nothing in flight: a step still
// `running` when the run stopped had a command on a worker, which may be running yet.
import { RunSummary } from './contract.js';

export interface HolderState {
  runId: string;
  /** The Durable runtime status, or undefined when no such instance exists (purged). */
  runtimeStatus: string | undefined;
  /**
   * Not known to have ended: Running, Pending, Suspended (it acts again when resumed),
   * ContinuedAsNew, or anything else. Its locks are not stale.
   */
  active: boolean;
  /**
   * Steps whose command may still be running on a worker: running when the run last published,
   * or stopped (waiting for a decision, failed) after an outcome it could not know. Undefined when
   * the run's status cannot be read: nothing is known, so nothing may be assumed.
   */
  inFlight: string[] | undefined;
}

/** Runtime statuses after which an instance never acts again (a Failed one can only be rewound, which this app does not offer). */
const ENDED = ['Completed', 'Failed', 'Terminated', 'Canceled'];

export function holderState(runId: string, status: { runtimeStatus?: unknown; customStatus?: unknown } | undefined): HolderState {
  const runtimeStatus = status?.runtimeStatus === undefined ? undefined : String(status.runtimeStatus);
  // The run lists the steps whose command may still be on a worker (shared/runs/summary.ts mayBeInFlight).
  const custom = RunSummary.safeParse(status?.customStatus);
  const inFlight = custom.success ? custom.data.inFlight : undefined;
  return { runId, runtimeStatus, active: runtimeStatus !== undefined && !ENDED.includes(runtimeStatus), inFlight };
}

/** May a new run take this holder's lock without a person deciding? */
export function takeOverAllowed(h: HolderState): boolean {
  return h.runtimeStatus !== undefined && !h.active && h.inFlight !== undefined && h.inFlight.length === 0;
}

/** Why a lock stays with its holder, in words an operator can act on. */
export function holdReason(lock: string, h: HolderState, since?: string): string {
  const held = `lock ${lock} is held by run ${h.runId}${since ? ` since ${since}` : ''}`;
  if (h.active) return `${held}${h.runtimeStatus && h.runtimeStatus !== 'Running' ? ` (${h.runtimeStatus})` : ''}: only one run may act on it at a time`;
  const ended = h.runtimeStatus ? `ended ${h.runtimeStatus}` : 'no longer exists';
  const inFlight = h.inFlight === undefined ? (h.runtimeStatus ? ' and whose steps cannot be read' : '')
    : h.inFlight.length ? ` with ${h.inFlight.join(', ')} in flight (its command may still be running on the worker)` : '';
  return `${held}, which ${ended}${inFlight}: check the estate, then release it with: lyncdr locks release ${lock} --reason "..."`;
}
