// SQL against a Front End pool's back-end store, for Lync 2010's Response Group backup: the
// RgsConfig database is backed up with BACKUP DATABASE (Lync 2010 has no Export-CsRgsConfiguration)
// and restored by the administrator with RESTORE DATABASE; msdb's restore history proves it.
import type { SqlSpec } from '../../../shared/commands/spec.js';
import type { EstateState, PoolState } from '../state.js';
import { exportFile, MIN, normPath, poolUp, PreconditionError, S, sameText, type Applied } from './model.js';

function param(spec: SqlSpec, name: string): string | undefined {
  const v = spec.parameters.find((p) => p.name === name)?.value;
  return v === undefined || v === null ? undefined : String(v);
}
const recordsets = (...sets: unknown[][]) => ({ recordsets: sets, rowsAffected: sets.map((r) => r.length) });
const noRows = () => ({ recordsets: [], rowsAffected: [] });
const connectError = (name: string) => new PreconditionError(`A network-related or instance-specific error occurred while establishing a connection to SQL Server '${name}'. The server was not found or was not accessible.`, 'ConnectionError', 53);

/** The pool whose back-end store is this SQL instance; connecting fails like the real client when the pool (or its site) is down. */
function storePool(s: EstateState, server: string, instance: string | undefined): PoolState {
  const name = instance ? `${server}\\${instance}` : server;
  const p = Object.values(s.pools).find((x) => sameText(x.backEnd.server, server) && sameText(x.backEnd.instance, instance));
  if (!p || !poolUp(s, p.fqdn)) throw connectError(name);
  return p;
}

export function runRgsConfigSql(s: EstateState, spec: SqlSpec, now: Date): Applied {
  const p = storePool(s, spec.server, spec.instance);
  const text = spec.statement.replace(/\s+/g, ' ');
  const path = param(spec, 'path');
  if (/\bBACKUP DATABASE\b/i.test(text) && path) {
    exportFile(s, path, 'rgsconfig', p.fqdn, now);
    return { output: noRows(), durationMs: 1 * MIN };
  }
  if (/\bRESTORE DATABASE\b/i.test(text) && /\bFROM DISK\b/i.test(text) && path) {
    if (!s.exports[normPath(path)] || s.exports[normPath(path)].kind !== 'rgsconfig') {
      throw new PreconditionError(`Msg 3201: Cannot open backup device '${path}'. Operating system error 2 (The system cannot find the file specified.)`, 'ObjectNotFound', 3201);
    }
    p.rgsConfigRestore = { file: path, at: now.toISOString() };
    return { output: noRows(), durationMs: 1 * MIN };
  }
  if (/restorehistory/i.test(text)) {
    const r = p.rgsConfigRestore;
    return { output: recordsets(r ? [{ restore_date: r.at, restore_type: 'D', first_lsn: null, last_lsn: null, physical_device_name: r.file }] : []), durationMs: 1 * S };
  }
  throw new PreconditionError(`The simulated estate does not implement this statement on rgsconfig: ${text.slice(0, 200)}`, 'NotImplemented');
}
