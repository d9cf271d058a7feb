// One coroutine per step kind. Each yields durable tasks and is resumed by the scheduler in
// run-plan.ts with the task's result, exactly as if it were an orchestrator of its own; it
// updates the step's entry in customStatus and audits every transition under a deterministic key
// (step:<id>:attempt:<n>:<what>), so a replay or a redelivered activity never writes twice.
import type { OrchestrationContext, Task } from 'durable-functions';
import type { AuditKind } from '../../shared/audit/schema.js';
import { ResultMessage, type VerificationResult } from '../../shared/messages.js';
import type { CommandStep, GateStep, ManualStep, Plan, PlanStep } from '../../shared/plan/schema.js';
import { executionModeFor, type AuditInput, type DispatchOutput, type VerifyDecisionInput, type VerifyDecisionOutput, type VerifyResultOutput } from '../../shared/runs/activities.js';
import {
  ConfirmEvent, DecisionEvent, EVENTS, ORCHESTRATION, gateInstanceId,
  type GateInput, type GateResult, type RunInput, type RunStatus, type StepStatus,
} from '../../shared/runs/contract.js';
import { checkExpectations } from '../../shared/runs/expect.js';
import type { activities } from './activities.js';
import { gateNotifyFields, notify } from './notify.js';
import type { TakenNonces } from './single-use.js';
import { impossibleShape } from './result-shape.js';
import { addMs, anyOf, cancelTimer, hasResult } from './tasks.js';
import { nameBeside } from '../../shared/identity/display.js';

export type StepEnd =
  | { kind: 'succeeded' } | { kind: 'skipped' } | { kind: 'failed' } | { kind: 'cancelled' }
  | { kind: 'abort'; reason: string } | { kind: 'rejected'; reason: string };

export interface RunState {
  input: RunInput;
  status: RunStatus;
  planHash: string;
  /** The plan being run (what gates show in their notifications). */
  plan?: Plan;
  records: Record<string, unknown>;
  /** Set when the run is being cancelled or aborted: no retries, no new decisions. */
  stopping: string | undefined;
  rtoClockStart: string | undefined;
  lastVerificationAt: string | undefined;
  now(): string;
  publish(): void;
  act: ReturnType<typeof activities>;
  context: OrchestrationContext;
  /** Executor version 5: the operators configured when the run started (undefined: anyone signed in). */
  operators?: string[];
  /** Executor version 5: decision events refused so far (each one's audit key). */
  refusals: number;
  /** Executor version 8: the single-use ids of the signed events this run has taken. */
  nonces: TakenNonces;
}

/** Why an event does not count, and a short code for it (bad-signature, stale, replayed, wrong-attempt, not-operator). */
export interface Refusal { reason: string; code: string }

/**
 * Executor version 5: why a decision event does not count (not signed by the API for this run and
 * target, or its identity is no operator), or undefined when it counts. Older runs count every
 * well-formed event, as they did. Version 8 also refuses a stale event (verifyDecision's clock),
 * one whose single-use id this run already took (replayed), and a step decision that names
 * another attempt than the failure it would answer (`attempt`).
 */
export function* decisionRefusal(run: RunState, kind: VerifyDecisionInput['kind'], target: string, event: unknown, by: string, attempt?: number): Generator<Task, Refusal | undefined, unknown> {
  const version = run.input.config.executorVersion ?? 1;
  if (version < 5) return undefined;
  const fresh = version >= 8;
  const v = (yield run.act.verifyDecision({ runId: run.input.runId, kind, target, event, ...(fresh ? { fresh: true } : {}) })) as VerifyDecisionOutput;
  if (!v.ok) return { reason: v.reason, code: v.code ?? 'bad-signature' };
  if (fresh) {
    const replayed = run.nonces.take(event);
    if (replayed) return { reason: replayed, code: 'replayed' };
    const named = (event as { attempt?: unknown }).attempt;
    if (attempt !== undefined && named !== attempt) {
      return { reason: `the decision answers attempt ${typeof named === 'number' ? named : 'none'}, but the step waits for a decision on attempt ${attempt}`, code: 'wrong-attempt' };
    }
  }
  if (run.operators && !run.operators.includes(by)) return { reason: `${by} is not an operator of this run (LYNCDR_OPERATORS when it started)`, code: 'not-operator' };
  return undefined;
}

