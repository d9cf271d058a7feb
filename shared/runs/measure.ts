// RTO and RPO of a run, measured (not estimated) from orchestration timestamps and from what the
// run recorded. Pure: the orchestrator computes them at the end of the run.
//   RTO: from the approval of the gate that starts the RTO clock (the disaster declaration) to the
//        last successful step of the run (its last verification).
//   RPO: how old the newest surviving copy of the data was when the disaster was declared: the
//        Front End backup service's last sync (Get-CsBackupServiceStatus) and the last log backup
//        restored into the pChat secondary mgc (log-shipping monitor; once the run restored the
//        log tail, the newest backup it restored). The worst one counts.
import type { Measure } from './contract.js';
import { LOG_TAIL_RESTORED } from './log-tail-records.js';

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

/** What the run's log-tail restore recorded: the newest backup now in mgc, by when it was written. */
function newestRestored(value: unknown): { at: string; name: string } | undefined {
  const items = Array.isArray(value) ? value : [];
  let best: { at: string; name: string } | undefined;
  for (const f of items as Array<{ Name?: unknown; LastWriteTimeUtc?: unknown }>) {
    if (typeof f?.LastWriteTimeUtc !== 'string' || Number.isNaN(Date.parse(f.LastWriteTimeUtc))) continue;
    if (!best || Date.parse(f.LastWriteTimeUtc) > Date.parse(best.at)) best = { at: f.LastWriteTimeUtc, name: String(f.Name ?? '') };
  }
  return best;
}

export function measureRpo(records: Record<string, unknown>, declaredAt: string, targetMinutes: number): Measure {
  let found: Array<{ source: string; at: string; path: string }> = [];
  for (const [key, value] of Object.entries(records)) if (key !== LOG_TAIL_RESTORED) collect(value, key, found);
  // The monitor's point is where log shipping had got to before the failover; the tail the run
  // restored carries mgc further, so the newest restored backup replaces it when it is newer. A
  // tail left unapplied (an operator accepted the loss) leaves the older point standing.
  const tail = newestRestored(records[LOG_TAIL_RESTORED]);
  if (tail) {
    const mgc = found.filter((f) => f.source === SYNC_FIELDS.last_restored_date_utc);
    if (mgc.every((f) => Date.parse(f.at) < Date.parse(tail.at))) {
      found = [...found.filter((f) => !mgc.includes(f)), { source: `mgc newest restored log backup ${tail.name}`, at: tail.at, path: LOG_TAIL_RESTORED }];
    }
  }
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
