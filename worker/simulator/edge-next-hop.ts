// Issue 12 §1: an Edge pool forwards external sign-ins to its next hop. Failing a pool over while
// an Edge pool still names it as next hop leaves remote users pointed at a dead Registrar, so
// seed 004 moves the next hop (Set-CsEdgeServer -Registrar) first; the estate insists on it.
import type { EstateState } from './state.js';
import { poolUp, PreconditionError } from './estate/model.js';

/** Only a failed (unreachable) pool: a planned failover of a live pool is the operator's call. */
export function refusePoolFailoverWhileEdgeRoutesTo(s: EstateState, poolFqdn: string): void {
  if (poolUp(s, poolFqdn)) return;
  const edges = Object.values(s.edges).filter((e) => e.nextHop.toLowerCase() === poolFqdn);
  if (!edges.length) return;
  throw new PreconditionError(
    `Edge pool(s) ${edges.map((e) => e.fqdn).join(', ')} still use "${poolFqdn}" as next hop: point them at the backup pool with Set-CsEdgeServer -Registrar before Invoke-CsPoolFailover.`,
  );
}
