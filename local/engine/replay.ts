// One episode of an orchestration: replay the committed history plus the new events through the
// SDK's own orchestrator handler, then turn the actions it returns into new history and work.
// Pure apart from calling the user's orchestrator: no storage here, so it is tested directly.
import { InvocationContext } from '../azure-functions.js';
import {
  EventType, isActionEvent, isScheduling, type HistoryEvent, type RetryMark, type RetryPolicy,
} from './history.js';

export type OrchestratorHandler = (trigger: unknown, context: InvocationContext) => Promise<unknown>;

export interface EpisodeInput {
  instanceId: string;
  name: string;
  /** The orchestration's input as JSON text (undefined when there is none). */
  inputJson: string | undefined;
  parentInstanceId?: string;
  /** Committed events of the current execution. */
  history: HistoryEvent[];
  /** Events delivered since (completions, timers, raised events, ExecutionStarted). */
  newEvents: HistoryEvent[];
  now: Date;
  handler: OrchestratorHandler;
}

export interface ActivityWork { id: number; name: string; inputJson: string | undefined }
export interface TimerWork { id: number; fireAt: string }
export interface SubOrchestrationWork { id: number; name: string; instanceId: string; inputJson: string | undefined }

export type EpisodeOutcome =
  | { kind: 'running' }
  | { kind: 'completed'; outputJson: string | undefined }
  | { kind: 'failed'; message: string; details?: string }
  | { kind: 'continuedAsNew'; inputJson: string | undefined };

export interface EpisodeResult {
  appended: HistoryEvent[];
  activities: ActivityWork[];
  timers: TimerWork[];
  subOrchestrations: SubOrchestrationWork[];
  outcome: EpisodeOutcome;
  customStatus: unknown;
  /**
   * The orchestrator returned, but timers it created have neither fired nor been cancelled: as in
   * the Durable extension, the instance stays Running until they fire (their EventIds).
   */
  heldByTimers?: number[];
  /** The custom status was over the extension's limit: the instance keeps the one it had. */
  customStatusRejected?: boolean;
}

/** The Durable extension's limit on custom status: 16 KB of UTF-16 JSON text (the custom status doc). */
export const CUSTOM_STATUS_MAX_KB = 16;

/**
 * The extension's own check (floor of the UTF-16 byte count / 1024 over 16 throws, failing the
 * orchestration); JavaScript strings are UTF-16, so the byte count is twice the length.
 */
export function customStatusTooLarge(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const kb = Math.floor((JSON.stringify(value).length * 2) / 1024);
  return kb > CUSTOM_STATUS_MAX_KB
    ? `The UTF-16 size of the JSON-serialized payload must not exceed ${CUSTOM_STATUS_MAX_KB} KB. The current payload size is ${kb} KB.`
    : undefined;
}

export const ORCHESTRATION_TRIGGER_DEFAULTS = {
  upperSchemaVersion: 1,
  upperSchemaVersionNew: 2,
  longRunningTimerIntervalDuration: '3.00:00:00',
  maximumShortTimerDuration: '6.00:00:00',
  defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
};

interface SdkAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  fireAt?: Date | string;
  instanceId?: string;
  retryOptions?: RetryPolicy;
  compoundActions?: SdkAction[];
  /** CreateTimer: the orchestrator called cancel() on the timer's task. */
  isCanceled?: boolean;
}

const enum A {
  CallActivity = 0, CallActivityWithRetry = 1, CallSubOrchestrator = 2, CallSubOrchestratorWithRetry = 3,
  ContinueAsNew = 4, CreateTimer = 5, WaitForExternalEvent = 6, WhenAny = 11, WhenAll = 12,
}

/** What the SDK's other action types are, for the refusal (its ActionType enum). */
const UNSUPPORTED: Record<number, string> = {
  7: 'callEntity (durable entities)', 8: 'callHttp', 9: 'signalEntity (durable entities)',
  13: 'lockEntities (durable entities)', 14: 'releaseEntities (durable entities)',
};

function flatten(actions: SdkAction[], out: SdkAction[] = []): SdkAction[] {
  for (const a of actions) {
    if (a.actionType === A.WhenAll || a.actionType === A.WhenAny) flatten(a.compoundActions ?? [], out);
    else out.push(a);
  }
  return out;
}

