// SQL against the Persistent Chat stores: log shipping, restores, backups, mirroring, sessions.
// Output is mssql's `{ recordsets, rowsAffected }`.
import type { SqlSpec } from '../../../shared/commands/spec.js';
import { lsn, type EstateState, type LogBackupFile, type PchatSqlState } from '../state.js';
import { runRgsConfigSql } from './rgsconfig-sql.js';
import { MIN, needPchat, normPath, pathReachable, PreconditionError, requireShareReachable, S, sameText, siteUp, splitWin, sqlHost, type Applied, type SqlHost } from './model.js';

function param(spec: SqlSpec, name: string): string | number | null | undefined {
  return spec.parameters.find((p) => p.name === name)?.value;
}
/** mssql's result shape: one recordset per SELECT, rows affected per statement. */
const recordsets = (...sets: unknown[][]) => ({ recordsets: sets, rowsAffected: sets.map((r) => r.length) });
const noRows = () => ({ recordsets: [], rowsAffected: [] });

/** Where a backup file named by a server-side path lives: the share (any server), or the secondary's copy folder. */
function logFileAt(s: EstateState, sql: PchatSqlState, host: SqlHost, fullPath: string): LogBackupFile | undefined {
  const { folder, name } = splitWin(fullPath);
  const inFolder = (files: LogBackupFile[]) => files.find((f) => f.name.toLowerCase() === name.toLowerCase());
  if (normPath(folder) === normPath(sql.backupShare.path)) {
    requireShareReachable(s, fullPath);
    return inFolder(sql.backupShare.files);
  }
  if (normPath(folder) === normPath(sql.copyFolder.path) && host === sql.secondary) return inFolder(sql.copyFolder.files);
  return undefined;
}
const cannotOpen = (p: string) => new PreconditionError(`Msg 3201: Cannot open backup device '${p}'. Operating system error 2 (The system cannot find the file specified.)`, 'ObjectNotFound', 3201);

/** Sessions on mgc: the active pChat servers' connections to the database pChat is using. */
function sessions(s: EstateState, host: SqlHost): Array<Record<string, unknown>> {
  const pc = s.pchat;
  const sql = s.pchatSql;
  if (!pc || !sql || host.mgc !== 'ONLINE') return [];
  const inUse = pc.state === 'Normal' ? sql.primary : sql.secondary;
  if (inUse !== host) return [];
  return pc.activeServers.filter((a) => { const m = pc.servers.find((x) => x.fqdn === a); return m && m.up && siteUp(s, m.site); })
    .map((srv, i) => ({ spid: 60 + i, loginame: 'CONTOSO\\RTCComponentUniversalServices', hostname: srv.split('.')[0].toUpperCase(), program_name: 'Persistent Chat', status: 'sleeping' }));
}

