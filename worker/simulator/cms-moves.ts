// The Central Management Store is read-only while Invoke-CsManagementServerFailover moves it:
// a cmdlet that writes to it (an Edge next hop, Persistent Chat state, active servers, a mirror in
// the topology) fails meanwhile, and a move does not start while such a write is under way. The
// executions log shows what is running; one left "running" by a killed worker counts only for as
// long as a move could take, so a crash does not lock the CMS for good.
import { PreconditionError } from './estate.js';
import type { EstateState } from './state.js';
import { CMS_MOVES, CMS_WRITERS } from '../../shared/commands/cms-writers.js';

/** Refuses `name` when it would overlap a CMS move (or, for a move, a CMS write) begun within `windowMs`. */
export function refuseCmsOverlap(s: EstateState, name: string, commandId: string, now: Date, windowMs: number): void {
  const moving = CMS_MOVES.has(name);
  if (!moving && !CMS_WRITERS.has(name)) return;
  const other = s.executions.find((e) => e.outcome === 'running' && e.commandId !== commandId && e.mode === 'run'
    && now.getTime() - Date.parse(e.startedAt) <= windowMs && (moving ? CMS_WRITERS.has(e.name) : CMS_MOVES.has(e.name)));
  if (!other) return;
  throw moving
    ? new PreconditionError(`The Central Management Store cannot be moved while ${other.name} (${other.commandId}) is writing to it: wait for the write to finish.`, 'ResourceUnavailable')
    : new PreconditionError(`The Central Management Store is read-only while it is being moved (${other.name}, ${other.commandId}): ${name} cannot write to it.`, 'ResourceUnavailable');
}