/** A refused decision event in the trail: who it claimed to be from (actor lyncdr: the claim is not believed) and why. */
export function* auditRefusal(run: RunState, kind: VerifyDecisionInput['kind'], target: string, claimed: string, refusal: Refusal): Generator<Task, void, unknown> {
  const n = ++run.refusals;
  yield auditStep(run, `run:refused:${n}`, 'operator-decision', 'lyncdr', { refused: kind, target, claimedBy: claimed, reason: refusal.reason, code: refusal.code });
}

/** A manual step's check is one read: this long for the worker's answer. */
const CHECK_TIMEOUT_MS = 2 * 60_000;

/** Errors that no retry can fix: the message or the estate's answer says so. */
const PERMANENT = ['invalid-message', 'invalid-params', 'unknown-command', 'wrong-site', 'outcome-unknown'];
/**
 * From executor version 10 a refused precondition too: the estate is not in a state where the
 * command may run (or the worker cannot run it: not-supported travels as precondition), and the
 * same command moments later meets the same estate. Earlier runs retried it, and replay so.
 */
const permanentKinds = (run: RunState): readonly string[] => ((run.input.config.executorVersion ?? 1) >= 10 ? [...PERMANENT, 'precondition'] : PERMANENT);

export function stepRunner(run: RunState, step: PlanStep): Generator<Task, StepEnd, unknown> {
  switch (step.kind) {
    case 'command': return commandStep(run, step);
    case 'manual': return manualStep(run, step);
    case 'approval': return gateStep(run, step);
  }
}

const auditEntry = (run: RunState, key: string, kind: AuditKind, actor: string, data: unknown): AuditInput =>
  ({ runId: run.input.runId, key, kind, actor, at: run.now(), data });
const auditStep = (run: RunState, key: string, kind: AuditKind, actor: string, data: unknown): Task =>
  run.act.audit(auditEntry(run, key, kind, actor, data));
/** Writes what a step has to record, in order, in one activity. */
const auditAll = (run: RunState, entries: AuditInput[]): Task => run.act.audit(entries.length === 1 ? entries[0] : entries);

/** A step that waits for people from the start (a manual step, an approval gate). */
function beginWaiting(run: RunState, st: StepStatus, state: 'waiting-confirmation' | 'waiting-approval'): void {
  st.state = state;
  st.attempt = 1;
  st.startedAt = run.now();
  run.publish();
}

function finishStep(run: RunState, st: StepStatus, state: StepStatus['state'], error?: string): void {
  st.state = state;
  st.finishedAt = run.now();
  if (error !== undefined) st.lastError = error;
  run.publish();
}

type Attempt =
  | { ok: true; output: unknown; rendered?: string; verification?: VerificationResult }
  | { ok: false; error: string; retryable: boolean };

/**
 * Sends one command (with its verification riding along, when given) and waits for its result or
 * its deadline. Returns what came back and the audit entry that records it: the caller writes that
 * entry, alone or with the step's next ones, before the step goes on.
 */
