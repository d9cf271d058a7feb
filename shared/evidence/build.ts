// An evidence pack's content, derived from nothing but a run's trail. What the pack says (who
// requested, who voted, what ran, who confirmed, how fast) is read from the audit entries, so an
// offline verify can derive it again from the trail the pack carries and find any edit to it.
// Pure: the snapshot in, the sections out.
import { entriesByPosition, type AuditEntry, type TrailSnapshot, type JsonValue } from '../audit/index.js';
import { checkPayloadText, payloadOf } from '../audit/payloads.js';

type Obj = Record<string, JsonValue | undefined>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
/** Drops undefined fields, so a section is plain JSON and compares canonically. */
const clean = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

export interface PlanStepEvidence {
  id: string; kind: string; title?: string; effect?: string; site?: string; rendered?: string; instructions?: string; dependsOn: string[]; source?: string;
}
export interface VoteEvidence { seq: number; at: string; approver: string; approverName?: string; decision: string; channel?: string; comment?: string; outcome?: string; planHash?: string }
export interface GateEvidence {
  gate: string; title?: string; policy?: string; required?: number; approverGroups?: JsonValue; planHash?: string; requestedAt: string; requestedBy: string;
  votes: VoteEvidence[]; escalations: { at: string; added: string[] }[];
  decision: { status: string; at: string; approvers: string[]; rejectors: string[] } | null;
}
export interface CommandEvidence {
  /** The entry that sent it (the first that named it, for a command never sent): the table's order. */
  seq: number;
  stepId: string; attempt: number; commandId?: string; site?: string; rendered?: string; invocation?: JsonValue;
  dispatchedAt: string; answeredAt?: string; answeredBy?: string;
  /** succeeded, failed, rejected, outcome-unknown as the worker said; timed-out or malformed when no usable answer came. */
  outcome: string; exitCode?: number; error?: string; output?: JsonValue;
  precondition?: { ok: boolean; description?: string; results?: JsonValue };
  postcondition?: { ok: boolean; description?: string; results?: JsonValue; error?: string };
  refusedResults: number;
}
export interface ConfirmationEvidence { seq: number; at: string; stepId: string; by: string; byName?: string; channel?: string; comment?: string; instructions?: string; override?: JsonValue; check?: { ok: boolean; error?: string } }
export interface DecisionEvidence { seq: number; at: string; by: string; byName?: string; decision: string; stepId?: string; attempt?: number; reason?: string; finding?: string }
export interface MeasureEvidence { minutes?: number; targetMinutes?: number; met?: boolean; from?: string; to?: string; basis?: string }
export interface DeviationEvidence { kind: string; stepId?: string; seq?: number; text: string }
export interface TimelineEvidence { seq: number; at: string; kind: string; actor: string; text: string }

export interface EvidenceSections {
  run: {
    runId: string; runbook?: string; mode?: string; title?: string; options?: JsonValue; topology?: string;
    requestedBy?: string; requestedByName?: string; declaredAt?: string; configuration?: JsonValue;
    outcome: string; endedAt?: string; error?: string; steps?: Record<string, string>;
  };
  plan: { hash?: string; title?: string; targets?: JsonValue; locks: string[]; steps: PlanStepEvidence[] } | null;
  approvals: GateEvidence[];
  commands: CommandEvidence[];
  confirmations: ConfirmationEvidence[];
  decisions: DecisionEvidence[];
  measures: { rto: MeasureEvidence | null; rpo: MeasureEvidence | null; targetsSource?: string };
  deviations: DeviationEvidence[];
  timeline: TimelineEvidence[];
}

// step:<id>:attempt:<n>:<what>; a precheck's own command is step:<id>.precheck:attempt:<n>:dispatched.
const STEP_KEY = /^step:(.+?):attempt:(\d+):(.+)$/;
const CONFIRM_KEY = /^step:(.+):confirmation:(\d+):([a-z-]+)$/;
const GATE_KEY = /^gate:(.+):(requested|vote:\d+|escalated(?::\d+)?|decided)$/;

/** The data of an entry, with an offloaded payload read from the snapshot (undefined if it is missing or altered). */
function dataOf(e: AuditEntry, s: TrailSnapshot): JsonValue | undefined {
  const ref = payloadOf(e.data);
  if (!ref) return e.data;
  const checked = checkPayloadText(ref, s.payloads[ref.blob]);
  return checked.ok ? checked.data : undefined;
}

