// Issue 12 §3: what the estate refuses of a Central Management Store move.
// - The DisasterRecovery parameter set (-BackupSqlServerFqdn, -Force) is for a lost CMS: -Force
//   skips the replication wait, so on a healthy CMS it can drop changes not yet replicated.
// - Normal moves a healthy CMS; it cannot reach a lost one.
// - A CMS move and another CMS write (Edge next hop, pChat active servers, topology) at the same
//   time: the write lands in the store being moved away from, or in neither.
import type { PowerShellSpec } from '../../shared/commands/spec.js';
import { CMS_MOVE, CMS_WRITES } from '../../shared/commands/cms-writes.js';
import type { EstateState } from './state.js';
import { cmsReachable, PreconditionError } from './estate.js';

const hasArg = (spec: PowerShellSpec, name: string) => spec.arguments.some((a) => a.name.toLowerCase() === name.toLowerCase() && !(a.kind === 'switch' && a.value === false));

/** The parameter set a call binds to, refused when it does not fit the CMS's health. */
export function cmsMoveParameterSet(s: EstateState, spec: PowerShellSpec): 'DisasterRecovery' | 'Normal' {
  const disasterSet = hasArg(spec, 'BackupSqlServerFqdn') || hasArg(spec, 'Force');
  const healthy = cmsReachable(s);
  if (disasterSet && healthy) {
    throw new PreconditionError(`The Central Management Store on "${s.cms.pool}" is healthy: use the Normal parameter set (no -BackupSqlServerFqdn, no -Force), which waits for replication; -Force would skip it.`, 'InvalidArgument');
  }
  if (!disasterSet && !healthy) {
    throw new PreconditionError(`The active Central Management Store on "${s.cms.pool}" is unreachable: the Normal parameter set cannot move it; use -BackupSqlServerFqdn ... -Force.`);
  }
  return disasterSet ? 'DisasterRecovery' : 'Normal';
}


/**
 * Refuses `name` while another CMS write is running when one of the two is the CMS move. An entry
 * left `running` by a crashed worker counts until `staleAfterMs` (the longest a move takes).
 */
export function refuseConcurrentCmsWrite(s: EstateState, name: string, commandId: string, now: Date, staleAfterMs: number): void {
  if (!CMS_WRITES.has(name)) return;
  const clash = s.executions.find((e) => e.outcome === 'running' && e.mode === 'run' && e.commandId !== commandId && CMS_WRITES.has(e.name)
    && (e.name === CMS_MOVE) !== (name === CMS_MOVE) && now.getTime() - Date.parse(e.startedAt) <= staleAfterMs);
  if (clash) {
    throw new PreconditionError(`${name === CMS_MOVE ? 'The Central Management Store cannot move' : 'The Central Management Store cannot be written'} while ${clash.name} (${clash.commandId}) is running: CMS moves and CMS writes run one after the other.`, 'ResourceBusy');
  }
}
