// Names shared by the Lync 2010-style DR runbooks: the nightly export writes these files and
// legacy-site-dr reads them back, so both take the names from here.
import type { Topology } from '../../shared/topology/schema.js';
import { PlanBuildError } from './steps.js';
import { findPool, slug } from './estate.js';

export function requireLegacyDr(t: Topology): NonNullable<Topology['legacyDr']> {
  if (!t.legacyDr) throw new PlanBuildError('this estate has no legacyDr section (DR Standard Edition pool, contact-list and Response Group backup folders)');
  findPool(t, t.legacyDr.drPool, 'legacyDr.drPool');
  return t.legacyDr;
}

/** Lync 2010 exports contact lists with DBImpExp.exe (.xml); 2013 and later with Export-CsUserData (.zip). */
export function usesDbImpExp(t: Topology): boolean {
  return t.version === 'lync2010';
}

export function contactsFile(t: Topology, pool: string, date: string): string {
  const dr = requireLegacyDr(t);
  return `${dr.contactListBackup.replace(/\\$/, '')}\\${slug(pool)}-contacts-${date}.${usesDbImpExp(t) ? 'xml' : 'zip'}`;
}

/**
 * Lync 2010 has no Export/Import-CsRgsConfiguration (Lync 2013+): its Response Group
 * configuration is the RgsConfig database on the pool's store, backed up with SQL (Microsoft's
 * "Backing Up and Restoring Lync Server 2010": RgsConfig.mdf, back up with the regular backups).
 */
export function backsUpRgsWithSql(t: Topology): boolean {
  return t.version === 'lync2010';
}

/** The nightly SQL backup of a pool's RgsConfig (Lync 2010): the DR share's folder and the dated .bak. */
export function rgsConfigBackup(t: Topology, pool: string, date: string): { folder: string; file: string; path: string } {
  const folder = requireLegacyDr(t).responseGroupBackup.replace(/\\$/, '');
  const file = `${slug(pool)}-rgsconfig-${date}.bak`;
  return { folder, file, path: `${folder}\\${file}` };
}

export function rgsFile(t: Topology, pool: string, date: string): string {
  const dr = requireLegacyDr(t);
  return `${dr.responseGroupBackup.replace(/\\$/, '')}\\${slug(pool)}-rgs-${date}.zip`;
}