function* sendAndWait(run: RunState, step: Pick<CommandStep, 'site'> & Partial<Pick<CommandStep, 'id' | 'records'>>, stepId: string, invocation: CommandStep['command'], attempt: number, timeoutMs: number, auditPrefix: string,
  verify?: CommandStep['command']): Generator<Task, { attempt: Attempt; record: AuditInput; answered: boolean }, unknown> {
  const { context, input } = run;
  const sent = (yield run.act.dispatchCommand({
    runId: input.runId, stepId, attempt, site: step.site, invocation, mode: executionModeFor(input.mode), timeoutMs, at: run.now(), queuePrefix: input.config.queuePrefix,
    // From executor 7 the worker keeps a recorded list whole, for the steps that take slices of it.
    ...(step.records && stepId === step.id && (input.config.executorVersion ?? 1) >= 7 ? { keep: step.records } : {}),
    ...(verify ? { verify: { stepId: `${stepId}.verify`, invocation: verify, timeoutMs } } : {}),
  })) as DispatchOutput;
  // The worker runs the check after the command, so it gets its own time on top.
  const waitMs = timeoutMs + (verify ? timeoutMs : 0) + input.config.resultGraceMs;
  let result = context.df.waitForExternalEvent(EVENTS.result(sent.commandId));
  const timer = context.df.createTimer(addMs(context.df.currentUtcDateTime, waitMs));
  // Executor version 12: what is raised as this command's result counts only when the worker of
  // the step's site signed it for this very command (verifyResult: the trigger's rule, bound to
  // what this wait sent). Anyone who can raise Durable events reaches the run without the trigger.
  const checked = (input.config.executorVersion ?? 1) >= 12;
  for (;;) {
    // The deadline may have passed while a refused event was being checked: a Task.any never
    // completes over a task already done, so it is taken without a yield.
    const winner: unknown = hasResult(timer) ? timer : yield anyOf(context, [result, timer]);
    if (winner === timer) {
      const error = `no result from the ${step.site} worker within ${waitMs} ms: outcome unknown (the command may have run)`;
      return { attempt: { ok: false, error, retryable: false }, record: auditEntry(run, `${auditPrefix}:timed-out`, 'step-timed-out', 'lyncdr', { commandId: sent.commandId, error }), answered: false };
    }
    if (!checked) break;
    const verdict = (yield run.act.verifyResult({ runId: input.runId, commandId: sent.commandId, stepId, site: step.site, attempt, event: result.result, at: run.now() })) as VerifyResultOutput;
    if (verdict.ok) break;
    // Refused and audited (result-refused) by the activity. The same attempt waits on under the
    // same deadline: nothing consumed, nothing retried. The SDK keeps an event of this name that
    // came meanwhile for this new wait (tasks.ts, oneWaiterPerEvent from version 11).
    result = context.df.waitForExternalEvent(EVENTS.result(sent.commandId));
  }
  cancelTimer(timer);
  const parsed = ResultMessage.safeParse(result.result);
  if (!parsed.success) {
    const error = `the worker's result is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
    return { attempt: { ok: false, error, retryable: false }, record: auditEntry(run, `${auditPrefix}:result`, 'step-result', 'lyncdr', { commandId: sent.commandId, error }), answered: false };
  }
  const r = parsed.data;
  const v = r.verification;
  const answer = {
    commandId: r.commandId, status: r.status, exitCode: r.exitCode, output: r.output, stderr: r.stderr?.slice(0, 4000), rendered: r.rendered,
    duplicate: r.duplicate, error: r.error, startedAt: r.startedAt, finishedAt: r.finishedAt,
    verification: v && { status: v.status, output: v.output, rendered: v.rendered, stderr: v.stderr?.slice(0, 4000), error: v.error, startedAt: v.startedAt, finishedAt: v.finishedAt },
  };
  const impossible = (input.config.executorVersion ?? 1) >= 10 ? impossibleShape(r, !!verify) : undefined;
  if (impossible) {
    // Recorded as it came (the worker's words are not believed: actor lyncdr), with why it does not count.
    const error = `the worker's result is malformed: ${impossible}`;
    return { attempt: { ok: false, error, retryable: false }, record: auditEntry(run, `${auditPrefix}:result`, 'step-result', 'lyncdr', { ...answer, workerId: r.workerId, malformed: error }), answered: false };
  }
  const record = auditEntry(run, `${auditPrefix}:result`, 'step-result', r.workerId, answer);
  if (r.status === 'succeeded') return { attempt: { ok: true, output: r.output, rendered: r.rendered, ...(v ? { verification: v } : {}) }, record, answered: true };
  const kind = r.error?.kind ?? (r.status === 'outcome-unknown' ? 'outcome-unknown' : 'execution');
  const error = `${r.status}${r.error ? ` (${r.error.kind}): ${r.error.message}` : r.stderr ? `: ${r.stderr.slice(0, 500)}` : ''}`;
  return { attempt: { ok: false, error, retryable: r.status !== 'outcome-unknown' && r.status !== 'rejected' && !permanentKinds(run).includes(kind) }, record, answered: true };
}

/** A bundled verification's answer, read like the answer of a command of its own. */
function checkedBy(v: VerificationResult): Attempt {
  if (v.status === 'succeeded') return { ok: true, output: v.output, ...(v.rendered ? { rendered: v.rendered } : {}) };
  return { ok: false, error: `${v.status}${v.error ? ` (${v.error.kind}): ${v.error.message}` : v.stderr ? `: ${v.stderr.slice(0, 500)}` : ''}`, retryable: true };
}

