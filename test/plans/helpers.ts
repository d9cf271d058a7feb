// Test estates and the default options each runbook is exercised with.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseTopology, type Topology } from '../../shared/topology/index.js';
import type { Plan, PlanStep, RunbookName } from '../../shared/plan/index.js';
import { ancestors } from '../../shared/plan/index.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export function estate(file: 'estate.sample.yaml' | 'estate.lync2010.yaml' | 'estate.two-pools.yaml'): Topology {
  const r = parseTopology(parse(readFileSync(`${root}/examples/${file}`, 'utf8')));
  if (!r.ok) throw new Error(`${file}: ${JSON.stringify(r.problems)}`);
  return r.topology;
}

export function rawEstate(file: 'estate.sample.yaml' | 'estate.lync2010.yaml'): any {
  return parse(readFileSync(`${root}/examples/${file}`, 'utf8'));
}

/** Each runbook, the estate it runs on, its options, and a changed option (the hash must change). */
export const CASES: Record<RunbookName, { file: 'estate.sample.yaml' | 'estate.lync2010.yaml'; options: Record<string, unknown>; changed: Record<string, unknown> }> = {
  'fe-pool-failover': { file: 'estate.sample.yaml', options: { pool: 'eepool1.contoso.com' }, changed: { pool: 'eepool2.contoso.com' } },
  'fe-pool-failback': { file: 'estate.sample.yaml', options: { pool: 'eepool1.contoso.com' }, changed: { pool: 'eepool1.contoso.com', recorded: { dns: { meet: '10.1.0.99' } } } },
  'site-failover': { file: 'estate.sample.yaml', options: { failedSite: 'East' }, changed: { failedSite: 'East', installMirror: true } },
  'site-failback': { file: 'estate.sample.yaml', options: { failedSite: 'East' }, changed: { failedSite: 'East', recorded: { mirrorInstalled: true } } },
  'pchat-pool-failover': { file: 'estate.sample.yaml', options: {}, changed: { maintenanceWindowStart: '2026-11-22T02:00:00Z' } },
  'pchat-pool-failback': { file: 'estate.sample.yaml', options: {}, changed: { recorded: { activeServers: ['pchatserver1.contoso.com', 'pchatserver2.contoso.com'] } } },
  'pchat-backup': { file: 'estate.sample.yaml', options: { date: '2026-11-21' }, changed: { date: '2026-11-22' } },
  'pchat-restore': { file: 'estate.sample.yaml', options: { file: '\\\\fs-west.contoso.com\\pchat-export\\pchat-2026-11-20.zip' }, changed: { file: '\\\\fs-west.contoso.com\\pchat-export\\pchat-2026-11-19.zip' } },
  'cms-failover': { file: 'estate.sample.yaml', options: { targetPool: 'eepool2.contoso.com' }, changed: { targetPool: 'EEPOOL2.contoso.com' } },
  'legacy-site-dr': { file: 'estate.lync2010.yaml', options: { failedPool: 'pool1.contoso.com', exportDate: '2026-11-20' }, changed: { failedPool: 'pool1.contoso.com', exportDate: '2026-11-19' } },
  'legacy-nightly-export': { file: 'estate.lync2010.yaml', options: { date: '2026-11-20' }, changed: { date: '2026-11-21' } },
  readiness: { file: 'estate.sample.yaml', options: {}, changed: {} },
};

export function step(plan: Plan, id: string): PlanStep {
  const s = plan.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${plan.runbook}: ${plan.steps.map((x) => x.id).join(', ')}`);
  return s;
}

/** True when `later` runs only after `earlier` (directly or through other steps). */
export function runsAfter(plan: Plan, later: string, earlier: string): boolean {
  step(plan, later);
  step(plan, earlier);
  return ancestors(plan, later).has(earlier);
}

export const commandSteps = (plan: Plan) => plan.steps.filter((s): s is Extract<PlanStep, { kind: 'command' }> => s.kind === 'command');
export const byCommand = (plan: Plan, name: string) => commandSteps(plan).filter((s) => s.command.name === name);