/** What an action or a scheduling event is, for the non-determinism check. */
function describeAction(a: SdkAction): string {
  switch (a.actionType) {
    case A.CallActivity: case A.CallActivityWithRetry: return `activity '${a.functionName}'`;
    case A.CallSubOrchestrator: case A.CallSubOrchestratorWithRetry: return `sub-orchestration '${a.functionName}'`;
    case A.CreateTimer: return 'timer';
    default: return `action type ${a.actionType}`;
  }
}
function describeEvent(e: HistoryEvent): string {
  switch (e.EventType) {
    case EventType.TaskScheduled: return `activity '${e.Name}'`;
    case EventType.SubOrchestrationInstanceCreated: return `sub-orchestration '${e.Name}'`;
    default: return 'timer';
  }
}

/** Activity and sub-orchestration inputs: the SDK JSON-encodes string inputs once more. */
function inputJsonOf(a: SdkAction): string | undefined {
  if (a.input === undefined) return undefined;
  if (a.actionType === A.CallActivity || a.actionType === A.CallActivityWithRetry || a.actionType === A.ContinueAsNew) {
    return typeof a.input === 'string' ? a.input : JSON.stringify(a.input);
  }
  return JSON.stringify(a.input);
}

export function retryDelayMs(p: RetryPolicy, failedAttempt: number): number {
  const coefficient = p.backoffCoefficient && p.backoffCoefficient > 0 ? p.backoffCoefficient : 1;
  let delay = p.firstRetryIntervalInMilliseconds * Math.pow(coefficient, failedAttempt - 1);
  if (p.maxRetryIntervalInMilliseconds && p.maxRetryIntervalInMilliseconds > 0) delay = Math.min(delay, p.maxRetryIntervalInMilliseconds);
  return Math.max(0, Math.round(delay));
}

/** Pending scheduled work of the current execution, derived from history (never stored twice). */
export function pendingTasks(history: HistoryEvent[]): Map<number, HistoryEvent> {
  const pending = new Map<number, HistoryEvent>();
  for (const e of history) {
    switch (e.EventType) {
      case EventType.TaskScheduled: case EventType.TimerCreated: case EventType.SubOrchestrationInstanceCreated:
        pending.set(e.EventId, e); break;
      case EventType.TaskCompleted: case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceCompleted: case EventType.SubOrchestrationInstanceFailed:
        pending.delete(e.TaskScheduledId!); break;
      case EventType.TimerFired:
        pending.delete(e.TimerId!); break;
    }
  }
  return pending;
}

export function nextSequence(history: HistoryEvent[]): number {
  let max = -1;
  for (const e of history) if (isScheduling(e) && e.EventId > max) max = e.EventId;
  return max + 1;
}

/**
 * Is this new event one after which the SDK takes a sequence number on its own (a retried task
 * failing, or its retry timer firing)? Such an event must come first in its episode, so that the
 * host knows which number the SDK took.
 */
export function isRetryTurn(e: HistoryEvent, pending: Map<number, HistoryEvent>): boolean {
  if (e.EventType === EventType.TaskFailed || e.EventType === EventType.SubOrchestrationInstanceFailed) {
    return Boolean(pending.get(e.TaskScheduledId!)?.LyncdrRetry);
  }
  if (e.EventType === EventType.TimerFired) return Boolean(pending.get(e.TimerId!)?.LyncdrRetryTimer);
  return false;
}

class NonDeterminismError extends Error {}

/**
 * Timers the orchestrator created and neither saw fire nor cancelled. The Durable extension does
 * not complete an orchestration while it has one ("won't change an orchestration's status to
 * Completed until all outstanding tasks, including durable timer tasks, are either completed or
 * canceled": the Durable timers doc; extension #1377): it stays Running until the timer fires.
 */
function pendingTimers(numbered: SdkAction[], actionIds: number[], history: HistoryEvent[]): number[] {
  const fired = new Set(history.filter((e) => e.EventType === EventType.TimerFired).map((e) => e.TimerId));
  const held: number[] = [];
  numbered.forEach((a, i) => {
    if (a.actionType === A.CreateTimer && !a.isCanceled && !fired.has(actionIds[i])) held.push(actionIds[i]);
  });
  return held;
}