function* commandStep(run: RunState, step: CommandStep): Generator<Task, StepEnd, unknown> {
  const { context, input } = run;
  const st = run.status.steps[step.id];
  // Post-conditions. In what-if nothing changed, so there is nothing to verify.
  const verification = input.mode !== 'what-if' ? step.verification : undefined;
  // Preconditions are read in a real run only: in what-if nothing before this step changed.
  const precheck = input.mode !== 'what-if' && (input.config.executorVersion ?? 1) >= 15 ? step.precheck : undefined;
  // A run started by an executor before version 2 replays the way it ran: the check as a command
  // of its own, the command's result audited alone, the check's result and the verdict as two.
  const v1 = (input.config.executorVersion ?? 1) < 2;
  let attempt = 0;
  for (;;) {
    attempt++;
    st.attempt = attempt;
    st.state = 'running';
    st.startedAt ??= run.now();
    run.publish();
    const prefix = `step:${step.id}:attempt:${attempt}`;
    let outcome: Attempt;
    try {
      // From version 15 the state the command needs is read first; while it fails the command is
      // not sent, and the step waits for a decision with the finding (a retry reads again).
      const refused = precheck ? yield* checkBefore(run, step, precheck, attempt, prefix) : undefined;
      if (refused) throw new PreconditionRefused(refused);
      const main = yield* sendAndWait(run, step, step.id, step.command, attempt, step.timeoutMs, prefix, v1 ? undefined : verification?.command);
      outcome = main.attempt;
      // Everything the step learns is recorded before the step ends (or anything else is sent).
      const records = [main.record];
      if (v1 && verification) yield auditAll(run, records.splice(0));
      if (outcome.ok) {
        if (outcome.rendered) st.rendered = outcome.rendered;
        if (verification) {
          let checked: unknown = outcome.output;
          let verifyError: string | undefined;
          if (verification.command) {
            let v: Attempt;
            if (outcome.verification) {
              v = checkedBy(outcome.verification);
            } else {
              // The worker answered without the check (an older worker, or it stopped between the
              // two): the command's result is recorded, then the check goes on its own.
              if (records.length) yield auditAll(run, records.splice(0));
              const sent = yield* sendAndWait(run, step, `${step.id}.verify`, verification.command, attempt, step.timeoutMs, `${prefix}:verify`);
              // v1 recorded a check that never answered (timed out, malformed) at once, on its own.
              if (v1 && !sent.answered) yield auditAll(run, [sent.record]);
              else records.push(sent.record);
              v = sent.attempt;
            }
            if (v.ok) checked = v.output; else verifyError = `verification command failed: ${v.error}`;
          }
          // From version 13 a command's check may compare with what the run recorded before (an
          // import's count against the users the pre-flight listed); earlier runs checked the
          // output alone, and replay so.
          const check = verifyError ? undefined : checkExpectations(checked, verification.expect, (input.config.executorVersion ?? 1) >= 13 ? run.records : {});
          records.push(auditEntry(run, `${prefix}:verified`, 'postcondition-checked', 'lyncdr', {
            description: verification.description, ok: !!check?.ok, results: check?.results, error: verifyError,
          }));
          if (!check?.ok) {
            const why = verifyError ?? check!.results.filter((x) => !x.ok).map((x) => `${x.description} (${x.detail})`).join('; ');
            outcome = { ok: false, error: `verification failed: ${why}`, retryable: step.retrySafe };
          }
        }
      }
      if (v1 && records.length > 1) yield context.df.Task.all(records.map((r) => run.act.audit(r)));
      else if (records.length) yield auditAll(run, records);
    } catch (err) {
      // An activity failed (transport or storage): the command may not have been sent at all.
      outcome = err instanceof PreconditionRefused ? { ok: false, error: err.message, retryable: false }
        : { ok: false, error: `system error: ${(err as Error).message}`, retryable: false };
    }
    if (outcome.ok) {
      if (step.records) run.records[step.records] = outcome.output;
      run.lastVerificationAt = run.now();
      finishStep(run, st, 'succeeded');
      return { kind: 'succeeded' };
    }
    st.lastError = outcome.error;
    if (run.stopping) {
      finishStep(run, st, 'failed');
      return { kind: 'failed' };
    }
    if (outcome.retryable && step.retrySafe && attempt < step.retry.maxAttempts) {
      const delay = step.retry.firstIntervalMs * Math.pow(step.retry.backoffCoefficient, attempt - 1);
      run.publish();
      if (delay > 0) yield context.df.createTimer(addMs(context.df.currentUtcDateTime, delay));
      continue;
    }
    const d = yield* waitForDecision(run, step, attempt);
    if (d === 'retry') continue;
    if (d === 'skip') { finishStep(run, st, 'skipped'); return { kind: 'skipped' }; }
    finishStep(run, st, 'failed');
    return { kind: 'abort', reason: `step ${step.id} failed and the run was aborted (${st.decisions?.at(-1)?.by ?? 'lyncdr'})` };
  }
}

