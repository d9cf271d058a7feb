// buildPlan(runbook, topology, options): the one entry the executor, the CLI and the tests use.
// Options are untrusted (HTTP body, CLI flags): each runbook declares a zod schema and a bad
// option is a PlanBuildError that says which option and why.
import { z } from 'zod';
import type { Topology } from '../../shared/topology/schema.js';
import { RunbookName, type Plan } from '../../shared/plan/schema.js';
import { PlanBuildError } from './steps.js';
import { buildFePoolFailover, FePoolFailoverOptions } from './fe-pool-failover.js';
import { buildSiteFailover, SiteFailoverOptions } from './site-failover.js';
import { buildFePoolFailback, FePoolFailbackOptions } from './fe-pool-failback.js';
import { buildSiteFailback, SiteFailbackOptions } from './site-failback.js';
import { buildPchatPoolFailover, PchatPoolFailoverOptions } from './pchat-pool-failover.js';
import { buildPchatPoolFailback, PchatPoolFailbackOptions } from './pchat-pool-failback.js';
import { buildPchatBackup, PchatBackupOptions } from './pchat-backup.js';
import { buildPchatRestore, PchatRestoreOptions } from './pchat-restore.js';
import { buildCmsFailover, CmsFailoverOptions } from './cms-failover.js';
import { buildLegacySiteDr, LegacySiteDrOptions } from './legacy-site-dr.js';
import { buildLegacyNightlyExport, LegacyNightlyExportOptions } from './legacy-nightly-export.js';
import { buildReadiness, ReadinessOptions } from './readiness.js';
import { prefix } from '../../shared/text/quote.js';

export { PlanBuildError } from './steps.js';

interface RunbookEntry<S extends z.ZodType = z.ZodType> {
  description: string;
  options: S;
  build: (t: Topology, options: z.output<S>) => Plan;
}

function entry<S extends z.ZodType>(e: RunbookEntry<S>): RunbookEntry {
  return e as unknown as RunbookEntry;
}

export const runbooks: Record<RunbookName, RunbookEntry> = {
  'fe-pool-failover': entry({ description: 'fail a Front End pool over to its paired pool', options: FePoolFailoverOptions, build: buildFePoolFailover }),
  'fe-pool-failback': entry({ description: 'fail a Front End pool back from its paired pool', options: FePoolFailbackOptions, build: buildFePoolFailback }),
  'site-failover': entry({ description: 'fail a whole site (Front End pools and Persistent Chat) over to the paired site', options: SiteFailoverOptions, build: buildSiteFailover }),
  'site-failback': entry({ description: 'fail a whole site back', options: SiteFailbackOptions, build: buildSiteFailback }),
  'pchat-pool-failover': entry({ description: 'fail Persistent Chat over to the other datacenter', options: PchatPoolFailoverOptions, build: buildPchatPoolFailover }),
  'pchat-pool-failback': entry({ description: 'fail Persistent Chat back to its primary database', options: PchatPoolFailbackOptions, build: buildPchatPoolFailback }),
  'pchat-backup': entry({ description: 'export Persistent Chat data to a dated .zip', options: PchatBackupOptions, build: buildPchatBackup }),
  'pchat-restore': entry({ description: 'restore Persistent Chat data from an export or SQL backup (destructive)', options: PchatRestoreOptions, build: buildPchatRestore }),
  'cms-failover': entry({ description: 'fail the Central Management Store over to the backup pool', options: CmsFailoverOptions, build: buildCmsFailover }),
  'legacy-site-dr': entry({ description: 'Lync 2010 DR: rehome users on the DR Standard Edition pool', options: LegacySiteDrOptions, build: buildLegacySiteDr }),
  'legacy-nightly-export': entry({ description: 'nightly contact-list and Response Group export for legacy-site-dr', options: LegacyNightlyExportOptions, build: buildLegacyNightlyExport }),
  readiness: entry({ description: 'read-only readiness drill', options: ReadinessOptions, build: buildReadiness }),
};

function pathOf(segments: readonly PropertyKey[]): string {
  return segments.map(String).join('.');
}

export function runbookEntry(name: string): RunbookEntry {
  const parsed = RunbookName.safeParse(name);
  const e = parsed.success ? runbooks[parsed.data] : undefined;
  if (!e) throw new PlanBuildError(`unknown runbook "${name}"; the runbooks are ${Object.keys(runbooks).join(', ')}`);
  return e;
}

/** Validates the options against the runbook's schema; the error names every bad option. */
export function parseRunbookOptions(runbook: string, options: unknown): unknown {
  const e = runbookEntry(runbook);
  const r = e.options.safeParse(options ?? {});
  if (!r.success) {
    throw new PlanBuildError(`${runbook}: ${r.error.issues.map((i) => {
      const where = pathOf(i.path);
      if (i.code === 'unrecognized_keys') return `unknown option(s) ${i.keys.slice(0, 5).map((k) => prefix(k)).join(', ')}; ${runbook} takes ${optionNames(e.options).join(', ')}`;
      if (i.code === 'invalid_type' && /received undefined/.test(i.message)) return `option ${where} is required`;
      return `option ${where || '(options)'}: ${i.message}`;
    }).join('; ')}`);
  }
  return r.data;
}

function optionNames(schema: z.ZodType): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

export function buildPlan(runbook: RunbookName | string, topology: Topology, options: unknown = {}): Plan {
  const e = runbookEntry(runbook);
  return e.build(topology, parseRunbookOptions(runbook, options));
}
