// `lyncdr start / status / watch / approve / reject / decide / confirm / cancel / pause / resume`, `lyncdr runs` and `lyncdr schedules`: the operator's side of the runs HTTP API. Every command
// takes --json (machine output), --as <user> (the local dev identity, sent as x-lyncdr-user; in
// Azure the identity comes from App Service Authentication instead, with --token / LYNCDR_TOKEN)
// and --url (LYNCDR_URL or http://127.0.0.1:7071). Exit codes: 0 done, 1 refused by the server (4xx), 2 could not ask.
/* eslint-disable @typescript-eslint/no-explicit-any -- the server's JSON is only displayed here; it is validated where it is produced */
import type { Command } from 'commander';
import { describeMeasure } from '../../shared/runs/measure.js';
import { namesOfVotes, shownAll, shownAs } from '../../shared/identity/display.js';
import { appRequest } from '../app-request.js';

interface Common { json?: boolean; as?: string; url?: string; token?: string }

export interface RunCommandDeps {
  env?: NodeJS.ProcessEnv;
  out?: (t: string) => void;
  err?: (t: string) => void;
  setExitCode?: (c: number) => void;
  fetch?: typeof fetch;
}

class Refused extends Error {}

export function registerRunCommands(program: Command, deps: RunCommandDeps = {}): void {
  const env = deps.env ?? process.env;
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const err = deps.err ?? ((t: string) => process.stderr.write(t));
  const setExitCode = deps.setExitCode ?? ((c: number) => { process.exitCode = c; });
  const doFetch = deps.fetch ?? fetch;

  async function api(o: Common, method: string, path: string, body?: unknown): Promise<any> {
    const res = await appRequest(o, env, method, path, body, doFetch);
    const text = await res.text();
    let data: any = text;
    try { data = text ? JSON.parse(text) : {}; } catch { /* text */ }
    if (res.status >= 400 && res.status < 500) throw Object.assign(new Refused(data?.error ?? `HTTP ${res.status}`), { data });
    if (res.status >= 500) throw new Error(data?.error ?? `HTTP ${res.status}`);
    return data;
  }

  const act = (fn: (o: Common) => Promise<{ json: unknown; text: string }>) => async (o: Common) => {
    try {
      const r = await fn(o);
      out(o.json ? JSON.stringify(r.json, null, 2) + '\n' : r.text);
      setExitCode(0);
    } catch (e) {
      if (o.json && e instanceof Refused) out(JSON.stringify({ error: e.message, ...((e as unknown as { data?: object }).data ?? {}) }, null, 2) + '\n');
      err(`lyncdr: ${(e as Error).message}\n`);
      setExitCode(e instanceof Refused ? 1 : 2);
    }
  };
  const common = (c: Command) => c
    .option('--json', 'print JSON')
    .option('--as <user>', 'who you are (local dev identity, x-lyncdr-user; default LYNCDR_USER)')
    .option('--url <url>', 'the app (default LYNCDR_URL or http://127.0.0.1:7071)')
    .option('--token <token>', 'an Entra access token for the app in Azure (default LYNCDR_TOKEN)');

  // Top-level verbs, as operators type them at 3 a.m.: `lyncdr start`, `lyncdr approve <run>`.
  const run = program;

  common(run.command('start <runbook>').description('start a run (it stops at its approval gates)'))
    .option('--option <k=v>', 'a runbook option (repeatable); numbers and true/false are typed', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--mode <mode>', 'drill | what-if | live', 'drill')
    .action((runbook: string, o: Common & { option: string[]; mode: string }) => act(async () => {
      const options: Record<string, unknown> = {};
      for (const kv of o.option) {
        const i = kv.indexOf('=');
        if (i < 1) throw new Refused(`--option ${kv}: expected key=value`);
        const v = kv.slice(i + 1);
        let value: unknown = v === 'true' ? true : v === 'false' ? false : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
        // Lists and objects (users, recorded) as JSON: --option 'recorded={"activeServers":["a.contoso.com"]}'.
        if (/^[[{]/.test(v)) {
          try { value = JSON.parse(v); } catch { throw new Refused(`--option ${kv.slice(0, i)}: the value looks like JSON but does not parse`); }
        }
        options[kv.slice(0, i)] = value;
      }
      const r = await api(o, 'POST', 'runs', { runbook, options, mode: o.mode });
      return { json: r, text: `${r.runId}\nstarted ${r.runbook} (${r.mode}) as ${shownAs(r.requestedBy, r.requestedByName)}; follow it with: lyncdr watch ${r.runId}\n` };
    })(o));

  common(run.command('status <run>').description('where a run stands, step by step'))
    .action((id: string, o: Common) => act(async () => {
      const r = await api(o, 'GET', `runs/${encodeURIComponent(id)}`);
      return { json: r, text: formatRun(r) };
    })(o));

  common(run.command('watch <run>').description('follow a run until it ends'))
    .option('--interval <ms>', 'poll interval', '1000')
    .action((id: string, o: Common & { interval: string }) => act(async () => {
      let last = '';
      for (;;) {
        const r = await api(o, 'GET', `runs/${encodeURIComponent(id)}`);
        const lines = formatSteps(r);
        if (lines !== last && !o.json) out(`--- ${phaseOf(r)} ${new Date().toISOString()}\n${lines}`);
        last = lines;
        if (['Completed', 'Failed', 'Terminated'].includes(r.runtimeStatus)) return { json: r, text: formatRun(r) };
        await new Promise((res) => setTimeout(res, Number(o.interval) || 1000));
      }
    })(o));

  const vote = (decision: 'approve' | 'reject') => (id: string, o: Common & { comment?: string; step?: string; planHash?: string }) => act(async () => {
    const r = await api(o, 'GET', `runs/${encodeURIComponent(id)}`);
    // Approvers approve the plan they were shown: the hash comes from the status just read.
    const planHash = o.planHash ?? r.status?.planHash;
    const v = await api(o, 'POST', `runs/${encodeURIComponent(id)}/votes`, { decision, planHash, comment: o.comment, channel: 'cli', step: o.step });
    return { json: v, text: `${decision} ${v.outcome} for plan ${planHash}; gate ${v.gate?.status ?? '?'} (${(v.gate?.approvers ?? []).join(', ') || 'no approvals'} of ${v.gate?.required ?? '?'})\n` };
  })(o);
  for (const d of ['approve', 'reject'] as const) {
    common(run.command(`${d} <run>`).description(`${d} the run's open approval gate (bound to the plan hash you see in status)`))
      .option('--comment <text>', d === 'reject' ? 'why (required for a rejection)' : 'a note for the audit trail')
      .option('--step <id>', 'which gate, when several are open')
      .option('--plan-hash <hash>', 'the plan hash you reviewed (default: the run\'s current one)')
      .action(vote(d));
  }

  common(run.command('decide <run> <step> <decision>').description('retry | skip | abort a failed step'))
    .option('--comment <text>', 'why')
    .action((id: string, step: string, decision: string, o: Common & { comment?: string }) => act(async () => {
      const r = await api(o, 'POST', `runs/${encodeURIComponent(id)}/steps/${encodeURIComponent(step)}/decision`, { decision, comment: o.comment, channel: 'cli' });
      return { json: r, text: `${decision} sent for ${step}\n` };
    })(o));

  common(run.command('confirm <run> <step>').description('confirm a manual step is done (its check runs; a failed check sends it back to waiting)'))
    .option('--comment <text>', 'what was done')
    .option('--override <reason>', 'go on even if the step\'s check fails, for this reason (audited with your name)')
    .action((id: string, step: string, o: Common & { comment?: string; override?: string }) => act(async () => {
      const r = await api(o, 'POST', `runs/${encodeURIComponent(id)}/steps/${encodeURIComponent(step)}/confirm`, { comment: o.comment, channel: 'cli', ...(o.override !== undefined ? { override: { reason: o.override } } : {}) });
      return { json: r, text: `${step} confirmed${o.override !== undefined ? ' (overriding its check)' : ''}: its check runs now; \`status\` shows it waiting again if the check fails\n` };
    })(o));

  common(run.command('cancel <run>').description('cancel a run: waiting steps stop, commands in flight finish'))
    .option('--reason <text>', 'why', 'cancelled from the CLI')
    .action((id: string, o: Common & { reason: string }) => act(async () => {
      const r = await api(o, 'POST', `runs/${encodeURIComponent(id)}/cancel`, { reason: o.reason, channel: 'cli' });
      return { json: r, text: `cancel requested for ${id}\n` };
    })(o));

  // Pause and resume: the run and its open gates stop taking anything until resumed (operators; audited).
  for (const [verb, done] of [['pause', 'paused'], ['resume', 'resumed']] as const) {
    common(run.command(`${verb} <run>`).description(verb === 'pause'
      ? 'pause a run where it stands: no new step starts and it takes no votes or decisions until resumed (runs before executor 8: it and its open gates take nothing, results and timers included)'
      : 'resume a paused run: what arrived meanwhile is delivered in order'))
      .requiredOption('--reason <text>', 'why, for the audit trail')
      .action((id: string, o: Common & { reason: string }) => act(async () => {
        const r = await api(o, 'POST', `runs/${encodeURIComponent(id)}/${verb}`, { reason: o.reason });
        const gates = r.gates?.length ? ` with its open gate${r.gates.length > 1 ? 's' : ''} ${r.gates.join(', ')}` : '';
        return { json: r, text: `${id} ${done}${gates}; recorded in its audit trail\n` };
      })(o));
  }

  const locks = common(program.command('locks').description('which run holds which lock, and whether it can still act'))
    .action((o: Common) => act(async () => {
      const r = await api(o, 'GET', 'locks');
      return { json: r, text: r.locks.map((l: any) => `${l.lock.padEnd(40)} ${l.runId}  ${l.runtimeStatus ?? 'gone'}${l.active ? '' : ' (ended)'}${l.inFlight === null ? '  steps unknown' : l.inFlight.length ? `  in flight: ${l.inFlight.join(', ')}` : ''}  since ${l.since ?? '?'}\n`).join('') || 'no locks held\n' };
    })(o));
  common(locks.command('release <lock>').description('release a lock whose run has ended (after checking the estate, when a step was in flight)'))
    .requiredOption('--reason <text>', 'what you checked, for the audit trail')
    // Commander hands --json / --as / --url to `locks` when they follow `locks release`: merge them back.
    .action((lock: string, own: Common & { reason: string }) => { const o = { ...(locks.opts() as Common), ...own }; return act(async () => {
      const r = await api(o, 'POST', 'locks/release', { lock, reason: o.reason });
      return { json: r, text: `${lock} released from ${r.releasedFrom} (${r.runtimeStatus ?? 'gone'}); recorded in its audit trail\n` };
    })(o); });

  common(program.command('runs').description('list runs, newest first'))
    .action((o: Common) => act(async () => {
      const r = await api(o, 'GET', 'runs');
      return { json: r, text: r.runs.map((x: any) => `${x.runId}  ${x.runbook ?? '?'}  ${x.mode ?? '?'}  ${phaseOf({ runtimeStatus: x.runtimeStatus, status: x.phase && { phase: x.phase } })}  ${x.requestedBy ? shownAs(x.requestedBy, x.requestedByName) : ''}\n`).join('') || 'no runs\n' };
    })(o));

  common(program.command('schedules').description('the scheduled runs (LYNCDR_SCHEDULES): next occurrence, last run and its outcome, missed and skipped occurrences'))
    .action((o: Common) => act(async () => {
      const r = await api(o, 'GET', 'schedules');
      return { json: r, text: r.schedules.map(formatSchedule).join('') || 'no schedules (set LYNCDR_SCHEDULES)\n' };
    })(o));
}

const MARK: Record<string, string> = {
  pending: ' ', running: '>', 'waiting-approval': '?', 'waiting-decision': '!', 'waiting-confirmation': '?',
  succeeded: '+', failed: 'x', skipped: '-', cancelled: '~',
};

/** A paused run keeps its phase (it publishes nothing while suspended): say it is paused. */
function phaseOf(r: any): string {
  const phase = r.status?.phase ?? r.runtimeStatus;
  if (r.runtimeStatus === 'Suspended') return `${phase}, PAUSED (runtimeStatus Suspended)`;
  // Executor version 8: the run took a signed pause; it says so in its status.
  return r.status?.paused ? `${phase}, PAUSED by ${shownAs(r.status.paused.by, r.status.paused.byName)}` : phase;
}

function formatSchedule(s: any): string {
  const last = s.lastRun
    ? `last ${s.lastRun.trigger === 'topology-change' ? 'after a topology change' : s.lastOccurrence}: ${s.lastRun.runId} ${s.lastRun.scheduler === 'refused' ? 'refused' : `${s.lastRun.runtimeStatus ?? 'not found'}${s.lastRun.outcome ? ` (${s.lastRun.outcome})` : ''}`}`
    : 'not run yet';
  const notes = (s.recent as any[]).filter((x) => x.outcome !== 'started' || x.late).slice(0, 5)
    .map((x) => `  ${x.occurrence} ${x.late ? 'late' : x.outcome}${x.reason ? `: ${x.reason}` : ''}\n`).join('');
  return `${s.name.padEnd(24)} ${s.runbook} (${s.mode})  ${s.cron}${s.afterTopologyChange ? ' and after topology changes' : ''}\n  next ${s.next ?? 'never'}; ${last}; ${s.missed} missed, ${s.skipped} skipped of the last ${s.recent.length}\n${notes}`;
}

function formatSteps(r: any): string {
  const s = r.status;
  if (!s) return `${r.runtimeStatus}\n`;
  return s.order.map((id: string) => {
    const st = s.steps[id];
    // People as shownAs says (the UPN beside the object id), the same rule as cards and e-mails.
    const decided = (st.decisions ?? []).map((d: any) => `${d.decision} by ${shownAs(d.by, d.byName)}`).join(', ');
    const extra = [st.attempt > 1 ? `attempt ${st.attempt}` : '', st.approvers?.length ? `approved by ${shownAll(st.approvers, st.approverNames).join(', ')}` : '', decided, st.lastError ? `error: ${st.lastError}` : '']
      .filter(Boolean).join('; ');
    return `[${MARK[st.state] ?? '?'}] ${id.padEnd(32)} ${st.state.padEnd(21)} ${extra}\n`;
  }).join('');
}

function formatRun(r: any): string {
  const s = r.status;
  if (!s) return `${r.runId}: ${r.runtimeStatus}\n`;
  const paused = r.runtimeStatus === 'Suspended' ? `paused: nothing advances it until an operator runs lyncdr resume ${s.runId} --reason ...\n`
    : s.paused ? `paused by ${shownAs(s.paused.by, s.paused.byName)} at ${s.paused.at}: ${s.paused.reason}; no new step starts until an operator runs lyncdr resume ${s.runId} --reason ...\n` : '';
  const head = `${s.runId}  ${s.runbook} (${s.mode})  ${phaseOf(r)}  requested by ${shownAs(s.requestedBy, s.requestedByName)}\nplan ${s.planHash ?? '-'}\n${paused}`;
  const cancel = s.cancelRequested ? `cancel requested by ${shownAs(s.cancelRequested.by, s.cancelRequested.byName)} at ${s.cancelRequested.at}: ${s.cancelRequested.reason}\n` : '';
  const gates = Object.entries<any>(r.gates ?? {}).map(([id, g]) => `gate ${id}: ${g.status} (${shownAll(g.approvers, namesOfVotes(g.votes)).join(', ') || 'none'} of ${g.required}; phase ${g.phase}${g.deadline ? `, deadline ${g.deadline}` : ''})\n`).join('');
  const measures = [s.rto ? describeMeasure('RTO', s.rto) : '', s.rpo ? describeMeasure('RPO', s.rpo) : ''].filter(Boolean).map((l) => `${l}\n`).join('');
  return head + cancel + gates + formatSteps(r) + (s.error ? `error: ${s.error}\n` : '') + measures;
}
