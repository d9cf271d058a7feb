// Reading runs through the Durable client: the executor's instance (its id is the run id) and the
// approval gates it opened. Shared by the HTTP API and the channels (Teams, email), which must see
// a run exactly as the API does.
import type * as df from 'durable-functions';
import { ORCHESTRATION, RunSummary, type RunReport, type RunStatus } from '../../shared/runs/contract.js';
import { assembleRun } from '../../shared/runs/summary.js';
import { runSteps } from '../activities/runs.js';

export type Client = ReturnType<typeof df.getClient>;
export type Status = Awaited<ReturnType<Client['getStatus']>>;

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,79}$/;

export async function statusOf(client: Client, id: string, showInput = false): Promise<Status | undefined> {
  try {
    const s = await client.getStatus(id, { showInput });
    return s && s.name ? s : undefined;
  } catch (err) {
    if (/404/.test((err as Error).message)) return undefined;
    throw err;
  }
}

/** A run's Durable status and its summary (its customStatus; undefined before its first episode). */
export interface FoundRun { status: Status; custom: RunSummary | undefined }

/** A run: an instance of the executor orchestration (the id of a gate instance is not a run). */
export async function findRun(client: Client, id: string, withInput = false): Promise<FoundRun | undefined> {
  if (!RUN_ID.test(id)) return undefined;
  const s = await statusOf(client, id, withInput);
  if (!s || s.name !== ORCHESTRATION.runPlan) return undefined;
  const custom = RunSummary.safeParse(s.customStatus);
  return { status: s, custom: custom.success ? custom.data : undefined };
}

/** The whole run as the API shows it: its summary with every step's row (and, once ended, its report). */
export async function runView(run: FoundRun): Promise<RunStatus | undefined> {
  if (!run.custom) return undefined;
  const report = run.status.output as Partial<RunReport> | null | undefined;
  const rows = await runSteps().read(run.custom.runId);
  return assembleRun(run.custom, rows, report && typeof report === 'object' && report.steps ? { steps: report.steps } : undefined);
}

export const isActive = (s: Status) => ['Running', 'Pending'].includes(String(s.runtimeStatus));

/** The run publishes waiting-approval in the episode that creates the gate: give it a moment to exist. */
export async function waitForInstance(client: Client, id: string, ms = 10_000): Promise<Status | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await statusOf(client, id);
    if (s || Date.now() >= deadline) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}
