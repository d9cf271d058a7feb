// Drives one run through the HTTP API the way people would: the operator declares it, the
// approvers approve exactly the plan hash the run shows, the operator confirms manual steps and
// decides on failed steps. Used by `npm run drill` and the failover benchmark. With `viaMail`,
// every approval, confirmation and decision goes through the links the app mailed to the local
// SMTP sink (the page, then its form), as people with a mailbox would.
import { clickLink, waitForMailTo } from './mail-click.js';

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
  /** Act through the mails in this local SMTP sink folder instead of the HTTP API. */
  viaMail?: { dir: string };
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
  const started = await api(o.operator, 'POST', 'runs', { runbook: o.runbook, options: o.options, mode: o.mode ?? 'drill' });
  if (started.status !== 202) throw new Error(`could not start ${o.runbook}: HTTP ${started.status} ${JSON.stringify(started.body)}`);
  const runId: string = started.body.runId;
  say(`${o.operator} started ${o.runbook} ${JSON.stringify(o.options)} -> run ${runId}`);

  /** Finds `who`'s mail about this run, says which it is, and follows its link for `decision`. */
  const byMail = async (who: string, key: (k: string) => boolean, decision: string, comment: string) => {
    const m = await waitForMailTo(o.viaMail!.dir, runId, key, who);
    say(`mail ${m.n} to ${m.to.join(', ')}: ${m.subject}`);
    const link = m.links.find((l) => l.decision === decision);
    if (!link) throw new Error(`mail ${m.n} has no ${decision} link`);
    const r = await clickLink(link.url, { as: who, comment });
    say(`${who} follows its ${decision} link (page, then form): HTTP ${r.status} ${r.text.split('\n').slice(0, 2).join(': ')}`);
    return r;
  };
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
            if (o.viaMail) { await byMail(who, (k) => k.startsWith(`gate:${id}:invite:`), 'approve', 'plan reviewed'); continue; }
            const v = await api(who, 'POST', `runs/${runId}/votes`, { decision: 'approve', planHash: st.planHash, comment: 'plan reviewed', channel: 'cli', step: id });
            say(`${who} approves ${String(st.planHash).slice(0, 19)}...: ${v.body?.outcome ?? v.status}${v.body?.error ? ` (${v.body.error})` : ''}`);
          }
        } else if (s.state === 'waiting-confirmation') {
          handled.add(key);
          say(`manual step: ${s.title}`);
          if (o.viaMail) { await byMail(o.operator, (k) => k === `manual:${id}`, 'confirm', 'done (simulated estate)'); continue; }
          const c = await api(o.operator, 'POST', `runs/${runId}/steps/${id}/confirm`, { comment: 'done (simulated estate)' });
          say(`${o.operator} confirms ${id}: HTTP ${c.status}`);
        } else if (s.state === 'waiting-decision') {
          handled.add(key);
          const decision = o.onFailedStep ?? 'abort';
          say(`${id} failed after its retries; ${o.operator} decides: ${decision}`);
          if (o.viaMail) { await byMail(o.operator, (k) => k === `decision:${id}:attempt:${s.attempt ?? 1}`, decision, `${decision} on failure`); continue; }
          await api(o.operator, 'POST', `runs/${runId}/steps/${id}/decision`, { decision, comment: `${decision} on failure` });
        }
      }
    }
    if (r.body && !['Running', 'Pending'].includes(r.body.runtimeStatus)) {
      return { runId, runtimeStatus: r.body.runtimeStatus, planHash: st?.planHash, status: st, report: r.body.report ?? {} };
    }
    await new Promise((res) => setTimeout(res, o.pollMs ?? 200));
  }
}
