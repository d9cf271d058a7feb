// GET /api/schedules: each configured schedule with its next occurrence, the last one handled and
// what came of its run, and the recent occurrences (missed and skipped ones included).
import { nextOccurrence } from '../../shared/schedules/occurrences.js';
import { schedulesConfig } from '../schedules/config.js';
import { scheduleStore } from '../triggers/schedules.js';
import { statusOf } from '../runs/read.js';
import { json, route } from './api.js';

route('schedules-list', ['GET'], 'schedules', async (_req, client) => {
  const config = schedulesConfig();
  const now = new Date();
  const schedules = await Promise.all(config.schedules.map(async (s) => {
    const [read, recent] = await Promise.all([scheduleStore().state(s.name), scheduleStore().recent(s.name, 20)]);
    const runId = read?.state.lastRunId;
    const run = runId ? await statusOf(client, runId) : undefined;
    const output = run?.output as { outcome?: string } | null | undefined;
    return {
      name: s.name, runbook: s.runbook, cron: s.cron, mode: s.mode, options: s.options, afterTopologyChange: s.afterTopologyChange,
      next: nextOccurrence(s.cron, now)?.toISOString() ?? null,
      // The topology file as the scheduler last read it: a change starts the readiness run.
      ...(s.afterTopologyChange ? { topologySha256: read?.state.topologyHash ?? null } : {}),
      lastOccurrence: read?.state.lastOutcome ? read.state.lastOccurrence : null,
      lastRun: runId ? { runId, runtimeStatus: run ? String(run.runtimeStatus) : null, outcome: output && typeof output === 'object' ? output.outcome ?? null : null, scheduler: read?.state.lastOutcome ?? null, trigger: read?.state.lastTrigger ?? 'schedule' } : null,
      missed: recent.filter((r) => r.outcome === 'missed' || r.late).length,
      skipped: recent.filter((r) => r.outcome === 'skipped').length,
      recent,
    };
  }));
  return json(200, { tick: config.tick, schedules });
});
