// Runbook 7a, pchat-backup (seed 001 scenario 4A): export the Persistent Chat data to a dated
// .zip with Export-CsPersistentChatData, about 20 times smaller than a SQL backup, then delete
// the exports older than retentionDays. Scheduled nightly (LYNCDR_SCHEDULES); the scheduler
// passes the date because a plan builder does not read the clock.
import { z } from 'zod';
import { windowsPath } from '../../shared/commands/values.js';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan } from '../../shared/plan/schema.js';
import { cmd } from './steps.js';
import { poolFailoverTargets, requirePchat } from './estate.js';

export const isoDate = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'must be a date such as 2026-11-21');

export const PchatBackupOptions = z.strictObject({
  /** The run's date (YYYY-MM-DD), used in the file name. */
  date: isoDate,
  /** Folder for the exports; default: the log-shipping backup share. */
  folder: windowsPath.optional(),
  /** Export from the primary (normal) or the secondary (while failed over). */
  from: z.enum(['primary', 'secondary']).default('primary'),
  /** How many days of exports to keep. */
  retentionDays: z.number().int().min(1).max(3650).default(14),
});
export type PchatBackupOptions = z.infer<typeof PchatBackupOptions>;

/** `date` (YYYY-MM-DD) minus `days`, by the calendar: the plan comes from its options, not the clock. */
export function daysBefore(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

export function buildPchatBackup(t: Topology, options: PchatBackupOptions): Plan {
  const pc = requirePchat(t);
  const sql = pc.sql[options.from];
  const folder = (options.folder ?? pc.sql.backupShare).replace(/\\$/, '');
  const file = `${folder}\\pchat-${options.date}.zip`;
  const exp = cmd('pchat-export', 'pchat.exportData', { sqlServerFqdn: sql.serverFqdn, ...(sql.instance ? { sqlInstanceName: sql.instance } : {}), fileName: file }, {
    title: `Export Persistent Chat data from ${sql.serverFqdn} to ${file}`,
    site: sql.site, source: 'seed 001 scenario 4A',
    preconditions: [`${file} does not exist yet (one export per day)`],
    // Export-CsPersistentChatData writes nothing to the pipeline: success is its exit status.
  });
  // Retention: after today's export, delete the exports dated before the window of retentionDays
  // days ending today. It depends on the export, and it also checks that the export is there: an
  // export that failed and was skipped by an operator must not cost the old ones.
  const keepFrom = daysBefore(options.date, options.retentionDays - 1);
  const prune = cmd('pchat-prune-exports', 'file.pruneExports', { folder, prefix: 'pchat-', extension: '.zip', before: keepFrom, keep: `pchat-${options.date}.zip` }, {
    title: `Delete the exports in ${folder} dated before ${keepFrom} (keep ${options.retentionDays} days)`,
    site: sql.site, source: 'retention of the nightly export', dependsOn: [exp.id],
  });
  return {
    v: 1,
    runbook: 'pchat-backup',
    title: `Export Persistent Chat data (${options.date}), keep ${options.retentionDays} days`,
    options: { ...options },
    steps: [exp, prune],
    // The RPO of this protection is the schedule: one export a day.
    targets: { ...poolFailoverTargets(t), rpoMinutes: 24 * 60, source: 'nightly Export-CsPersistentChatData: RPO one day' },
    pchatUsersReconnecting: 0,
    locks: [`pchat:${pc.poolFqdn}`],
  };
}