export async function runEpisode(inp: EpisodeInput): Promise<EpisodeResult> {
  const nowIso = inp.now.toISOString();
  const pending = pendingTasks(inp.history);
  const started: HistoryEvent = { EventType: EventType.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: nowIso };
  const fresh = [started, ...inp.newEvents.map((e) => ({ ...e, IsPlayed: false }))];
  const all = [...inp.history.map((e) => (e.IsPlayed ? e : { ...e, IsPlayed: true })), ...fresh];

  const trigger = {
    history: all.map((e) => ({ ...e, Timestamp: new Date(e.Timestamp) })),
    input: inp.inputJson === undefined ? undefined : JSON.parse(inp.inputJson),
    instanceId: inp.instanceId,
    isReplaying: inp.history.length > 0,
    parentInstanceId: inp.parentInstanceId,
    ...ORCHESTRATION_TRIGGER_DEFAULTS,
  };
  const context = new InvocationContext({
    functionName: inp.name,
    invocationId: `${inp.instanceId}:${inp.history.length}`,
    options: { trigger: { type: 'orchestrationTrigger', name: 'context' } as never, extraInputs: [], extraOutputs: [] },
    logHandler: (level, ...args) => {
      if (level === 'error' || level === 'warning' || process.env.LYNCDR_DEBUG) console.error(`[${inp.name}:${inp.instanceId}]`, ...args);
    },
  });

  let state: { isDone?: boolean; actions?: SdkAction[][]; output?: unknown; customStatus?: unknown; error?: string } | undefined;
  let failure: { message: string; details?: string } | undefined;
  try {
    state = (await inp.handler(trigger, context)) as typeof state;
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const marker = text.indexOf('$OutOfProcData$:');
    if (marker >= 0) {
      state = JSON.parse(text.slice(marker + '$OutOfProcData$:'.length));
      // The SDK puts the user's error in the state; the text before the marker is not always it.
      failure = { message: state?.error ?? text.slice(0, marker).trim(), details: err instanceof Error ? err.stack : undefined };
    } else {
      failure = { message: text, details: err instanceof Error ? err.stack : undefined };
    }
  }

  const appended: HistoryEvent[] = [...fresh];
  const result: EpisodeResult = { appended, activities: [], timers: [], subOrchestrations: [], outcome: { kind: 'running' }, customStatus: state?.customStatus };
  const tooLarge = customStatusTooLarge(state?.customStatus);
  if (tooLarge && !failure) {
    failure = { message: `setting the custom status failed: ${tooLarge}` };
    result.customStatusRejected = true;
  }
  let seq = nextSequence(inp.history);

  // The SDK takes a number on its own when a retried task fails (for the retry timer) or when
  // that timer fires with attempts left (for the next attempt); the episode starts with it.
  const first = inp.newEvents[0];
  if (first && isRetryTurn(first, pending)) {
    if (first.EventType === EventType.TaskFailed || first.EventType === EventType.SubOrchestrationInstanceFailed) {
      const sched = pending.get(first.TaskScheduledId!)!;
      const mark = sched.LyncdrRetry!;
      const elapsed = inp.now.getTime() - Date.parse(mark.firstAt);
      const outOfTime = mark.options.retryTimeoutInMilliseconds !== undefined && mark.options.retryTimeoutInMilliseconds > 0 && elapsed >= mark.options.retryTimeoutInMilliseconds;
      const exhausted = mark.attempt >= mark.options.maxNumberOfAttempts || outOfTime;
      const fireAt = new Date(inp.now.getTime() + (exhausted ? 0 : retryDelayMs(mark.options, mark.attempt))).toISOString();
      const id = seq++;
      appended.push({ EventType: EventType.TimerCreated, EventId: id, IsPlayed: false, Timestamp: nowIso, FireAt: fireAt, LyncdrRetryTimer: { ...mark, exhausted } });
      result.timers.push({ id, fireAt });
    } else {
      const timer = pending.get(first.TimerId!)!;
      const mark = timer.LyncdrRetryTimer!;
      if (!mark.exhausted) {
        const original = inp.history.find((e) => e.EventId === mark.first && e.LyncdrRetry);
        if (!original) throw new Error(`retry bookkeeping lost for task ${mark.first}`);
        const id = seq++;
        const retry: RetryMark = { first: mark.first, attempt: mark.attempt + 1, firstAt: mark.firstAt, options: mark.options };
        appended.push({ ...original, EventId: id, IsPlayed: false, Timestamp: nowIso, LyncdrRetry: retry });
        if (original.EventType === EventType.TaskScheduled) result.activities.push({ id, name: original.Name!, inputJson: original.Input });
        else {
          // An id the host generated is per attempt; an id the orchestrator chose is reused.
          const auto = original.InstanceId === `${inp.instanceId}:${original.EventId}`;
          const childId = auto ? `${inp.instanceId}:${id}` : original.InstanceId!;
          appended[appended.length - 1].InstanceId = childId;
          result.subOrchestrations.push({ id, name: original.Name!, instanceId: childId, inputJson: original.Input });
        }
      }
    }
  }

  try {
    if (state?.actions && !failure) {
      const actions = flatten(state.actions.flat());
      const recorded = inp.history.filter(isActionEvent).sort((a, b) => a.EventId - b.EventId);
      const numbered = actions.filter((a) => a.actionType !== A.WaitForExternalEvent && a.actionType !== A.ContinueAsNew);
      for (let i = 0; i < recorded.length; i++) {
        const now = numbered[i];
        const then = recorded[i];
        if (!now) {
          throw new NonDeterminismError(`Non-deterministic orchestrator '${inp.name}': history has ${recorded.length} scheduled actions but the replay produced only ${numbered.length}; the code changed while instance ${inp.instanceId} was running`);
        }
        if (describeAction(now) !== describeEvent(then)) {
          throw new NonDeterminismError(`Non-deterministic orchestrator '${inp.name}': action #${i + 1} was ${describeEvent(then)} in history but the replay now schedules ${describeAction(now)}; the code changed while instance ${inp.instanceId} was running`);
        }
      }
      // The EventId each action took: recorded ones keep theirs, new ones are numbered below.
      const actionIds = recorded.map((e) => e.EventId);
      for (const a of numbered.slice(recorded.length)) {
        const id = seq++;
        actionIds.push(id);
        const base = { EventId: id, IsPlayed: false, Timestamp: nowIso };
        const retry = a.retryOptions ? { first: id, attempt: 1, firstAt: nowIso, options: { ...a.retryOptions } } : undefined;
        switch (a.actionType) {
          case A.CallActivity: case A.CallActivityWithRetry: {
            const inputJson = inputJsonOf(a);
            appended.push({ ...base, EventType: EventType.TaskScheduled, Name: a.functionName, Input: inputJson, LyncdrRetry: retry });
            result.activities.push({ id, name: a.functionName!, inputJson });
            break;
          }
          case A.CreateTimer: {
            const fireAt = new Date(a.fireAt!).toISOString();
            appended.push({ ...base, EventType: EventType.TimerCreated, FireAt: fireAt });
            result.timers.push({ id, fireAt });
            break;
          }
          case A.CallSubOrchestrator: case A.CallSubOrchestratorWithRetry: {
            const inputJson = inputJsonOf(a);
            const childId = a.instanceId || `${inp.instanceId}:${id}`;
            appended.push({ ...base, EventType: EventType.SubOrchestrationInstanceCreated, Name: a.functionName, InstanceId: childId, Input: inputJson, LyncdrRetry: retry });
            result.subOrchestrations.push({ id, name: a.functionName!, instanceId: childId, inputJson });
            break;
          }
          default:
            throw new Error(`${UNSUPPORTED[a.actionType] ?? `action type ${a.actionType}`} is not supported by the lyncdr local host (orchestrator '${inp.name}'): it runs activities, timers, external events and sub-orchestrations only`);
        }
      }
      const last = actions[actions.length - 1];
      if (!failure && state.isDone && last?.actionType === A.ContinueAsNew) {
        result.outcome = { kind: 'continuedAsNew', inputJson: inputJsonOf(last) };
      } else if (!failure && state.isDone) {
        const held = pendingTimers(numbered, actionIds, [...inp.history, ...appended]);
        if (held.length) result.heldByTimers = held;
        else result.outcome = { kind: 'completed', outputJson: state.output === undefined ? undefined : JSON.stringify(state.output) };
      }
    } else if (!failure && state?.isDone) {  // an orchestrator that scheduled nothing
      result.outcome = { kind: 'completed', outputJson: state.output === undefined ? undefined : JSON.stringify(state.output) };
    }
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    // Nothing scheduled by a failing or non-deterministic episode may run (cleared below).
    failure = { message: err.message, details: err.stack };
  }

  if (failure) {
    result.outcome = { kind: 'failed', message: `Orchestrator function '${inp.name}' failed: ${failure.message}`, details: failure.details };
    result.activities = []; result.timers = []; result.subOrchestrations = [];
    appended.splice(fresh.length);
  }
  appended.push({ EventType: EventType.OrchestratorCompleted, EventId: -1, IsPlayed: false, Timestamp: nowIso });
  if (result.outcome.kind === 'completed') {
    appended.push({ EventType: EventType.ExecutionCompleted, EventId: -1, IsPlayed: false, Timestamp: nowIso, OrchestrationStatus: 'Completed', Result: result.outcome.outputJson });
  } else if (result.outcome.kind === 'failed') {
    appended.push({ EventType: EventType.ExecutionCompleted, EventId: -1, IsPlayed: false, Timestamp: nowIso, OrchestrationStatus: 'Failed', Result: JSON.stringify(result.outcome.message), Details: result.outcome.details });
  } else if (result.outcome.kind === 'continuedAsNew') {
    appended.push({ EventType: EventType.ContinueAsNew, EventId: -1, IsPlayed: false, Timestamp: nowIso, Input: result.outcome.inputJson });
  }
  return result;
}
