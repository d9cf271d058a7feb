// History events in the shape the Durable Functions SDK replays (DTFx's EventType numbers and
// PascalCase fields). Extra fields prefixed with "Lyncdr" are the host's own bookkeeping; the SDK
// ignores fields it does not know.

export enum EventType {
  ExecutionStarted = 0,
  ExecutionCompleted = 1,
  ExecutionFailed = 2,
  ExecutionTerminated = 3,
  TaskScheduled = 4,
  TaskCompleted = 5,
  TaskFailed = 6,
  SubOrchestrationInstanceCreated = 7,
  SubOrchestrationInstanceCompleted = 8,
  SubOrchestrationInstanceFailed = 9,
  TimerCreated = 10,
  TimerFired = 11,
  OrchestratorStarted = 12,
  OrchestratorCompleted = 13,
  EventSent = 14,
  EventRaised = 15,
  ContinueAsNew = 16,
  GenericEvent = 17,
  HistoryState = 18,
  /** Suspend and resume, as DTFx records them (its EventType enum: 19 and 20, carrying a Reason). */
  ExecutionSuspended = 19,
  ExecutionResumed = 20,
}

/** Retry bookkeeping carried on the events of a call...WithRetry action. */
export interface RetryMark {
  /** The EventId of the first attempt: identifies the action across attempts. */
  first: number;
  attempt: number;
  firstAt: string;
  options: RetryPolicy;
}

export interface RetryPolicy {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

export interface HistoryEvent {
  EventType: EventType;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  Input?: string;
  Result?: string;
  Reason?: string;
  Details?: string;
  FailureDetails?: FailureDetails;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  InstanceId?: string;
  OrchestrationStatus?: string;
  ParentInstanceId?: string;
  /** Unique id of the message that delivered this event (raised events are deduplicated by it). */
  LyncdrMessageId?: string;
  /** On TaskScheduled / SubOrchestrationInstanceCreated of a retried action. */
  LyncdrRetry?: RetryMark;
  /** On the TimerCreated the host inserts between two attempts. */
  LyncdrRetryTimer?: RetryMark & { exhausted: boolean };
}

export interface FailureDetails {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string;
  IsNonRetriable?: boolean;
}

export const isScheduling = (e: HistoryEvent) =>
  e.EventType === EventType.TaskScheduled ||
  e.EventType === EventType.TimerCreated ||
  e.EventType === EventType.SubOrchestrationInstanceCreated;

/** An id of the SDK's sequence is taken by this event for an action the orchestrator wrote. */
export const isActionEvent = (e: HistoryEvent) =>
  isScheduling(e) && !e.LyncdrRetryTimer && !(e.LyncdrRetry && e.LyncdrRetry.attempt > 1);

export function failureFrom(err: unknown): FailureDetails {
  if (err instanceof Error) {
    return { ErrorType: err.name || 'Error', ErrorMessage: err.message, StackTrace: err.stack };
  }
  return { ErrorType: 'Error', ErrorMessage: typeof err === 'string' ? err : JSON.stringify(err) };
}

/** A suspend or resume: it takes effect where it arrives among an instance's messages. */
export const isSuspensionTurn = (t: EventType) => t === EventType.ExecutionSuspended || t === EventType.ExecutionResumed;

export const eventName = (t: EventType) => EventType[t] ?? `Event${t}`;