/** A precheck that did not hold: the command was not sent. */
class PreconditionRefused extends Error {}

/**
 * Reads the state a command needs (its precheck) on the step's site and records what was read and
 * the verdict. Returns why the command may not be sent, or undefined when it may.
 */
function* checkBefore(run: RunState, step: CommandStep, check: NonNullable<CommandStep['precheck']>, attempt: number, prefix: string): Generator<Task, string | undefined, unknown> {
  const sent = yield* sendAndWait(run, step, `${step.id}.precheck`, check.command, attempt, step.timeoutMs, `${prefix}:precheck`);
  const read = sent.attempt;
  const verdict = read.ok ? checkExpectations(read.output, check.expect, run.records) : undefined;
  const error = read.ok ? undefined : `the precheck could not read the estate: ${read.error}`;
  yield auditAll(run, [sent.record, auditEntry(run, `${prefix}:prechecked`, 'precondition-checked', 'lyncdr', {
    description: check.description, ok: !!verdict?.ok, results: verdict?.results, error,
  })]);
  if (verdict?.ok) return undefined;
  const why = error ?? verdict!.results.filter((x) => !x.ok).map((x) => `${x.description} (${x.detail})`).join('; ');
  return `precondition not met, the command was not sent: ${why}`;
}

/** The step failed for good: an operator says retry, skip or abort (or the wait times out: abort). */
function* waitForDecision(run: RunState, step: PlanStep, attempt: number): Generator<Task, 'retry' | 'skip' | 'abort', unknown> {
  const { context, input } = run;
  const st = run.status.steps[step.id];
  st.state = 'waiting-decision';
  run.publish();
  yield* notify(run, { kind: 'decision-needed', stepId: step.id, stepTitle: step.title, attempt, error: (st.lastError ?? 'failed').slice(0, 2000) });
  const deadline = context.df.createTimer(addMs(context.df.currentUtcDateTime, input.config.decisionTimeoutMinutes * 60_000));
  let event = context.df.waitForExternalEvent(EVENTS.decision(step.id));
  // finally: also when the run stops and closes this coroutine while it waits.
  try {
    for (;;) {
      const winner: unknown = deadlineFirst(run, deadline) ?? (yield anyOf(context, [event, deadline]));
      let d: DecisionEvent;
      if (winner === deadline) {
        d = { decision: 'abort', by: 'lyncdr', comment: `no decision within ${input.config.decisionTimeoutMinutes} minutes` };
      } else {
        const parsed = DecisionEvent.safeParse(event.result);
        if (!parsed.success) { event = context.df.waitForExternalEvent(EVENTS.decision(step.id)); continue; }
        const notCounted = yield* decisionRefusal(run, 'decision', step.id, event.result, parsed.data.by, attempt);
        if (notCounted) {
          yield* auditRefusal(run, 'decision', step.id, parsed.data.by, notCounted);
          event = context.df.waitForExternalEvent(EVENTS.decision(step.id));
          continue;
        }
        const { sig: _sig, signedAt: _at, attempt: _attempt, ...decided } = parsed.data;
        d = decided;
        cancelTimer(deadline);
      }
      const at = run.now();
      // The decider's signed UPN, for display: beside `by` in the status, `actorName` in the trail.
      const { byName: claimedName, ...decision } = d;
      const byName = nameBeside(d.by, claimedName);
      (st.decisions ??= []).push({ decision: d.decision, by: d.by, ...(byName ? { byName } : {}), at });
      st.state = d.decision === 'retry' ? 'running' : st.state;
      run.publish();
      // From version 14 the decision is audited with the failure it answered: a skip past
      // pchat-check-log-tail names the log backups given up and the times they cover.
      const finding = (input.config.executorVersion ?? 1) >= 14 && st.lastError ? { finding: st.lastError.slice(0, 4000) } : {};
      yield auditStep(run, `step:${step.id}:attempt:${attempt}:decision`, 'operator-decision', d.by, { stepId: step.id, attempt, ...decision, ...(byName ? { actorName: byName } : {}), ...finding });
      return d.decision;
    }
  } finally {
    cancelTimer(deadline);
  }
}

