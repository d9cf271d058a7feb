// RTO and RPO of a run, measured (not estimated) from orchestration timestamps and from what the
// run recorded. Pure: the orchestrator computes them at the end of the run.
//   RTO: from the approval of the gate that starts the RTO clock (the disaster declaration) to the
//        last successful step of the run (its last verification).
//   RPO: how old the newest surviving copy of the data was when the disaster was declared: the
//        Front End backup service's last sync (Get-CsBackupServiceStatus) and the last log backup
//        restored into the pChat secondary mgc (log-shipping monitor). The worst one counts.
import type { Measure } from './contract.js';

const minutesBetween = (from: string, to: string) => Math.round(((Date.parse(to) - Date.parse(from)) / 60_000) * 100) / 100;

export function measureRto(clockStart: string | undefined, lastVerification: string | undefined, targetMinutes: number): Measure {
  if (!clockStart || !lastVerification) {
    return { minutes: null, targetMinutes, met: null, basis: clockStart ? 'no step finished after the declaration' : 'no approval gate started the RTO clock' };
  }
  const minutes = minutesBetween(clockStart, lastVerification);
  return { minutes, targetMinutes, met: minutes <= targetMinutes, from: clockStart, to: lastVerification, basis: 'declaration approved -> last verification (orchestration clock)' };
}

/** Field names whose values are "data current as of" timestamps, by source. */
const SYNC_FIELDS: Record<string, string> = {
  SyncCompletedAt: 'backup service sync',
  LastExportTime: 'backup service export',
  LastImportTime: 'backup service import',
  // Get-CsBackupServiceStatus: BackupModules[].ExportStatus / ImportStatus .LastStateTime
  LastStateTime: 'backup service module state',
  last_restored_date_utc: 'mgc last restored log',
};

function collect(value: unknown, path: string, out: Array<{ source: string; at: string; path: string }>, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) { value.forEach((v, i) => collect(v, `${path}.${i}`, out, depth + 1)); return; }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k in SYNC_FIELDS && typeof v === 'string' && !Number.isNaN(Date.parse(v))) out.push({ source: SYNC_FIELDS[k], at: v, path: `${path}.${k}` });
    else collect(v, `${path}.${k}`, out, depth + 1);
  }
}

export function measureRpo(records: Record<string, unknown>, declaredAt: string, targetMinutes: number): Measure {
  const found: Array<{ source: string; at: string; path: string }> = [];
  for (const [key, value] of Object.entries(records)) collect(value, key, found);
  if (found.length === 0) return { minutes: null, targetMinutes, met: null, basis: 'no backup-service or log-shipping state was recorded by this run' };
  const oldest = found.reduce((a, b) => (Date.parse(b.at) < Date.parse(a.at) ? b : a));
  const minutes = Math.max(0, minutesBetween(oldest.at, declaredAt));
  return {
    minutes, targetMinutes, met: minutes <= targetMinutes, from: oldest.at, to: declaredAt,
    basis: `oldest of ${found.length} recorded sync points: ${oldest.source} (${oldest.path}) -> declaration`,
  };
}

/**
 * One line an operator reads: "RTO 1.17 min (target 30 min: met) - declaration approved -> last
 * verification". With the drill's time factor it adds what the figure means at real durations.
 */
export function describeMeasure(name: 'RTO' | 'RPO', m: Partial<Measure> | undefined, timeFactor?: number): string {
  if (!m || m.minutes === undefined || m.minutes === null) return `${name}: not measured${m?.basis ? ` (${m.basis})` : ''}`;
  const scaled = timeFactor !== undefined && timeFactor !== 1;
  const real = scaled && timeFactor > 0 && name === 'RTO' ? `; about ${(m.minutes / timeFactor).toFixed(0)} min at real durations` : '';
  const verdict = m.met === undefined || m.met === null ? '' : `: ${m.met ? 'met' : 'missed'}${scaled ? ' at drill speed' : ''}${real}`;
  return `${name} ${m.minutes.toFixed(2)} min (target ${m.targetMinutes ?? '?'} min${verdict})${m.basis ? ` - ${m.basis}` : ''}`;
}