export function runSql(s: EstateState, spec: SqlSpec, now: Date): Applied {
  // RgsConfig lives on a Front End pool's store, not on the Persistent Chat SQL servers.
  if (param(spec, 'database') === 'rgsconfig') return runRgsConfigSql(s, spec, now);
  const { sql } = needPchat(s);
  const host = sqlHost(s, spec.server, spec.instance);
  const text = spec.statement.replace(/\s+/g, ' ');
  const isSecondary = host === sql.secondary;
  const ls = sql.logShipping;
  const database = String(param(spec, 'database') ?? spec.identifiers.database ?? 'mgc');
  // BACKUP / RESTORE to or from a share in a lost site: SQL Server cannot open the device.
  const device = param(spec, 'path');
  if (typeof device === 'string' && !pathReachable(s, device)) {
    throw new PreconditionError(`Msg 3201: Cannot open backup device '${device}'. Operating system error 53(The network path was not found.).`, 'ConnectionError', 3201);
  }

  if (/log_shipping_monitor_secondary/i.test(text)) {
    // After sp_delete_log_shipping_secondary_database the monitor history is gone: no rows.
    const rows = isSecondary && ls.monitor && database === 'mgc'
      ? [{
        secondary_server: host.instance ? `${host.server}\\${host.instance}` : host.server, secondary_database: 'mgc', primary_server: sql.primary.instance ? `${sql.primary.server}\\${sql.primary.instance}` : sql.primary.server, primary_database: 'mgc', ...ls.monitor,
        // Minutes from the last restored backup's copy to its restore, and SQL's default alert threshold.
        last_restored_latency: ls.monitor.last_copied_date_utc && ls.monitor.last_restored_date_utc
          ? Math.max(0, Math.round((Date.parse(ls.monitor.last_restored_date_utc) - Date.parse(ls.monitor.last_copied_date_utc)) / 60_000)) : null,
        restore_threshold: 45,
      }]
      : [];
    return { output: recordsets(rows), durationMs: 1 * S };
  }
  if (/sp_help_log_shipping_secondary_database/i.test(text)) {
    const rows = isSecondary && ls.configured && ls.monitor
      ? [{ secondary_database: 'mgc', backup_source_directory: sql.backupShare.path, backup_destination_directory: sql.copyFolder.path, restore_mode: 0, disconnect_users: 0, ...ls.monitor }]
      : [];
    return { output: recordsets(rows), durationMs: 1 * S };
  }
  if (/sp_delete_log_shipping_secondary_database/i.test(text)) {
    if (!isSecondary || !ls.configured) throw new PreconditionError("Msg 32010: Database 'mgc' does not exist as a log-shipping secondary database on this server.", 'InvalidOperation', 32010);
    ls.configured = false;
    ls.monitor = null;
    return { output: noRows(), durationMs: 5 * S };
  }
  if (/restorehistory/i.test(text)) {
    const r = database === 'mgc' ? host.lastRestore : undefined;
    return {
      output: recordsets(r ? [{ restore_date: r.at, restore_type: r.type, first_lsn: r.firstLsn, last_lsn: r.lastLsn, physical_device_name: r.file }] : []),
      durationMs: 1 * S,
    };
  }
  if (/RESTORE HEADERONLY/i.test(text)) {
    const p = String(param(spec, 'path'));
    const log = logFileAt(s, sql, host, p);
    if (log) {
      return { output: recordsets([{ BackupName: null, BackupType: 2, DatabaseName: 'mgc', FirstLSN: lsn(log.seq), LastLSN: lsn(log.seq + 1), BackupFinishDate: log.createdAt, ServerName: sql.primary.server }]), durationMs: 2 * S };
    }
    const full = sql.fullBackups.find((b) => sameText(b.path, p));
    if (full) return { output: recordsets([{ BackupName: null, BackupType: 1, DatabaseName: full.database, BackupFinishDate: full.takenAt, ServerName: full.fromServer }]), durationMs: 2 * S };
    throw cannotOpen(p);
  }
  if (/\bRESTORE LOG\b/i.test(text)) {
    const p = String(param(spec, 'path'));
    if (!isSecondary) throw new PreconditionError(`Msg 4306: The preceding restore operation did not specify WITH NORECOVERY: mgc on ${host.server} is not restoring. RESTORE LOG is terminating abnormally.`, 'InvalidOperation', 4306);
    if (sql.secondary.recovered) {
      throw new PreconditionError('Msg 4306: The preceding restore operation did not specify WITH NORECOVERY or WITH STANDBY. Restart the restore sequence, specifying WITH NORECOVERY or WITH STANDBY for all but the final step. RESTORE LOG is terminating abnormally.', 'InvalidOperation', 4306);
    }
    if (sql.secondary.mgc === 'ONLINE') {
      throw new PreconditionError('Msg 3117: The log or differential backup cannot be restored because no files are ready to rollforward. RESTORE LOG is terminating abnormally.', 'InvalidOperation', 3117);
    }
    const f = logFileAt(s, sql, host, p);
    if (!f) throw cannotOpen(p);
    const next = sql.secondary.lastRestoredSeq + 1;
    if (f.seq > next) {
      throw new PreconditionError(`Msg 4305: The log in this backup set begins at LSN ${lsn(f.seq)}, which is too recent to apply to the database. An earlier log backup that includes LSN ${lsn(next)} can be restored.`, 'InvalidOperation', 4305);
    }
    if (f.seq < next) {
      throw new PreconditionError(`Msg 4326: The log in this backup set terminates at LSN ${lsn(f.seq + 1)}, which is too early to apply to the database. A more recent log backup that includes LSN ${lsn(next)} can be restored.`, 'InvalidOperation', 4326);
    }
    sql.secondary.lastRestoredSeq = f.seq;
    sql.secondary.lastRestore = { file: p, type: 'L', at: now.toISOString(), firstLsn: lsn(f.seq), lastLsn: lsn(f.seq + 1) };
    // SQL Server's default is WITH RECOVERY: a RESTORE LOG that names neither NORECOVERY nor
    // STANDBY brings the database online, and no later log backup can be applied.
    if (!/\b(NORECOVERY|STANDBY)\b/i.test(text)) {
      sql.secondary.mgc = 'ONLINE';
      sql.secondary.recovered = true;
    }
    return { output: noRows(), durationMs: 30 * S };
  }
  if (/\bRESTORE DATABASE\b/i.test(text) && /\bFROM DISK\b/i.test(text)) {
    const p = String(param(spec, 'path'));
    requireShareReachable(s, p);
    if (database !== 'mgc') throw new PreconditionError(`Msg 3201: no backup of ${database} exists at '${p}'.`, 'ObjectNotFound', 3201);
    const backup = sql.fullBackups.find((b) => sameText(b.path, p));
    if (!backup) throw cannotOpen(p);
    if (host.mirror) throw new PreconditionError("Msg 3104: RESTORE cannot operate on database 'mgc' because it is configured for database mirroring. Remove mirroring first.", 'InvalidOperation', 3104);
    if (host.mgc === 'ONLINE' && !/\bREPLACE\b/i.test(text)) {
      throw new PreconditionError("Msg 3159: The tail of the log for the database 'mgc' has not been backed up. Use WITH REPLACE to overwrite it.", 'InvalidOperation', 3159);
    }
    if (host.mgc === 'ONLINE' && sessions(s, host).length) {
      throw new PreconditionError("Msg 3101: Exclusive access could not be obtained because the database is in use.", 'InvalidOperation', 3101);
    }
    host.mgc = /NORECOVERY/i.test(text) ? 'RESTORING' : 'ONLINE';
    host.lastRestore = { file: p, type: 'D', at: now.toISOString(), firstLsn: lsn(1), lastLsn: lsn(1) };
    host.dataGeneration = backup.dataGeneration;
    if (isSecondary) sql.secondary.recovered = host.mgc === 'ONLINE';
    return { output: noRows(), durationMs: 3 * MIN };
  }
  if (/\bRESTORE DATABASE\b.*\bWITH RECOVERY\b/i.test(text)) {
    if (database !== 'mgc') {
      if (isSecondary) throw new PreconditionError(`Msg 3013: Database '${database}' does not exist on ${host.server} (only mgc is log shipped). RESTORE DATABASE is terminating abnormally.`, 'ObjectNotFound', 3013);
      throw new PreconditionError(`Msg 3101: The database '${database}' is already online. RESTORE DATABASE is terminating abnormally.`, 'InvalidOperation', 3101);
    }
    if (host.mgc === 'ONLINE') throw new PreconditionError("Msg 3101: The database 'mgc' is already online; it cannot be recovered again. RESTORE DATABASE is terminating abnormally.", 'InvalidOperation', 3101);
    host.mgc = 'ONLINE';
    if (isSecondary) sql.secondary.recovered = true;
    return { output: noRows(), durationMs: 20 * S };
  }
  if (/\bBACKUP DATABASE\b/i.test(text)) {
    if (database !== 'mgc') throw new PreconditionError('The simulated estate only backs up mgc.', 'NotImplemented');
    if (host.mgc !== 'ONLINE') throw new PreconditionError("Msg 927: Database 'mgc' cannot be opened. It is in the middle of a restore.", 'InvalidOperation', 927);
    const p = String(param(spec, 'path'));
    requireShareReachable(s, p);
    sql.fullBackups = sql.fullBackups.filter((b) => !sameText(b.path, p));
    sql.fullBackups.push({ path: p, database: 'mgc', takenAt: now.toISOString(), fromServer: host.server, dataGeneration: host.dataGeneration });
    return { output: noRows(), durationMs: 2 * MIN };
  }
  if (/SET PARTNER OFF/i.test(text)) {
    if (!host.mirror) throw new PreconditionError(`Msg 1416: Database '${database}' is not configured for database mirroring.`, 'InvalidOperation', 1416);
    if (database === 'mgc') host.mirror = false;
    return { output: noRows(), durationMs: 5 * S };
  }
  if (/sysprocesses|sp_who|dm_exec_sessions/i.test(text)) {
    return { output: recordsets(database === 'mgc' ? sessions(s, host) : []), durationMs: 1 * S };
  }
  if (/\bKILL\b/i.test(text)) {
    const id = Number(param(spec, 'session_id'));
    if (!sessions(s, host).some((x) => x.spid === id)) {
      throw new PreconditionError(`Msg 6106: Process ID ${id} is not an active process ID.`, 'ObjectNotFound', 6106);
    }
    // The pChat servers reconnect on their own; the session list is derived, not stored.
    return { output: noRows(), durationMs: 1 * S };
  }
  if (/SINGLE_USER|MULTI_USER/i.test(text)) {
    if (database === 'mgc' && host.mgc !== 'ONLINE') {
      throw new PreconditionError("Msg 5052: ALTER DATABASE is not permitted while a database is in the Restoring state.", 'InvalidOperation', 5052);
    }
    return { output: noRows(), durationMs: 2 * S };
  }
  throw new PreconditionError(`The simulated estate does not implement this statement: ${text.slice(0, 200)}`, 'NotImplemented');
}