/**
 * Executor version 11: a deadline that passed while a refused decision or confirmation was being
 * checked is taken at once. The SDK's Task.any never completes over a task already done, so the
 * step would otherwise wait past its deadline until some other event came. Older runs replay as
 * they ran.
 */
const deadlineFirst = (run: RunState, deadline: Task): Task | undefined =>
  ((run.input.config.executorVersion ?? 1) >= 11 && hasResult(deadline) ? deadline : undefined);

function* manualStep(run: RunState, step: ManualStep): Generator<Task, StepEnd, unknown> {
  const { context, input } = run;
  const st = run.status.steps[step.id];
  beginWaiting(run, st, 'waiting-confirmation');
  yield* notify(run, { kind: 'manual-waiting', stepId: step.id, stepTitle: step.title, instructions: step.instructions.slice(0, 8000) });
  const deadline = context.df.createTimer(addMs(context.df.currentUtcDateTime, input.config.confirmationTimeoutMinutes * 60_000));
  let event = context.df.waitForExternalEvent(EVENTS.confirm(step.id));
  let confirmations = 0;
  try {
    for (;;) {
      const winner: unknown = deadlineFirst(run, deadline) ?? (yield anyOf(context, [event, deadline]));
      if (winner === deadline) {
        const reason = `manual step ${step.id} was not confirmed within ${input.config.confirmationTimeoutMinutes} minutes`;
        finishStep(run, st, 'failed', reason);
        return { kind: 'abort', reason };
      }
      const parsed = ConfirmEvent.safeParse(event.result);
      if (!parsed.success) { event = context.df.waitForExternalEvent(EVENTS.confirm(step.id)); continue; }
      const notCounted = yield* decisionRefusal(run, 'confirm', step.id, event.result, parsed.data.by);
      if (notCounted) {
        yield* auditRefusal(run, 'confirm', step.id, parsed.data.by, notCounted);
        event = context.df.waitForExternalEvent(EVENTS.confirm(step.id));
        continue;
      }
      const c = parsed.data;
      // The confirmer's signed UPN, for display: beside `by` in the status, `actorName` in the trail.
      const byName = nameBeside(c.by, c.byName);
      const named = byName ? { byName } : {};
      const actorName = byName ? { actorName: byName } : {};
      if (checks(run, step)) {
        // Each confirmation is checked, and audited under its own key (a refused one is kept).
        confirmations++;
        const prefix = `step:${step.id}:confirmation:${confirmations}`;
        st.state = 'running';
        run.publish();
        yield auditStep(run, `${prefix}:confirmed`, 'manual-confirmed', c.by, { stepId: step.id, ...actorName, instructions: step.instructions, comment: c.comment, ...(c.channel ? { channel: c.channel } : {}), ...(c.client ? { client: c.client } : {}), ...(c.override ? { override: c.override } : {}) });
        const finding = yield* checkManualStep(run, step, confirmations, prefix);
        (st.decisions ??= []).push({ decision: finding && c.override ? 'override' : 'confirm', by: c.by, ...named, at: run.now() });
        if (finding && !c.override) {
          // Back to waiting, with what the check found; the deadline keeps running.
          st.state = 'waiting-confirmation';
          st.lastError = `confirmation by ${c.by} refused: the check failed: ${finding}`;
          run.publish();
          event = context.df.waitForExternalEvent(EVENTS.confirm(step.id));
          continue;
        }
        cancelTimer(deadline);
        if (finding) {
          yield auditStep(run, `${prefix}:override`, 'operator-decision', c.by, { stepId: step.id, decision: 'override', ...actorName, reason: c.override!.reason, finding });
          st.lastError = `check overridden by ${c.by} (${c.override!.reason.slice(0, 200)}): ${finding}`;
        } else {
          delete st.lastError;
        }
        if (step.records) run.records[step.records] = { confirmedBy: c.by, comment: c.comment, at: run.now(), ...(finding ? { overridden: { finding, reason: c.override!.reason } } : {}) };
        finishStep(run, st, 'succeeded');
        return { kind: 'succeeded' };
      }
      cancelTimer(deadline);
      yield auditStep(run, `step:${step.id}:confirmed`, 'manual-confirmed', parsed.data.by, { stepId: step.id, ...actorName, instructions: step.instructions, comment: parsed.data.comment, ...(parsed.data.channel ? { channel: parsed.data.channel } : {}), ...(parsed.data.client ? { client: parsed.data.client } : {}) });
      if (step.records) run.records[step.records] = { confirmedBy: parsed.data.by, comment: parsed.data.comment, at: run.now() };
      (st.decisions ??= []).push({ decision: 'confirm', by: parsed.data.by, ...named, at: run.now() });
      finishStep(run, st, 'succeeded');
      return { kind: 'succeeded' };
    }
  } finally {
    cancelTimer(deadline);
  }
}