/** The sections of a run's evidence, from its trail in chain order. */
export function evidenceSections(s: TrailSnapshot): EvidenceSections {
  const entries = [...entriesByPosition(s.rows).entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
  const run: EvidenceSections['run'] = { runId: s.runId, outcome: 'not ended' };
  let plan: EvidenceSections['plan'] = null;
  const gates = new Map<string, GateEvidence>();
  const confirmations: ConfirmationEvidence[] = [];
  const decisions: DecisionEvidence[] = [];
  const measures: EvidenceSections['measures'] = { rto: null, rpo: null };
  const deviations: DeviationEvidence[] = [];
  const timeline: TimelineEvidence[] = [];

  const gateOf = (id: string, e: AuditEntry): GateEvidence => {
    let g = gates.get(id);
    if (!g) gates.set(id, (g = { gate: id, requestedAt: e.at, requestedBy: e.actor, votes: [], escalations: [], decision: null }));
    return g;
  };
  // A command is known by its id (dispatch and answer both carry it); a check recorded before the
  // dispatch (a precondition) waits in a record for its step and attempt.
  const commands: CommandEvidence[] = [];
  const commandOf = (stepId: string, attempt: number, commandId: string | undefined, e: AuditEntry): CommandEvidence => {
    let c = commandId !== undefined ? commands.find((x) => x.commandId === commandId) : undefined;
    c ??= commands.find((x) => x.stepId === stepId && x.attempt === attempt && (commandId === undefined || x.commandId === undefined));
    if (!c) commands.push((c = { seq: e.seq, stepId, attempt, dispatchedAt: e.at, outcome: 'not sent', refusedResults: 0 }));
    return c;
  };

  for (const e of entries) {
    const d = obj(dataOf(e, s));
    let text = e.kind;
    const step = STEP_KEY.exec(e.key);
    switch (e.kind) {
      case 'run-declared': {
        // run:config is the app's configuration read at the start (policies, operators, time-outs).
        if (e.key === 'run:config') { run.configuration = d as JsonValue; text = 'configuration read (approval policies, operators, time-outs)'; break; }
        Object.assign(run, clean({ runbook: str(d.runbook), mode: str(d.mode), options: d.options, topology: str(d.topology), requestedBy: e.actor, requestedByName: str(d.actorName), declaredAt: e.at }));
        text = `${str(d.mode) ?? 'run'} of ${str(d.runbook) ?? '?'} requested by ${e.actor}`;
        break;
      }
      case 'plan': {
        const p = obj(d.plan);
        const steps = Array.isArray(p.steps) ? p.steps.map(obj) : [];
        plan = {
          ...clean({ hash: str(d.planHash), title: str(p.title), targets: p.targets }),
          locks: strs(p.locks),
          steps: steps.map((st) => clean({
            id: str(st.id) ?? '?', kind: str(st.kind) ?? '?', title: str(st.title), effect: str(st.effect), site: str(st.site), rendered: str(st.rendered),
            instructions: str(st.instructions), dependsOn: strs(st.dependsOn), source: str(st.source),
          })),
        };
        if (plan.title) run.title = plan.title;
        text = `plan ${str(d.planHash) ?? ''} (${steps.length} steps)`;
        break;
      }
      case 'approval-requested':
      case 'vote':
      case 'gate-escalated':
      case 'gate-decided': {
        const id = GATE_KEY.exec(e.key)?.[1] ?? str(d.stepId) ?? '?';
        const g = gateOf(id, e);
        if (e.kind === 'approval-requested') {
          Object.assign(g, clean({ title: str(d.title), policy: str(d.policy), required: num(d.required), approverGroups: d.approverGroups, planHash: str(d.planHash), requestedAt: e.at, requestedBy: e.actor }));
          text = `approval requested: ${str(d.title) ?? id} (${num(d.required) ?? '?'} of the approvers)`;
        } else if (e.kind === 'vote') {
          const v: VoteEvidence = clean({ seq: e.seq, at: str(d.at) ?? e.at, approver: str(d.approver) ?? e.actor, approverName: str(d.approverName), decision: str(d.decision) ?? '?', channel: str(d.channel), comment: str(d.comment), outcome: str(d.outcome), planHash: str(d.planHash) });
          g.votes.push(v);
          text = `${v.approver} voted ${v.decision} on ${id} via ${v.channel ?? '?'}: ${v.outcome ?? ''}`;
          if (v.outcome && v.outcome !== 'accepted') deviations.push({ kind: 'vote-refused', seq: e.seq, stepId: id, text: `a ${v.decision} by ${v.approver} via ${v.channel ?? '?'} was ${v.outcome}` });
        } else if (e.kind === 'gate-escalated') {
          g.escalations.push({ at: e.at, added: strs(d.added) });
          text = `${id} escalated to ${strs(d.added).join(', ')}`;
          deviations.push({ kind: 'gate-escalated', seq: e.seq, stepId: id, text: `the approvers did not decide ${id} in time: escalated to ${strs(d.added).join(', ')}` });
        } else {
          g.decision = { status: str(d.status) ?? '?', at: str(d.decidedAt) ?? e.at, approvers: strs(d.approvers), rejectors: strs(d.rejectors) };
          text = `${id} ${g.decision.status}${g.decision.approvers.length ? ` by ${g.decision.approvers.join(', ')}` : ''}`;
          if (g.decision.status !== 'approved') deviations.push({ kind: 'gate-not-approved', seq: e.seq, stepId: id, text: `${id} was ${g.decision.status}${g.decision.rejectors.length ? ` (rejected by ${g.decision.rejectors.join(', ')})` : ''}` });
        }
        break;
      }
      case 'step-dispatched': {
        if (!step) break;
        const c = commandOf(step[1], Number(step[2]), str(d.commandId), e);
        Object.assign(c, clean({ seq: e.seq, commandId: str(d.commandId), site: str(d.site), invocation: d.invocation, dispatchedAt: e.at, outcome: 'no answer' }));
        c.rendered ??= plan?.steps.find((p) => p.id === step[1])?.rendered;
        text = `${step[1]} attempt ${step[2]} sent to the ${str(d.site) ?? '?'} worker`;
        break;
      }
      case 'step-result':
      case 'step-timed-out': {
        // A manual step's check answers under the confirmation's key: its command id finds it.
        const known = commands.find((x) => x.commandId !== undefined && x.commandId === str(d.commandId));
        if (!known && !step) break;
        const c = known ?? commandOf(step![1], Number(step![2]), str(d.commandId), e);
        const malformed = str(d.malformed) ?? (d.status === undefined && e.kind === 'step-result' ? str(d.error) : undefined);
        const outcome = e.kind === 'step-timed-out' ? 'timed-out' : malformed ? 'malformed' : str(d.status) ?? '?';
        const err = obj(d.error);
        Object.assign(c, clean({
          answeredAt: str(d.finishedAt) ?? e.at, answeredBy: e.actor, outcome, exitCode: num(d.exitCode), output: d.output,
          rendered: str(d.rendered) ?? c.rendered,
          error: e.kind === 'step-timed-out' ? str(d.error) : malformed ?? (str(err.message) ? `${str(err.kind) ?? 'error'}: ${str(err.message)}` : str(d.stderr)),
        }));
        text = `${c.stepId} attempt ${c.attempt}: ${outcome}${c.error ? `: ${c.error.slice(0, 200)}` : ''}`;
        if (outcome !== 'succeeded') deviations.push({ kind: `command-${outcome}`, seq: e.seq, stepId: c.stepId, text: `${c.stepId} attempt ${c.attempt}: ${outcome}${c.error ? ` (${c.error.slice(0, 300)})` : ''}` });
        break;
      }
      case 'result-refused': {
        const m = /^result-refused:(.+):(\d+):[^:]+$/.exec(e.key);
        const cid = str(d.commandId) ?? '';
        const c = commands.find((x) => x.commandId === cid);
        if (c) c.refusedResults++;
        text = `a result for ${cid || m?.[1] || '?'} was refused: ${str(d.reason) ?? ''}`;
        deviations.push({ kind: 'result-refused', seq: e.seq, ...(c ? { stepId: c.stepId } : {}), text });
        break;
      }
      case 'precondition-checked':
      case 'postcondition-checked': {
        const check = clean({ ok: d.ok === true, description: str(d.description), results: d.results, error: str(d.error) });
        const conf = CONFIRM_KEY.exec(e.key);
        if (step) {
          const c = commandOf(step[1], Number(step[2]), undefined, e);
          if (e.kind === 'precondition-checked') c.precondition = check; else c.postcondition = check;
        } else if (conf) {
          const cf = [...confirmations].reverse().find((x) => x.stepId === conf[1]);
          if (cf) cf.check = clean({ ok: check.ok, error: check.error });
        }
        const what = e.kind === 'precondition-checked' ? 'precondition' : 'check';
        text = `${step?.[1] ?? conf?.[1] ?? '?'}: ${what} ${check.ok ? 'held' : 'failed'}${check.description ? ` (${check.description})` : ''}`;
        if (!check.ok) deviations.push({ kind: `${what}-failed`, seq: e.seq, stepId: step?.[1] ?? conf?.[1], text });
        break;
      }
      case 'manual-confirmed': {
        const c: ConfirmationEvidence = clean({ seq: e.seq, at: e.at, stepId: str(d.stepId) ?? '?', by: e.actor, byName: str(d.actorName), channel: str(d.channel), comment: str(d.comment), instructions: str(d.instructions), override: d.override });
        confirmations.push(c);
        text = `${c.stepId} confirmed by ${c.by}${c.channel ? ` via ${c.channel}` : ''}${c.comment ? `: ${c.comment}` : ''}`;
        break;
      }
      case 'operator-decision': {
        const dec: DecisionEvidence = clean({
          seq: e.seq, at: e.at, by: e.actor, byName: str(d.actorName), decision: str(d.decision) ?? (d.refused !== undefined ? `refused ${str(d.refused) ?? ''}`.trim() : '?'),
          stepId: str(d.stepId), attempt: num(d.attempt), reason: str(d.reason), finding: str(d.finding),
        });
        decisions.push(dec);
        text = `${dec.by}: ${dec.decision}${dec.stepId ? ` ${dec.stepId}` : ''}${dec.reason ? ` (${dec.reason})` : ''}`;
        deviations.push({ kind: `decision-${dec.decision}`, seq: e.seq, stepId: dec.stepId, text: `an operator decision: ${text}` });
        break;
      }
      case 'rto-rpo': {
        const m = (v: unknown): MeasureEvidence | null => {
          const o = obj(v);
          if (Object.keys(o).length === 0) return null;
          return clean({ minutes: num(o.minutes), targetMinutes: num(o.targetMinutes), met: typeof o.met === 'boolean' ? o.met : undefined, from: str(o.from), to: str(o.to), basis: str(o.basis) });
        };
        Object.assign(measures, clean({ rto: m(d.rto), rpo: m(d.rpo), targetsSource: str(d.targetsSource) }));
        for (const [name, v] of [['RTO', measures.rto], ['RPO', measures.rpo]] as const) {
          if (v === null) deviations.push({ kind: `${name.toLowerCase()}-not-measured`, seq: e.seq, text: `${name} was not measured` });
          else if (v.met === false) deviations.push({ kind: `${name.toLowerCase()}-missed`, seq: e.seq, text: `${name} ${v.minutes ?? '?'} min missed its target of ${v.targetMinutes ?? '?'} min` });
        }
        text = `RTO ${measures.rto?.minutes ?? '-'} min, RPO ${measures.rpo?.minutes ?? '-'} min`;
        break;
      }
      case 'run-completed':
      case 'run-failed':
      case 'run-aborted': {
        const steps = Object.fromEntries(Object.entries(obj(d.steps)).filter((kv): kv is [string, string] => typeof kv[1] === 'string'));
        Object.assign(run, clean({ outcome: str(d.outcome) ?? e.kind.slice(4), endedAt: e.at, error: str(d.error), steps }));
        for (const [id, state] of Object.entries(steps)) if (state !== 'succeeded') deviations.push({ kind: `step-${state}`, seq: e.seq, stepId: id, text: `${id} ended ${state}` });
        if (run.outcome !== 'succeeded') deviations.push({ kind: `run-${run.outcome}`, seq: e.seq, text: `the run ${run.outcome}${run.error ? `: ${run.error.slice(0, 500)}` : ''}` });
        text = `run ${run.outcome}${run.error ? `: ${run.error.slice(0, 200)}` : ''}`;
        break;
      }
      case 'run-paused':
      case 'run-resumed':
        text = `${e.kind === 'run-paused' ? 'paused' : 'resumed'} by ${e.actor}${str(d.reason) ? `: ${str(d.reason)}` : ''}`;
        if (e.kind === 'run-paused') deviations.push({ kind: 'run-paused', seq: e.seq, text });
        break;
      default:
        text = e.kind;
    }
    timeline.push({ seq: e.seq, at: e.at, kind: e.kind, actor: e.actor, text });
  }
  if (run.outcome === 'not ended') deviations.push({ kind: 'run-not-ended', text: 'the trail has no end entry: the run had not ended when the pack was made' });
  return { run, plan, approvals: [...gates.values()], commands: commands.sort((a, b) => a.seq - b.seq), confirmations, decisions, measures, deviations, timeline };
}
