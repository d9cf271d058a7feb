// LYNCDR_SCHEDULES: the runs the app starts by itself, read once at start-up and refused whole
// when any entry is wrong, so a typo never leaves a backup silently unscheduled.
//
// [{"name": "pchat-nightly", "runbook": "pchat-backup", "cron": "0 30 2 * * *", "options": {"retentionDays": 14}},
//  {"name": "readiness-weekly", "runbook": "readiness", "cron": "0 0 6 * * 1", "afterTopologyChange": true}]
import { z } from 'zod';
import { jsonText } from '../../shared/config/index.js';
import { RunbookName } from '../../shared/plan/schema.js';
import { RunMode } from '../../shared/runs/contract.js';
import { gapsMs, parseNcrontab } from '../../shared/schedules/occurrences.js';
import { parseRunbookOptions } from '../../orchestrations/runbooks/index.js';

/** Runbooks whose plan is named after the night it covers: the scheduler passes the occurrence's date. */
export const DATED_RUNBOOKS: ReadonlySet<string> = new Set(['pchat-backup', 'legacy-nightly-export']);

const ncrontab = z.string().superRefine((s, ctx) => {
  try { parseNcrontab(s); } catch (err) { ctx.addIssue({ code: 'custom', message: `not an NCRONTAB expression: ${(err as Error).message}` }); }
});

export const ScheduleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'name: lowercase letters, digits and inner hyphens, at most 40'),
  runbook: RunbookName,
  cron: ncrontab,
  mode: RunMode.default('live'),
  options: z.record(z.string(), z.unknown()).default({}),
  /** readiness only: also run when the topology file changes (checked at every tick). */
  afterTopologyChange: z.boolean().default(false),
}).superRefine((s, ctx) => {
  if (s.runbook === 'pchat-restore') {
    ctx.addIssue({ code: 'custom', path: ['runbook'], message: 'pchat-restore never runs on a schedule: it overwrites the chat store, so a person starts it' });
    return;
  }
  if (s.afterTopologyChange && s.runbook !== 'readiness') ctx.addIssue({ code: 'custom', path: ['afterTopologyChange'], message: 'only a readiness schedule runs after a topology change' });
  if (DATED_RUNBOOKS.has(s.runbook) && 'date' in s.options) ctx.addIssue({ code: 'custom', path: ['options', 'date'], message: `the scheduler gives ${s.runbook} the date of each occurrence` });
  try {
    parseRunbookOptions(s.runbook, DATED_RUNBOOKS.has(s.runbook) ? { ...s.options, date: '2000-01-01' } : s.options);
  } catch (err) {
    ctx.addIssue({ code: 'custom', path: ['options'], message: (err as Error).message });
  }
});
export type Schedule = z.infer<typeof ScheduleSchema>;

const SchedulesSettings = z.object({
  LYNCDR_SCHEDULES: jsonText(z.array(ScheduleSchema).max(50).superRefine((list, ctx) => {
    const seen = new Set<string>();
    for (const [i, s] of list.entries()) {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `two schedules are named ${s.name}` });
      seen.add(s.name);
    }
  })).optional(),
  /** The timer that checks every schedule: every minute in Azure; tests tick every second. */
  LYNCDR_SCHEDULE_TICK: ncrontab.default('0 * * * * *'),
  /** An occurrence handled later than this was missed on time (the app was down): reported as such. */
  LYNCDR_SCHEDULE_GRACE_SECONDS: z.coerce.number().int().positive().default(300),
  LYNCDR_SCHEDULES_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/).default('LyncdrSchedules'),
});

export interface SchedulesConfig { schedules: Schedule[]; tick: string; graceMs: number; table: string }

export class ScheduleConfigError extends Error {
  override name = 'ScheduleConfigError';
}

let cached: { key: string; config: SchedulesConfig } | undefined;

/** Parsed once per distinct settings: the tick reads it every minute, and the gap check walks 200 occurrences. */
export function schedulesConfig(env: NodeJS.ProcessEnv = process.env): SchedulesConfig {
  const key = JSON.stringify([env.LYNCDR_SCHEDULES, env.LYNCDR_SCHEDULE_TICK, env.LYNCDR_SCHEDULE_GRACE_SECONDS, env.LYNCDR_SCHEDULES_TABLE]);
  if (cached?.key !== key) cached = { key, config: parse(env) };
  return cached.config;
}

function parse(env: NodeJS.ProcessEnv): SchedulesConfig {
  const blank = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const r = SchedulesSettings.safeParse(blank);
  if (!r.success) {
    throw new ScheduleConfigError(`refusing to start: ${r.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`).join('; ')}`);
  }
  // A schedule that fires more often than the tick looks would be reported as missing
  // occurrences at every tick that did run: refuse it.
  const tickGap = gapsMs(r.data.LYNCDR_SCHEDULE_TICK).longest;
  const tooOften = (r.data.LYNCDR_SCHEDULES ?? []).map((s) => ({ s, gap: gapsMs(s.cron).shortest })).filter((x) => x.gap < tickGap);
  if (tooOften.length) {
    throw new ScheduleConfigError(`refusing to start: ${tooOften.map(({ s, gap }) => `LYNCDR_SCHEDULES ${s.name}: "${s.cron}" fires every ${gap / 1000} s, more often than the scheduler's tick (LYNCDR_SCHEDULE_TICK "${r.data.LYNCDR_SCHEDULE_TICK}", up to ${tickGap / 1000} s apart)`).join('; ')}`);
  }
  return { schedules: r.data.LYNCDR_SCHEDULES ?? [], tick: r.data.LYNCDR_SCHEDULE_TICK, graceMs: r.data.LYNCDR_SCHEDULE_GRACE_SECONDS * 1000, table: r.data.LYNCDR_SCHEDULES_TABLE };
}