/** Runs by executor version 6 and later check a manual step's work when it is confirmed (what-if changes nothing, so nothing to check). */
const checks = (run: RunState, step: ManualStep): step is ManualStep & { site: string; verification: NonNullable<ManualStep['verification']> } =>
  (run.input.config.executorVersion ?? 1) >= 6 && run.input.mode !== 'what-if' && !!step.verification && !!step.site;

/** Sends the manual step's read-only check and returns what it found wrong, or undefined when the work is done. */
function* checkManualStep(run: RunState, step: ManualStep & { site: string; verification: NonNullable<ManualStep['verification']> }, n: number, prefix: string): Generator<Task, string | undefined, unknown> {
  const v = step.verification;
  let finding: string | undefined;
  let results: unknown;
  try {
    const timeoutMs = CHECK_TIMEOUT_MS;
    const sent = yield* sendAndWait(run, step, `${step.id}.verify`, v.command, n, timeoutMs, `${prefix}:verify`);
    yield auditAll(run, [sent.record]);
    if (!sent.attempt.ok) {
      finding = `check command failed: ${sent.attempt.error}`;
    } else {
      const check = checkExpectations(sent.attempt.output, v.expect, run.records);
      results = check.results;
      if (!check.ok) finding = check.results.filter((x) => !x.ok).map((x) => `${x.description} (${x.detail})`).join('; ');
    }
  } catch (err) {
    finding = `system error: ${(err as Error).message}`;
  }
  yield auditStep(run, `${prefix}:verified`, 'postcondition-checked', 'lyncdr', { description: v.description, ok: !finding, results, ...(finding ? { error: finding } : {}) });
  return finding?.slice(0, 2000);
}

function* gateStep(run: RunState, step: GateStep): Generator<Task, StepEnd, unknown> {
  const { context, input } = run;
  const st = run.status.steps[step.id];
  beginWaiting(run, st, 'waiting-approval');
  const policy = input.config.approvalPolicies[step.policy] ?? input.config.approvalPolicies.default;
  const gate: GateInput = {
    runId: input.runId, stepId: step.id, title: step.title, reason: step.reason, planHash: run.planHash,
    requester: input.requestedBy, policyName: input.config.approvalPolicies[step.policy] ? step.policy : 'default', policy,
    ...gateNotifyFields(run, run.plan),
    ...((input.config.executorVersion ?? 1) >= 5 ? { signedVotes: true } : {}),
    ...((input.config.executorVersion ?? 1) >= 8 ? { singleUse: true } : {}),
    ...((input.config.executorVersion ?? 1) >= 11 ? { oneWaiterPerEvent: true } : {}),
  };
  const result = (yield context.df.callSubOrchestrator(ORCHESTRATION.approvalGate, gate, gateInstanceId(input.runId, step.id))) as GateResult;
  st.approvers = result.approvers;
  // The approvers' signed UPNs, for display beside them (a gate of an older version sends none).
  const names = result.approvers.filter((id) => result.names && Object.hasOwn(result.names, id)).map((id) => [id, result.names![id]] as const);
  if (names.length) st.approverNames = Object.fromEntries(names);
  if (result.status === 'approved') {
    if (step.startsRtoClock && !run.rtoClockStart) run.rtoClockStart = result.decidedAt;
    finishStep(run, st, 'succeeded');
    return { kind: 'succeeded' };
  }
  const reason = `approval ${step.id} ${result.status}: ${result.reason ?? ''}`.trim();
  finishStep(run, st, result.status === 'cancelled' ? 'cancelled' : 'failed', reason);
  if (result.status === 'cancelled') return { kind: 'cancelled' };
  return result.status === 'rejected' ? { kind: 'rejected', reason } : { kind: 'abort', reason };
}
