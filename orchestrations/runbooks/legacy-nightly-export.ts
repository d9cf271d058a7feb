// The nightly job legacy-site-dr depends on (seed 002 "Backing up your data"): export every
// production pool's contact lists (DBImpExp.exe on Lync 2010, Export-CsUserData later) and its
// Response Group configuration to the DR site (a SQL backup of RgsConfig on Lync 2010,
// Export-CsRgsConfiguration later). Dated files: Export-CsRgsConfiguration refuses
// to overwrite, and the DR run picks the night to restore.
import { z } from 'zod';
import { fqdn } from '../../shared/commands/values.js';
import type { Topology } from '../../shared/topology/schema.js';
import type { Plan, PlanStep } from '../../shared/plan/schema.js';
import { cmd } from './steps.js';
import { findPool, poolFailoverTargets, slug } from './estate.js';
import { backsUpRgsWithSql, contactsFile, requireLegacyDr, rgsConfigBackup, rgsFile, usesDbImpExp } from './legacy.js';
import { isoDate } from './pchat-backup.js';

export const LegacyNightlyExportOptions = z.strictObject({
  /** The run's date (YYYY-MM-DD), passed by the scheduler. */
  date: isoDate,
  /** One pool only; default: every pool except the DR pool. */
  pool: fqdn.optional(),
});
export type LegacyNightlyExportOptions = z.infer<typeof LegacyNightlyExportOptions>;

const SOURCE = 'seed 002, Backing up your data';

export function buildLegacyNightlyExport(t: Topology, options: LegacyNightlyExportOptions): Plan {
  const dr = requireLegacyDr(t);
  const pools = options.pool ? [findPool(t, options.pool)] : t.frontEndPools.filter((p) => p.fqdn !== dr.drPool);
  const steps: PlanStep[] = [];
  for (const p of pools) {
    const contacts = contactsFile(t, p.fqdn, options.date);
    steps.push(usesDbImpExp(t)
      ? cmd(`export-contacts-${slug(p.fqdn)}`, 'legacy.exportContacts', { fileName: contacts, sqlServerFqdn: p.backEnd.serverFqdn, ...(p.backEnd.instance ? { sqlInstanceName: p.backEnd.instance } : {}) }, {
        title: `Export ${p.fqdn}'s contact lists to ${contacts}`, site: p.site, source: SOURCE,
      })
      : cmd(`export-contacts-${slug(p.fqdn)}`, 'userdata.export', { poolFqdn: p.fqdn, fileName: contacts }, {
        title: `Export ${p.fqdn}'s user data (contacts, meetings) to ${contacts}`, site: p.site, source: SOURCE,
      }));
    if (backsUpRgsWithSql(t)) {
      const bak = rgsConfigBackup(t, p.fqdn, options.date);
      steps.push(cmd(`export-rgs-${slug(p.fqdn)}`, 'sql.backupDatabase', {
        sqlServerFqdn: p.backEnd.serverFqdn, ...(p.backEnd.instance ? { sqlInstanceName: p.backEnd.instance } : {}), database: 'rgsconfig', folder: bak.folder, file: bak.file,
      }, {
        title: `Back up ${p.fqdn}'s Response Groups (the RgsConfig database) to ${bak.path}`, site: p.site, source: `${SOURCE}; Lync 2010 has no Export-CsRgsConfiguration`,
      }));
      continue;
    }
    const rgs = rgsFile(t, p.fqdn, options.date);
    steps.push(cmd(`export-rgs-${slug(p.fqdn)}`, 'rgs.export', { sourcePoolFqdn: p.fqdn, fileName: rgs }, {
      title: `Export ${p.fqdn}'s Response Groups to ${rgs}`, site: p.site, source: SOURCE,
      preconditions: [`${rgs} does not exist (Export-CsRgsConfiguration will not overwrite)`],
    }));
  }
  return {
    v: 1,
    runbook: 'legacy-nightly-export',
    title: `Nightly contact-list and Response Group export (${options.date})`,
    options: { ...options },
    steps,
    targets: poolFailoverTargets(t),
    pchatUsersReconnecting: 0,
    locks: pools.map((p) => `export:${p.fqdn}`),
  };
}
