// The one executor: runs any Plan. Build the plan (an activity: it lands in history and the audit
// trail), take the locks, wait for the maintenance window, then run the DAG: every ready step
// starts at once and each step is a small coroutine (steps.ts) that yields durable tasks; the
// scheduler below races all of them, plus the `cancel` event and the window timer, and resumes
// whichever finished. At the end RTO / RPO are measured, audited, and the report returned.
import type { OrchestrationContext, Task } from 'durable-functions';
import type { AuditKind } from '../../shared/audit/schema.js';
import type { Plan, PlanStep } from '../../shared/plan/schema.js';
import type { AcquireLocksOutput, BuildPlanOutput, CheckStartOutput } from '../../shared/runs/activities.js';
import {
  CancelEvent, EVENTS, PauseEvent, RunInput, STATUS_CONTRACT_VERSION, gateInstanceId,
  type RunOutcome, type RunReport, type RunStatus, type StepRow, type StepState,
} from '../../shared/runs/contract.js';
import { blockedSteps, readySteps } from '../../shared/runs/dag.js';
import { measureRpo, measureRto } from '../../shared/runs/measure.js';
import { initialStepStatus, summarize } from '../../shared/runs/summary.js';
import { activities } from './activities.js';
import { notify } from './notify.js';
import { StepRowTracker } from './step-rows.js';
import { auditRefusal, decisionRefusal, stepRunner, type RunState, type StepEnd } from './steps.js';
import { TakenNonces } from './single-use.js';
import { anyOf, cancelTimer, hasResult } from './tasks.js';
import { nameBeside, shownAs } from '../../shared/identity/display.js';

const WAITING: StepState[] = ['waiting-approval', 'waiting-decision', 'waiting-confirmation'];

