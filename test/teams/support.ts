// The Teams channel over the real local stack: the Teams stand-in (local/teams-standin.ts) as the
// Teams peer, a runs environment (the real app on the local host, workers on the simulated estate)
// whose settings trust the stand-in, and the notifications a test builds from a run's status (the
// notify activity that builds them in the app is wired by the orchestrations, not here).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHANNEL_SENDERS } from '../../functions/channels/registry.js';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import { forecastRto } from '../../shared/plan/index.js';
import { Notification, type ChannelSender } from '../../shared/runs/notifications.js';
import { loadTopologyFile } from '../../shared/topology/index.js';
import { startTeamsStandin, type TeamsStandin } from '../../local/teams-standin.js';
import { uniqueName } from '../support/azurite.js';
import { ROOT } from '../support/host.js';
import { startRunsEnv, type RunsEnv } from '../runs/support.js';

export interface TeamsEnv { env: RunsEnv; teams: TeamsStandin; sender: ChannelSender; stop(): Promise<void> }

export const OPERATORS = ['alice', 'bob', 'operator1'];

export async function startTeamsEnv(): Promise<TeamsEnv> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-teams-'));
  const teams = await startTeamsStandin({ dir });
  const env = await startRunsEnv({
    settings: { ...teams.settings, LYNCDR_TEAMS_TABLE: uniqueName('Teams'), LYNCDR_OPERATORS: JSON.stringify(OPERATORS), LYNCDR_PUBLIC_URL: 'http://127.0.0.1:7071' },
  });
  teams.setAppUrl(env.host.url);
  const installed = await teams.install();
  if (installed.status !== 200) throw new Error(`install: ${installed.status} ${JSON.stringify(installed.body)}`);
  // The host applied the settings to this process's environment: the sender reads them there.
  const sender = CHANNEL_SENDERS.teams(process.env);
  if (!sender) throw new Error('the Teams channel is not configured');
  return {
    env, teams, sender,
    async stop() {
      await env.stop();
      await teams.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The gate notification of a run's open gate, from GET /api/runs/{id} and the plan the run was built from. */
export async function gateNotification(env: RunsEnv, runId: string, stepId: string, options: Record<string, unknown>): Promise<Extract<Notification, { kind: 'gate' }>> {
  const r = await env.run(runId);
  const g = r.gates[stepId];
  const topo = await loadTopologyFile(path.join(ROOT, 'examples/estate.sample.yaml'));
  if (!topo.ok) throw new Error('sample estate');
  const plan = buildPlan(r.status.runbook, topo.topology, options);
  const step = plan.steps.find((s) => s.id === stepId);
  if (step?.kind !== 'approval') throw new Error(`${stepId} is not a gate`);
  const changes = plan.steps.filter((s) => s.kind === 'command' && s.effect !== 'read-only');
  return Notification.parse({
    kind: 'gate', runId, runbook: r.status.runbook, runTitle: r.status.title ?? plan.title, at: new Date().toISOString(),
    gate: {
      stepId, title: step.title, reason: step.reason, planHash: g.planHash, requester: r.status.requestedBy, status: g.status, phase: g.phase,
      required: g.required, approvers: g.approvers, rejectors: g.rejectors, eligible: g.eligible, ...(g.deadline ? { deadline: g.deadline } : {}),
      votes: g.votes.map((v: any) => ({ approver: v.approver, decision: v.decision, outcome: v.outcome, at: v.at, ...(v.code ? { code: v.code } : {}), ...(v.reason ? { reason: v.reason } : {}) })),
      changes: changes.slice(0, 50).map((s) => ({ id: s.id, title: s.title, ...(s.kind === 'command' ? { site: s.site } : {}) })), changesTotal: changes.length,
      rtoForecastMinutes: forecastRto(plan).totalMs / 60_000, rtoTargetMinutes: plan.targets.rtoMinutes,
    },
  }) as Extract<Notification, { kind: 'gate' }>;
}

/** The card an invoke answered with (the invoke response's value), as JSON text to search. */
export const answered = (r: { status: number; body: any }) => {
  if (r.status !== 200 || r.body?.statusCode !== 200 || r.body?.type !== 'application/vnd.microsoft.card.adaptive') throw new Error(`not a card answer: ${r.status} ${JSON.stringify(r.body)}`);
  return JSON.stringify(r.body.value);
};
