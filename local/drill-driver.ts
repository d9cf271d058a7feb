// Drives one run through the HTTP API the way people would: the operator declares it, the
// approvers approve exactly the plan hash the run shows, the operator confirms manual steps and
// decides on failed steps. Used by `npm run drill` and the failover benchmark. With `people` the
// start and the people's actions go another way (Teams: local/drill-teams.ts); the run is followed
// through the API either way.
export interface DriveOptions {
  url: string;
  runbook: string;
  options: Record<string, unknown>;
  mode?: 'drill' | 'what-if' | 'live';
  approvers: string[];
  operator: string;
  /** What to do with a step that failed after its retries. */
  onFailedStep?: 'abort' | 'skip';
  say?: (line: string) => void;
  pollMs?: number;
  /** How people start the run and act on it; default: the HTTP API, as the CLI does. */
  people?: People;
  /**
   * Does a manual step in the estate before it is confirmed (its check refuses a confirmation of
   * work not done); returns what was done, for the log, or undefined when there is nothing to do.
   */
  doManual?: (stepId: string) => Promise<string | undefined>;
}

/** What people do to a run; each answers a line saying what came of it. */
export interface People {
  start(who: string, runbook: string, options: Record<string, unknown>, mode: string): Promise<string>;
  approve(who: string, runId: string, stepId: string, planHash: string): Promise<string>;
  confirm(who: string, runId: string, stepId: string): Promise<string>;
  decide(who: string, runId: string, stepId: string, decision: 'abort' | 'skip'): Promise<string>;
}

export interface StepView { kind: string; title: string; state: string; attempt?: number; startedAt?: string; finishedAt?: string; rendered?: string; lastError?: string }
export interface DriveResult {
  runId: string;
  runtimeStatus: string;
  planHash: string;
  status: { steps: Record<string, StepView>; order?: string[]; planHash: string };
  report: { outcome?: string; error?: string; rto?: Measure; rpo?: Measure; startedAt?: string; finishedAt?: string; records?: Record<string, unknown> };
}
export interface Measure { minutes?: number; targetMinutes?: number; met?: boolean; basis?: string; from?: string; to?: string }

export async function driveRun(o: DriveOptions): Promise<DriveResult> {
  const say = o.say ?? (() => undefined);
  const api = async (user: string, method: string, p: string, body?: unknown) => {
    const res = await fetch(`${o.url}/api/${p}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json', 'x-lyncdr-user': user } });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const viaApi: People = {
    async start(who, runbook, options, mode) {
      const started = await api(who, 'POST', 'runs', { runbook, options, mode });
      if (started.status !== 202) throw new Error(`could not start ${runbook}: HTTP ${started.status} ${JSON.stringify(started.body)}`);
      return started.body.runId as string;
    },
    async approve(who, runId, stepId, planHash) {
      const v = await api(who, 'POST', `runs/${runId}/votes`, { decision: 'approve', planHash, comment: 'plan reviewed', channel: 'cli', step: stepId });
      return `${v.body?.outcome ?? v.status}${v.body?.error ? ` (${v.body.error})` : ''}`;
    },
    async confirm(who, runId, stepId) {
      return `HTTP ${(await api(who, 'POST', `runs/${runId}/steps/${stepId}/confirm`, { comment: 'done (simulated estate)' })).status}`;
    },
    async decide(who, runId, stepId, decision) {
      return `HTTP ${(await api(who, 'POST', `runs/${runId}/steps/${stepId}/decision`, { decision, comment: `${decision} on failure` })).status}`;
    },
  };
  const people = o.people ?? viaApi;
  const runId = await people.start(o.operator, o.runbook, o.options, o.mode ?? 'drill');
  say(`${o.operator} started ${o.runbook} ${JSON.stringify(o.options)} -> run ${runId}`);

  const seen = new Map<string, string>();
  const handled = new Set<string>();
  for (;;) {
    const r = await api(o.operator, 'GET', `runs/${runId}`);
    const st = r.body?.status;
    if (st) {
      for (const id of st.order ?? Object.keys(st.steps)) {
        const s: StepView | undefined = st.steps[id];
        if (!s || seen.get(id) === s.state) continue;
        seen.set(id, s.state);
        if (s.state !== 'pending') {
          say(`${s.state.padEnd(21)} ${id}${s.rendered && s.state === 'running' ? `\n${' '.repeat(31)}> ${s.rendered}` : ''}${s.lastError && ['failed', 'waiting-decision'].includes(s.state) ? `\n${' '.repeat(31)}! ${s.lastError}` : ''}`);
        }
        const key = `${id}:${s.state}:${s.attempt ?? 0}`;
        if (handled.has(key)) continue;
        if (s.state === 'waiting-approval') {
          handled.add(key);
          say(`approval requested for plan ${st.planHash}: ${s.title}`);
          for (const who of o.approvers) {
            say(`${who} approves ${String(st.planHash).slice(0, 19)}...: ${await people.approve(who, runId, id, st.planHash)}`);
          }
        } else if (s.state === 'waiting-confirmation') {
          handled.add(key);
          say(`manual step: ${s.title}`);
          const done = await o.doManual?.(id);
          if (done) say(`${o.operator} does it: ${done}`);
          say(`${o.operator} confirms ${id}: ${await people.confirm(o.operator, runId, id)}`);
        } else if (s.state === 'waiting-decision') {
          handled.add(key);
          const decision = o.onFailedStep ?? 'abort';
          say(`${id} failed after its retries; ${o.operator} decides: ${decision}`);
          await people.decide(o.operator, runId, id, decision);
        }
      }
    }
    if (r.body && !['Running', 'Pending'].includes(r.body.runtimeStatus)) {
      return { runId, runtimeStatus: r.body.runtimeStatus, planHash: st?.planHash, status: st, report: r.body.report ?? {} };
    }
    await new Promise((res) => setTimeout(res, o.pollMs ?? 200));
  }
}