export function* runPlan(context: OrchestrationContext): Generator<Task, RunReport, unknown> {
  const input = RunInput.parse(context.df.getInput());
  const version = input.config.executorVersion ?? 1;
  const now = () => context.df.currentUtcDateTime.toISOString();
  const startedAt = now();
  // Every step's status, in memory; customStatus gets the summary, the step rows the details.
  const status: RunStatus = {
    v: STATUS_CONTRACT_VERSION, runId: input.runId, runbook: input.runbook, mode: input.mode, requestedBy: input.requestedBy,
    phase: 'planning', steps: {}, order: [], updatedAt: startedAt,
  };
  const rows = new StepRowTracker(status);
  const act = activities(context, () => rows.take());
  const publish = () => { status.updatedAt = now(); context.df.setCustomStatus(summarize(status)); };
  const audit = (key: string, kind: AuditKind, actor: string, data: unknown) => act.audit({ runId: input.runId, key, kind, actor, at: now(), data });
  publish();

  // 0. Executor version 5: only an input the API signed runs, and it runs under the configuration
  // the checkStart activity read from the app's settings (recorded in history and the trail), not
  // under the policies, operators and time-outs its input names.
  let operators: string[] | undefined;
  let refused: string | undefined;
  if (version >= 5) {
    const checked = (yield act.checkStart({ input: context.df.getInput(), at: startedAt })) as CheckStartOutput;
    if (checked.ok) {
      input.config = { ...checked.config, executorVersion: version };
      operators = checked.operators;
      // The starter's name was sealed with the input: shown beside requestedBy now that the seal held.
      if (input.requestedByName) status.requestedByName = input.requestedByName;
    } else {
      refused = checked.reason;
    }
  }
  // 1. The plan, from the configured topology, recorded in history and audited with its hash.
  // No version downgrade: an input naming a version before 5 (or none) skips step 0, so the plan
  // builder gets the input too and refuses it unless the app's key sealed it. Sound without I/O
  // here because of what history holds: a run that really started before version 5 scheduled this
  // activity as its first action, with an input without the field; replayed, it takes the result
  // from history (or, still in flight, the activity runs with the input recorded then), so only a
  // run whose first episode runs this code, a new one, ever executes it with the field. (Azure and
  // the local host match a replayed action to history by name, not input: old runs replay.)
  const built = refused !== undefined ? { ok: false as const, error: refused } : (yield act.buildPlan({
    runId: input.runId, runbook: input.runbook, options: input.options, mode: input.mode, requestedBy: input.requestedBy,
    ...(status.requestedByName ? { requestedByName: status.requestedByName } : {}), at: startedAt, policies: Object.keys(input.config.approvalPolicies), ...(version >= 3 ? { writeSteps: true } : {}),
    ...(version < 5 ? { olderVersion: { version, input: context.df.getInput() } } : {}),
  })) as BuildPlanOutput;
  const run: RunState = {
    input, status, records: {}, stopping: undefined, rtoClockStart: undefined, lastVerificationAt: undefined, now, publish, act, context,
    planHash: built.ok ? built.planHash : '', plan: built.ok ? built.plan : undefined, operators, refusals: 0, nonces: new TakenNonces(),
  };

  const finish = function* (outcome: RunOutcome, error: string | undefined, plan: Plan | undefined, locked: boolean): Generator<Task, RunReport, unknown> {
    status.phase = outcome;
    status.error = error;
    for (const id of status.order) if (['pending', ...WAITING].includes(status.steps[id].state)) status.steps[id].state = 'cancelled';
    if (plan) {
      status.rto = measureRto(run.rtoClockStart, run.lastVerificationAt, plan.targets.rtoMinutes);
      status.rpo = measureRpo(run.records, run.rtoClockStart ?? startedAt, plan.targets.rpoMinutes);
      yield audit('run:rto-rpo', 'rto-rpo', 'lyncdr', { rto: status.rto, rpo: status.rpo, targetsSource: plan.targets.source });
    }
    const kind: AuditKind = outcome === 'succeeded' ? 'run-completed' : outcome === 'failed' ? 'run-failed' : 'run-aborted';
    yield audit('run:end', kind, status.cancelRequested?.by ?? 'lyncdr', { ...(status.cancelRequested?.byName ? { actorName: status.cancelRequested.byName } : {}), outcome, error, steps: Object.fromEntries(status.order.map((id) => [id, status.steps[id].state])) });
    if (locked && plan) yield act.releaseLocks({ runId: input.runId, locks: plan.locks, at: now() });
    publish();
    yield* notify(run, { kind: 'run-ended', outcome, ...(error ? { error: error.slice(0, 2000) } : {}), ...(status.rto ? { rto: status.rto } : {}), ...(status.rpo ? { rpo: status.rpo } : {}) });
    return {
      v: 1, runId: input.runId, runbook: input.runbook, mode: input.mode, outcome, planHash: status.planHash, error, startedAt, finishedAt: now(),
      steps: status.steps, records: run.records, rto: status.rto, rpo: status.rpo,
    };
  };

  if (!built.ok) return yield* finish('failed', built.error, undefined, false);
  const plan = built.plan;
  status.planHash = built.planHash;
  status.title = plan.title;
  status.order = plan.steps.map((s) => s.id);
  for (const s of plan.steps) status.steps[s.id] = initialStepStatus(s);
  if (version >= 3) rows.assumeWritten();

  // 2. Locks: refused at once, with the holder, if another run holds one.
  status.phase = 'locking';
  publish();
  const lock = (yield act.acquireLocks({ runId: input.runId, locks: plan.locks, at: now() })) as AcquireLocksOutput;
  if (!lock.ok) return yield* finish('failed', lock.reason ?? `lock ${lock.lock} is held by run ${lock.heldBy}${lock.since ? ` since ${lock.since}` : ''}: only one run may act on it at a time`, plan, false);

  try {
    if (lock.tookOver?.length) yield audit('run:locks-taken-over', 'lock-released', 'lyncdr', { tookOver: lock.tookOver });
    // 3 + 4. The window (gates may be decided before it opens) and the DAG.
    let cancel = context.df.waitForExternalEvent(EVENTS.cancel);
    let window: Task | undefined;
    let windowOpen = true;
    if (plan.maintenanceWindow && Date.parse(plan.maintenanceWindow.startsAt) > context.df.currentUtcDateTime.getTime()) {
      window = context.df.createTimer(new Date(plan.maintenanceWindow.startsAt));
      windowOpen = false;
      status.windowOpensAt = plan.maintenanceWindow.startsAt;
    }
    status.phase = windowOpen ? 'running' : 'waiting-window';
    publish();
    // Executor version 8: pause and resume are signed events the run takes at step boundaries (a
    // Durable suspend is seen by no orchestrator, so it could not be refused). Paused, no new step
    // starts; what is in flight finishes; the run waits for a signed resume.
    const pausable = version >= 8;
    // Executor version 11: an event raised while the run is busy is kept for its next wait (tasks.ts).
    const waits = { oneWaiterPerEvent: version >= 11 };
    let pauseEvent = pausable ? context.df.waitForExternalEvent(EVENTS.pause) : undefined;
    let resumeEvent = pausable ? context.df.waitForExternalEvent(EVENTS.resume) : undefined;
    let turns = 0;
    const pendingLeft = () => plan.steps.some((s) => status.steps[s.id].state === 'pending');

    interface Live { step: PlanStep; gen: Generator<Task, StepEnd, unknown>; task: Task }
    let flush: Task | undefined;
    let flushed: StepRow[] = [];
    const live = new Map<string, Live>();
    let abort: { outcome: 'aborted' | 'rejected'; reason: string } | undefined;

    const settle = (l: Live, next: IteratorResult<Task, StepEnd>) => {
      if (!next.done) { l.task = next.value; return; }
      live.delete(l.step.id);
      const end = next.value;
      if ((end.kind === 'abort' || end.kind === 'rejected') && !abort && !run.stopping) {
        abort = { outcome: end.kind === 'rejected' ? 'rejected' : 'aborted', reason: end.reason };
        stop(end.reason);
      }
    };
    // No new step starts; steps waiting on a person are cancelled; commands in flight finish.
    const stop = (reason: string) => {
      run.stopping = reason;
      for (const l of [...live.values()]) {
        const st = status.steps[l.step.id];
        if (WAITING.includes(st.state)) {
          l.gen.return({ kind: 'cancelled' });
          live.delete(l.step.id);
          st.state = 'cancelled';
          st.finishedAt = now();
          st.lastError = reason;
        }
      }
      publish();
    };

    for (;;) {
      if (!run.stopping && !status.paused) {
        for (const s of readySteps(plan.steps, (id) => status.steps[id].state)) {
          if (!windowOpen && s.kind !== 'approval') continue;
          status.steps[s.id].state = 'running';
          const l: Live = { step: s, gen: stepRunner(run, s), task: undefined as unknown as Task };
          live.set(s.id, l);
          settle(l, l.gen.next());
        }
        for (const s of blockedSteps(plan.steps, (id) => status.steps[id].state)) {
          status.steps[s.id].state = 'cancelled';
          status.steps[s.id].lastError = 'a step it depends on failed';
        }
        publish();
      }
      if (live.size === 0) {
        if (status.paused && !run.stopping && pendingLeft()) {
          // Paused with nothing in flight: wait below for the resume (or a cancel).
        } else if (!windowOpen && !run.stopping && pendingLeft()) {
          const w: unknown = (waits.oneWaiterPerEvent ? [window!, cancel].find(hasResult) : undefined) ?? (yield anyOf(context, [window!, cancel], waits));
          if (w === window) { windowOpen = true; status.phase = 'running'; delete status.windowOpensAt; publish(); continue; }
        } else {
          break;
        }
      }
      // A pause or resume that arrived while the run waited on something else is taken first.
      const done = [...live.values()].find((l) => hasResult(l.task)) ?? [pauseEvent, resumeEvent].filter((t) => t && hasResult(t)).map((task) => ({ task: task! }))[0];
      let winner: Task;
      if (done) {
        winner = done.task;
      } else {
        const extra: Task[] = [];
        if (!status.cancelRequested) extra.push(cancel);
        if (!windowOpen) extra.push(window!);
        if (pauseEvent && resumeEvent) extra.push(pauseEvent, resumeEvent);
        // About to wait with step rows no activity carried (a step ended and nothing was sent
        // since): record them alongside the wait, without holding anything up.
        if (version >= 3 && !flush) {
          flushed = rows.take();
          if (flushed.length) flush = act.recordSteps({ runId: input.runId, steps: flushed });
        }
        if (flush) extra.push(flush);
        const waitingOn = [...[...live.values()].map((l) => l.task), ...extra];
        // Executor version 11: a cancel (or any task here) can complete while the run is busy with
        // another that completed in the same turn; the SDK's Task.any never completes over a task
        // already done, and would list its answered wait again, so it is taken without a yield.
        winner = ((waits.oneWaiterPerEvent ? waitingOn.find(hasResult) : undefined) ?? (yield anyOf(context, waitingOn, waits))) as Task;
      }
      if (winner === flush) {
        if ((flush as unknown as { isFaulted: boolean }).isFaulted) rows.forget(flushed);
        flush = undefined;
        continue;
      }
      if (winner === cancel) {
        const c = CancelEvent.safeParse(cancel.result);
        const by = c.success ? c.data.by : 'unknown';
        const reason = c.success ? c.data.reason : 'cancel event without a valid body';
        const notCounted = yield* decisionRefusal(run, 'cancel', 'run', cancel.result, by);
        if (notCounted) {
          yield* auditRefusal(run, 'cancel', 'run', by, notCounted);
          cancel = context.df.waitForExternalEvent(EVENTS.cancel);
          continue;
        }
        // The canceller's signed UPN, for display beside the identity (never compared).
        const byName = c.success ? nameBeside(by, c.data.byName) : undefined;
        status.cancelRequested = { by, ...(byName ? { byName } : {}), reason, at: now() };
        yield audit('run:cancel', 'operator-decision', by, { decision: 'cancel', ...(byName ? { actorName: byName } : {}), reason, ...(c.success && c.data.channel ? { channel: c.data.channel } : {}) });
        stop(`cancelled by ${shownAs(by, byName)}: ${reason}`);
        continue;
      }
      if (pauseEvent && resumeEvent && (winner === pauseEvent || winner === resumeEvent)) {
        const pausing = winner === pauseEvent;
        const kind = pausing ? 'pause' : 'resume';
        const raw = winner.result;
        if (pausing) pauseEvent = context.df.waitForExternalEvent(EVENTS.pause);
        else resumeEvent = context.df.waitForExternalEvent(EVENTS.resume);
        const p = PauseEvent.safeParse(raw);
        const by = p.success ? p.data.by : 'unknown';
        let notCounted = p.success ? yield* decisionRefusal(run, kind, 'run', raw, by) : { reason: `not a valid ${kind} body`, code: 'invalid' };
        if (!notCounted && pausing === !!status.paused) {
          notCounted = pausing ? { reason: `the run is already paused (by ${status.paused!.by})`, code: 'already-paused' } : { reason: 'the run is not paused', code: 'not-paused' };
        }
        if (notCounted) {
          yield* auditRefusal(run, kind, 'run', by, notCounted);
          continue;
        }
        const { reason, channel } = p.data!;
        const byName = nameBeside(by, p.data!.byName);
        // The gates it waits on are named: their outcome is held (no step after them starts) until it resumes.
        const gates = status.order.filter((id) => status.steps[id].state === 'waiting-approval').map((id) => gateInstanceId(input.runId, id));
        turns++;
        if (pausing) status.paused = { by, ...(byName ? { byName } : {}), reason, at: now() };
        else delete status.paused;
        yield audit(`run:${pausing ? 'paused' : 'resumed'}:${turns}`, pausing ? 'run-paused' : 'run-resumed', by, { ...(byName ? { actorName: byName } : {}), reason, gates, ...(channel ? { channel } : {}) });
        publish();
        continue;
      }
      if (winner === window) {
        windowOpen = true;
        status.phase = 'running';
        delete status.windowOpensAt;
        publish();
        continue;
      }
      const l = [...live.values()].find((x) => x.task === winner);
      if (!l) continue;
      const faulted = (winner as unknown as { isFaulted: boolean }).isFaulted;
      settle(l, faulted ? l.gen.throw(winner.result) : l.gen.next(winner.result));
    }

    // A run cancelled before its window opened no longer waits for it; a row write still in
    // flight is waited for, so the run ends with nothing outstanding.
    cancelTimer(window);
    if (flush && !hasResult(flush)) yield flush;
    if (status.cancelRequested) return yield* finish('cancelled', `cancelled by ${shownAs(status.cancelRequested.by, status.cancelRequested.byName)}: ${status.cancelRequested.reason}`, plan, true);
    const aborted = abort as { outcome: 'aborted' | 'rejected'; reason: string } | undefined;
    if (aborted) return yield* finish(aborted.outcome, aborted.reason, plan, true);
    const failed = status.order.filter((id) => status.steps[id].state === 'failed');
    if (failed.length) return yield* finish('failed', `step${failed.length > 1 ? 's' : ''} ${failed.join(', ')} failed`, plan, true);
    return yield* finish('succeeded', undefined, plan, true);
  } catch (err) {
    // A system failure (an activity that kept failing): release the locks, record it, fail.
    yield act.releaseLocks({ runId: input.runId, locks: plan.locks, at: now() });
    status.phase = 'failed';
    status.error = `system error: ${(err as Error).message}`;
    publish();
    throw err;
  }
}
