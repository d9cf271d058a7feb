// The durable engine: dispatches orchestration episodes and activities over the task hub in Azure
// Storage. Every message is sent to a queue before it is acted on, so a crash loses nothing; the
// process that sent it also acts on it at once (the message stays invisible for a lease), so a
// step does not wait for a queue poll. Episodes commit atomically (see TaskHubStore.commit).
import { randomUUID } from 'node:crypto';
import { invocationContext, type InputResolver } from '../invocation-context.js';
import type { FunctionRegistry } from '../functions-core.js';
import { EventType, failureFrom, isSuspensionTurn, type HistoryEvent } from './history.js';
import { ControlMessage, WorkItemMessage, type WorkItem } from './messages.js';
import { isRetryTurn, pendingTasks, runEpisode, type EpisodeResult, type OrchestratorHandler } from './replay.js';
import {
  ConflictError, TERMINAL, TaskHubStore,
  type InstanceQuery, type InstanceState, type LoadedInstance, type QueuedRef, type RuntimeStatus,
} from './store.js';

export interface EngineOptions {
  store: TaskHubStore;
  registry: FunctionRegistry;
  /** Seconds a message stays invisible while this process works on it. */
  leaseSeconds?: number;
  /** A message dequeued more often than this goes to the poison queue. */
  maxDequeueCount?: number;
  /** Activities run at once in this process. */
  activityConcurrency?: number;
  /** Poll queues (false: only act on what this process sends; used by tests that drive it by hand). */
  poll?: boolean;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** The wall clock (tests move it to fire long timers). */
  clock?: () => number;
  /** Values of activities' extra input bindings (the durable client), as the host fills them for every trigger. */
  resolveInput?: InputResolver;
}

export class NotFoundError extends Error { readonly status = 404; }
export class GoneError extends Error { readonly status = 410; }
export class ConflictStateError extends Error { readonly status = 409; }
export class BadRequestError extends Error { readonly status = 400; }

export interface StatusView {
  name: string;
  instanceId: string;
  createdTime: string;
  lastUpdatedTime: string;
  input: unknown;
  output: unknown;
  runtimeStatus: RuntimeStatus;
  customStatus: unknown;
  history?: unknown[];
}

/** A message to dispatch, with what to do once its event is committed (or dropped). */
interface Delivery { msg: ControlMessage; ref?: QueuedRef; committed?: () => void }

/** Queue messages hold 64 KB; work items above this go out in several messages. */
const WORK_BATCH_CHARS = 40 * 1024;

const parseJson = (s: string | undefined) => (s === undefined ? undefined : JSON.parse(s));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** setTimeout's limit is about 24.8 days; farther timers are left to the queue. */
const IN_PROCESS_TIMER_MS = 60 * 60 * 1000;
/** Azure Storage queues hide a message for at most 7 days. */
const MAX_VISIBILITY_S = 7 * 24 * 3600 - 60;

// eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
export const INSTANCE_ID_RULE = /^[^/\\#?\u0000-\u001f\u007f-\u009f]{1,100}$/;

export class DurableEngine {
  readonly store: TaskHubStore;
  private readonly registry: FunctionRegistry;
  private readonly lease: number;
  private readonly maxDequeue: number;
  private readonly log: NonNullable<EngineOptions['log']>;
  private readonly poll: boolean;
  private readonly cache = new Map<string, LoadedInstance>();
  private readonly inbox = new Map<string, Delivery[]>();
  private readonly draining = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private activitySlots: number;
  private readonly activityWaiters: Array<() => void> = [];
  private stopped = false;
  private readonly now: () => number;
  private readonly resolveInput: InputResolver;
  private pollers: Promise<void>[] = [];
  /** Wakes the idle poll loops (one per queue) at stop. */
  private readonly wakePolls = new Set<() => void>();
  /** Counters for benchmarks and tests. */
  readonly stats = { episodes: 0, conflicts: 0, activities: 0, poisoned: 0, duplicatesDropped: 0, heldByTimers: 0 };
  /** The largest custom status committed (JSON characters; the limit is about 8,700), and whose. */
  readonly largestCustomStatus = { chars: 0, instanceId: '' };
  /**
   * Instances whose orchestrator returned while a timer of theirs was pending, by id: kept Running
   * until it fires, as the Durable extension does. Almost always an app defect (a timer it forgot
   * to cancel); tests of the app assert that this stays empty.
   */
  readonly heldByTimers = new Map<string, { name: string; fireAt: string[] }>();

  constructor(opts: EngineOptions) {
    this.store = opts.store;
    this.registry = opts.registry;
    this.lease = opts.leaseSeconds ?? 30;
    this.maxDequeue = opts.maxDequeueCount ?? 5;
    this.activitySlots = opts.activityConcurrency ?? 64;
    this.poll = opts.poll ?? true;
    this.now = opts.clock ?? Date.now;
    this.resolveInput = opts.resolveInput ?? (() => undefined);
    this.log = opts.log ?? ((level, m) => { if (level !== 'info' || process.env.LYNCDR_DEBUG) console.error(`[engine:${level}] ${m}`); });
  }

  async start(): Promise<{ resumed: number }> {
    await this.store.init();
    const resumed = await this.recover();
    if (this.poll) this.pollers = [this.pollLoop('control'), this.pollLoop('workitems')];
    return { resumed };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.wakePolls) wake();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled(this.pollers);
    await Promise.allSettled([...this.draining.values()]);
    await Promise.allSettled([...this.indexWrites.values()].map((w) => w.running));
  }

  // ---- client operations (the management API calls these) -------------------------------

  orchestratorHandler(name: string): OrchestratorHandler | undefined {
    const fn = this.registry.get(name);
    return fn && fn.trigger.type === 'orchestrationTrigger' ? (fn.handler as OrchestratorHandler) : undefined;
  }

  async startNew(name: string, instanceId: string | undefined, inputJson: string | undefined): Promise<string> {
    if (!this.orchestratorHandler(name)) throw new NotFoundError(`no orchestrator function named '${name}' is registered`);
    const id = instanceId ?? randomUUID().replace(/-/g, '');
    if (!INSTANCE_ID_RULE.test(id)) throw new BadRequestError(`instance id '${id.slice(0, 120)}' is invalid: 1 to 100 characters, none of / \\ # ? or control characters`);
    if (inputJson !== undefined) {
      try { JSON.parse(inputJson); } catch { throw new BadRequestError('the request body is not valid JSON'); }
    }
    const existing = await this.store.readState(id);
    if (existing && !TERMINAL.has(existing.state.status)) {
      throw new ConflictStateError(`an instance with id '${id}' is already ${existing.state.status}`);
    }
    const now = new Date(this.now()).toISOString();
    const state: InstanceState = {
      instanceId: id, name, status: 'Pending', executionId: randomUUID().replace(/-/g, ''),
      inputJson, createdTime: now, lastUpdatedTime: now, episode: 0,
    };
    // Index first: recovery scans the index, so a crash after this point still finds the instance.
    await this.store.upsertIndex({ ...state });
    await this.store.commit(state, existing?.etag, undefined);
    if (existing) void this.store.deleteOldExecutions(id, state.executionId).catch((e) => this.log('warn', `cleanup of ${id}: ${e}`));
    this.cache.delete(id);
    await this.sendControl({ t: 'c', id, m: randomUUID(), e: { EventType: EventType.ExecutionStarted, EventId: -1, Name: name } });
    return id;
  }

  async raiseEvent(instanceId: string, eventName: string, dataJson: string | undefined): Promise<void> {
    if (!eventName) throw new BadRequestError('an event name is required');
    if (dataJson !== undefined && dataJson !== '') {
      try { JSON.parse(dataJson); } catch { throw new BadRequestError('the event data is not valid JSON'); }
    }
    const s = await this.store.readState(instanceId);
    if (!s) throw new NotFoundError(`no instance with id '${instanceId}'`);
    if (TERMINAL.has(s.state.status)) throw new GoneError(`instance '${instanceId}' is ${s.state.status}`);
    const m = randomUUID();
    await this.sendControl({ t: 'c', id: instanceId, m, e: { EventType: EventType.EventRaised, EventId: -1, Name: eventName, Input: dataJson || undefined, LyncdrMessageId: m } });
  }

  async terminate(instanceId: string, reason: string): Promise<void> {
    const s = await this.store.readState(instanceId);
    if (!s) throw new NotFoundError(`no instance with id '${instanceId}'`);
    if (TERMINAL.has(s.state.status)) throw new GoneError(`instance '${instanceId}' is ${s.state.status}`);
    await this.sendControl({ t: 'c', id: instanceId, m: randomUUID(), e: { EventType: EventType.ExecutionTerminated, EventId: -1, Input: JSON.stringify(reason) } });
  }

  /**
   * Suspend and resume, as the Durable extension does them: 404 unknown, 410 ended, otherwise
   * queued like any event (the instance acts on them in arrival order). While suspended, an
   * instance keeps what arrives (raised events, completions, timers) with its state and runs
   * none of it; resuming delivers it in order.
   */
  async suspend(instanceId: string, reason: string): Promise<void> {
    await this.sendSuspensionTurn(instanceId, EventType.ExecutionSuspended, reason);
  }

  async resume(instanceId: string, reason: string): Promise<void> {
    await this.sendSuspensionTurn(instanceId, EventType.ExecutionResumed, reason);
  }

  private async sendSuspensionTurn(instanceId: string, type: EventType, reason: string): Promise<void> {
    const s = await this.store.readState(instanceId);
    if (!s) throw new NotFoundError(`no instance with id '${instanceId}'`);
    if (TERMINAL.has(s.state.status)) throw new GoneError(`instance '${instanceId}' is ${s.state.status}`);
    const m = randomUUID();
    await this.sendControl({ t: 'c', id: instanceId, m, e: { EventType: type, EventId: -1, Reason: reason, LyncdrMessageId: m } });
  }

  /**
   * A new execution of an instance's orchestrator with the same input, as the extension's
   * RestartAsync: under a new id (the default) or the same one (409 unless it has ended).
   */
  async restart(instanceId: string, newInstanceId = true): Promise<string> {
    const s = await this.store.readState(instanceId);
    // The extension answers an unknown instance with 400 (its RestartAsync throws ArgumentException).
    if (!s) throw new BadRequestError(`no instance with id '${instanceId}' to restart`);
    return this.startNew(s.state.name, newInstanceId ? undefined : instanceId, s.state.inputJson);
  }

  async purge(instanceId: string): Promise<number> {
    const s = await this.store.readState(instanceId);
    if (!s) throw new NotFoundError(`no instance with id '${instanceId}'`);
    if (!TERMINAL.has(s.state.status)) throw new ConflictStateError(`instance '${instanceId}' is ${s.state.status}: terminate it before purging its history`);
    await this.store.deleteInstance(instanceId);
    this.cache.delete(instanceId);
    return 1;
  }

  async purgeWhere(q: InstanceQuery): Promise<number> {
    const statuses = (q.runtimeStatus ?? ['Completed', 'Failed', 'Terminated']).filter((s) => TERMINAL.has(s));
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.store.queryIndex({ ...q, runtimeStatus: statuses, continuationToken: token });
      for (const row of page.rows) {
        await this.store.deleteInstance(row.instanceId);
        this.cache.delete(row.instanceId);
        deleted++;
      }
      token = page.continuationToken;
    } while (token);
    return deleted;
  }

  async getStatus(instanceId: string, opts: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean } = {}): Promise<StatusView | undefined> {
    const loaded = opts.showHistory ? await this.store.load(instanceId) : await this.store.readState(instanceId).then((s) => s && { ...s, history: [] });
    if (!loaded) return undefined;
    const { state } = loaded;
    const view: StatusView = {
      name: state.name,
      instanceId: state.instanceId,
      createdTime: state.createdTime,
      lastUpdatedTime: state.lastUpdatedTime,
      input: opts.showInput === false ? null : parseJson(state.inputJson) ?? null,
      output: parseJson(state.outputJson) ?? null,
      runtimeStatus: state.status,
      customStatus: parseJson(state.customStatusJson) ?? null,
    };
    if (opts.showHistory) view.history = publicHistory(loaded.history, Boolean(opts.showHistoryOutput));
    return view;
  }

  async list(q: InstanceQuery): Promise<{ statuses: StatusView[]; continuationToken?: string }> {
    const page = await this.store.queryIndex(q);
    const statuses = await Promise.all(page.rows.map(async (row) => (await this.getStatus(row.instanceId, { showInput: true })) ?? null));
    return { statuses: statuses.filter((s): s is StatusView => s !== null), continuationToken: page.continuationToken };
  }

  // ---- sending: queue first, then act in-process ---------------------------------------

  private async sendControl(msg: ControlMessage, delaySeconds = 0): Promise<void> {
    const ref = await this.store.send('control', msg, delaySeconds + this.lease);
    if (delaySeconds <= 0) this.deliver({ msg, ref });
  }

  /**
   * Queues an episode's activities (the durable record another host takes over after the lease)
   * and runs them here at once. The message is deleted when every item's completion is committed.
   */
  private async sendWork(instanceId: string, executionId: string, items: WorkItem[]): Promise<void> {
    const chunks: WorkItem[][] = [[]];
    let size = 0;
    for (const it of items) {
      const n = (it.input?.length ?? 0) + it.name.length + 40;
      if (size + n > WORK_BATCH_CHARS && chunks[chunks.length - 1].length) { chunks.push([]); size = 0; }
      chunks[chunks.length - 1].push(it);
      size += n;
    }
    await Promise.all(chunks.map(async (chunk) => {
      const w: WorkItemMessage = { t: 'w', id: instanceId, x: executionId, items: chunk, m: randomUUID() };
      // Run while the send is in flight: the queued copy matters only if this process dies.
      const ref = this.store.send('workitems', w, this.lease);
      this.runWork(w, ref);
      await ref;
    }));
  }

  private async scheduleTimer(instanceId: string, executionId: string, timerId: number, fireAt: string): Promise<void> {
    const delayMs = Date.parse(fireAt) - this.now();
    const msg: ControlMessage = { t: 'c', id: instanceId, x: executionId, m: randomUUID(), e: { EventType: EventType.TimerFired, EventId: -1, TimerId: timerId, FireAt: fireAt } };
    if (delayMs <= 0) return this.sendControl(msg);
    if (delayMs <= IN_PROCESS_TIMER_MS) {
      // The queued copy surfaces a lease after the fire time: a backstop if this process dies.
      const ref = await this.store.send('control', msg, Math.min(MAX_VISIBILITY_S, delayMs / 1000 + this.lease));
      const t = setTimeout(() => { this.timers.delete(t); this.deliver({ msg, ref }); }, delayMs);
      this.timers.add(t);
      return;
    }
    await this.store.send('control', msg, Math.min(MAX_VISIBILITY_S, delayMs / 1000));
  }

  // ---- orchestration dispatch ----------------------------------------------------------

  private deliver(d: Delivery): void {
    if (this.stopped) return;
    const list = this.inbox.get(d.msg.id) ?? [];
    list.push(d);
    this.inbox.set(d.msg.id, list);
    this.kick(d.msg.id);
  }

  private kick(instanceId: string): void {
    if (this.draining.has(instanceId)) return;
    const p = this.drain(instanceId)
      .catch((err) => this.log('error', `dispatch of ${instanceId} failed: ${(err as Error).stack ?? err}`))
      .finally(() => {
        this.draining.delete(instanceId);
        if (this.inbox.get(instanceId)?.length && !this.stopped) this.kick(instanceId);
      });
    this.draining.set(instanceId, p);
  }

  /** Wait until nothing is in flight for an instance in this process (tests, shutdown). */
  async idle(instanceId: string): Promise<void> {
    while (this.draining.has(instanceId)) await this.draining.get(instanceId);
  }

  private async drain(instanceId: string): Promise<void> {
    const batch = this.inbox.get(instanceId) ?? [];
    this.inbox.delete(instanceId);
    for (const part of atSuspensionTurns(batch)) {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.processBatch(instanceId, part.map((d) => d.msg));
          break;
        } catch (err) {
          if (err instanceof ConflictError && attempt < 8) {
            // Someone else committed: reload their history and decide again on top of it.
            this.stats.conflicts++;
            this.cache.delete(instanceId);
            await sleep(5 * attempt);
            continue;
          }
          this.cache.delete(instanceId);
          throw err; // messages stay in the queue and come back after the lease
        }
      }
    }
    // Off the critical path: a message that outlives a crash here is a duplicate, dropped later.
    for (const d of batch) {
      d.committed?.();
      if (d.ref) this.store.deleteMessage(d.ref).catch((e) => this.log('warn', `deleting a message: ${(e as Error).message}`));
    }
  }

  private async loadCached(instanceId: string): Promise<LoadedInstance | undefined> {
    const hit = this.cache.get(instanceId);
    if (hit) return hit;
    const loaded = await this.store.load(instanceId);
    if (loaded) this.cache.set(instanceId, loaded);
    return loaded;
  }

  private async processBatch(instanceId: string, msgs: ControlMessage[]): Promise<void> {
    let inst = await this.loadCached(instanceId);
    const startMsg = msgs.find((m) => m.e.EventType === EventType.ExecutionStarted && m.e.ParentInstanceId);
    // A sub-orchestration is created by its first message; a terminal one may be started again
    // (a retried sub-orchestration reuses its id).
    const sameRequest = (i: LoadedInstance) => i.state.parentExecutionId === startMsg?.x && i.state.parentTaskId === startMsg?.e.LyncdrParentTaskId;
    if (startMsg && (!inst || (TERMINAL.has(inst.state.status) && !sameRequest(inst)))) {
      inst = await this.createChild(instanceId, startMsg, inst);
    } else if (startMsg && inst && TERMINAL.has(inst.state.status)) {
      // The parent asked again (its recovery): tell it the outcome again; it drops duplicates.
      await this.notifyParent(inst.state);
    }
    if (!inst) {
      this.log('warn', `dropping ${msgs.length} message(s) for unknown instance ${instanceId}`);
      return;
    }
    if (TERMINAL.has(inst.state.status)) {
      this.stats.duplicatesDropped += msgs.length;
      return;
    }
    const terminate = msgs.find((m) => m.e.EventType === EventType.ExecutionTerminated);
    if (terminate) return this.commitTermination(inst, terminate.e.Input);

    // A suspend or resume comes alone (see drain). Once resumed, what was held runs first.
    const turn = msgs.length === 1 && isSuspensionTurn(msgs[0].e.EventType) ? msgs[0] : undefined;
    if (turn) inst = await this.commitSuspensionTurn(inst, turn);
    const accepted = turn ? [] : this.acceptEvents(inst, msgs);
    if (inst.state.status === 'Suspended') {
      if (accepted.length) await this.hold(inst, accepted);
      return;
    }
    const held = new Map<HistoryEvent, HistoryEvent>();
    for (const e of inst.state.held ?? []) held.set(await this.store.unpackEvent(e), e);
    let queue = [...held.keys(), ...await Promise.all(accepted.map((e) => this.store.unpackEvent(e)))];
    while (!this.stopped) {
      if (!inst.history.some((e) => e.EventType === EventType.ExecutionStarted)) {
        queue.unshift({
          EventType: EventType.ExecutionStarted, EventId: -1, IsPlayed: false, Timestamp: new Date(this.now()).toISOString(),
          Name: inst.state.name, Input: inst.state.inputJson, ParentInstanceId: inst.state.parentInstanceId,
        });
      }
      if (queue.length === 0) return;
      // A retry turn must open its episode (see isRetryTurn); split the batch before the next one.
      const pending = pendingTasks(inst.history);
      let cut = 1;
      while (cut < queue.length && !isRetryTurn(queue[cut], pending)) cut++;
      const now = this.clock(inst);
      const result = await runEpisode({
        instanceId, name: inst.state.name, inputJson: inst.state.inputJson, parentInstanceId: inst.state.parentInstanceId,
        history: inst.history, newEvents: queue.slice(0, cut), now, handler: this.orchestratorHandler(inst.state.name) ?? missingOrchestrator(inst.state.name),
      });
      queue = queue.slice(cut);
      // Only raised events survive into the new execution, as in Durable Functions.
      if (result.outcome.kind === 'continuedAsNew') queue = queue.filter((e) => e.EventType === EventType.EventRaised);
      if (held.size) {
        // The held events this episode consumed leave the state in the same commit.
        const left = result.outcome.kind === 'running' || result.outcome.kind === 'continuedAsNew' ? queue.filter((e) => held.has(e)).map((e) => held.get(e)!) : [];
        inst = { ...inst, state: { ...inst.state, held: left.length ? left : undefined } };
      }
      inst = await this.commitEpisode(inst, result, now);
      if (result.outcome.kind === 'continuedAsNew') continue;
      if (TERMINAL.has(inst.state.status)) return;
    }
  }

  /** Keeps the events that are new for this execution; drops redeliveries and strays. */
  private acceptEvents(inst: LoadedInstance, msgs: ControlMessage[]): HistoryEvent[] {
    const pending = pendingTasks(inst.history);
    const held = inst.state.held ?? [];
    const raised = new Set([...inst.history, ...held].filter((e) => e.LyncdrMessageId).map((e) => e.LyncdrMessageId));
    // A completion or timer already held is a duplicate too.
    const seen = new Set<string>(held.map((e) => `t${e.TaskScheduledId ?? e.TimerId}`));
    const out: HistoryEvent[] = [];
    for (const m of msgs) {
      const e: HistoryEvent = { ...m.e, IsPlayed: false, Timestamp: new Date(this.now()).toISOString() };
      let keep = false;
      switch (e.EventType) {
        case EventType.EventRaised:
          keep = !raised.has(e.LyncdrMessageId) && !seen.has(m.m);
          break;
        case EventType.TaskCompleted: case EventType.TaskFailed:
        case EventType.SubOrchestrationInstanceCompleted: case EventType.SubOrchestrationInstanceFailed:
          keep = m.x === inst.state.executionId && pending.has(e.TaskScheduledId!) && !seen.has(`t${e.TaskScheduledId}`);
          seen.add(`t${e.TaskScheduledId}`);
          break;
        case EventType.TimerFired:
          keep = m.x === inst.state.executionId && pending.has(e.TimerId!) && !seen.has(`t${e.TimerId}`);
          seen.add(`t${e.TimerId}`);
          if (keep && Date.parse(e.FireAt!) > this.now() + 1000) {
            // A long timer's message surfaced before its time (queue visibility is capped): re-arm it.
            keep = false;
            void this.scheduleTimer(inst.state.instanceId, inst.state.executionId, e.TimerId!, e.FireAt!);
          }
          break;
        default:
          keep = false; // ExecutionStarted (handled by the caller) or unknown
      }
      seen.add(m.m);
      if (keep) out.push(e);
      else if (e.EventType !== EventType.ExecutionStarted) this.stats.duplicatesDropped++;
    }
    return out;
  }

  /** currentUtcDateTime never goes backwards within an instance. */
  private clock(inst: LoadedInstance): Date {
    const last = inst.history.length ? Date.parse(inst.history[inst.history.length - 1].Timestamp) : 0;
    return new Date(Math.max(this.now(), last));
  }

  private async createChild(instanceId: string, start: ControlMessage, previous: LoadedInstance | undefined): Promise<LoadedInstance> {
    const e = start.e;
    const now = new Date(this.now()).toISOString();
    const state: InstanceState = {
      instanceId, name: String(e.Name), status: 'Running', executionId: randomUUID().replace(/-/g, ''),
      inputJson: e.Input, createdTime: now, lastUpdatedTime: now, episode: 0,
      parentInstanceId: e.ParentInstanceId, parentTaskId: e.LyncdrParentTaskId, parentExecutionId: start.x,
    };
    await this.store.upsertIndex(state);
    const inst: LoadedInstance = { state, etag: previous?.etag ?? '', history: [] };
    if (previous) void this.store.deleteOldExecutions(instanceId, state.executionId).catch(() => undefined);
    return inst;
  }

  private async commitEpisode(inst: LoadedInstance, r: EpisodeResult, now: Date): Promise<LoadedInstance> {
    const before = inst.state;
    const state: InstanceState = { ...before, lastUpdatedTime: now.toISOString(), episode: before.episode + 1 };
    if (!r.customStatusRejected) state.customStatusJson = r.customStatus === undefined ? undefined : JSON.stringify(r.customStatus);
    const chars = state.customStatusJson?.length ?? 0;
    if (chars > this.largestCustomStatus.chars) Object.assign(this.largestCustomStatus, { chars, instanceId: state.instanceId });
    switch (r.outcome.kind) {
      case 'running': state.status = 'Running'; break;
      case 'completed': state.status = 'Completed'; state.outputJson = r.outcome.outputJson; break;
      case 'failed': state.status = 'Failed'; state.outputJson = JSON.stringify(r.outcome.message); break;
      case 'continuedAsNew': break;
    }
    const etag = await this.store.commit(state, inst.etag || undefined, r.appended);
    this.stats.episodes++;
    if (r.heldByTimers?.length && !this.heldByTimers.has(state.instanceId)) {
      const all = [...inst.history, ...r.appended];
      const fireAt = r.heldByTimers.map((id) => all.find((e) => e.EventId === id && e.EventType === EventType.TimerCreated)?.FireAt ?? '?');
      this.stats.heldByTimers++;
      this.heldByTimers.set(state.instanceId, { name: state.name, fireAt });
      this.log('warn', `orchestrator '${state.name}' of ${state.instanceId} returned, but ${fireAt.length} timer(s) it created neither fired nor were cancelled (fire at ${fireAt.join(', ')}): it stays Running until then, as in the Durable extension`);
    }
    let next: LoadedInstance = { state, etag, history: [...inst.history, ...r.appended] };
    if (r.outcome.kind === 'continuedAsNew') {
      // A fresh execution: the same instance, new history, the new input. Its sentinel is
      // committed with the first episode of the new execution.
      next = { state: { ...state, status: 'Running', executionId: randomUUID().replace(/-/g, ''), inputJson: r.outcome.inputJson, episode: 0, outputJson: undefined }, etag, history: [] };
      void this.store.deleteOldExecutions(state.instanceId, next.state.executionId).catch(() => undefined);
    }
    this.cache.set(state.instanceId, next);

    // Outbound work, only after the commit: an uncommitted decision never acts.
    const { instanceId, executionId } = state;
    const sends: Promise<unknown>[] = [];
    if (r.activities.length) {
      // Not awaited: the activities start at once; their queued copy (takeover by another host
      // after a crash) follows. Should it fail, recovery re-runs them from history.
      this.sendWork(instanceId, executionId, r.activities.map((a) => ({ task: a.id, name: a.name, input: a.inputJson })))
        .catch((e) => this.log('warn', `queuing work items of ${instanceId}: ${(e as Error).message}`));
    }
    for (const t of r.timers) sends.push(this.scheduleTimer(instanceId, executionId, t.id, t.fireAt));
    for (const s of r.subOrchestrations) {
      sends.push(this.sendControl({
        t: 'c', id: s.instanceId, x: executionId, m: randomUUID(),
        e: { EventType: EventType.ExecutionStarted, EventId: -1, Name: s.name, Input: s.inputJson, ParentInstanceId: instanceId, LyncdrParentTaskId: s.id },
      }));
    }
    if (TERMINAL.has(state.status)) sends.push(this.notifyParent(state));
    const indexChanged = before.status !== state.status || before.customStatusJson !== state.customStatusJson || before.episode === 0;
    if (indexChanged) {
      // A status change is awaited (list and purge read the index); a custom-status change is not.
      const written = this.updateIndex(state);
      if (before.status !== state.status || before.episode === 0) sends.push(written);
    }
    await Promise.all(sends);
    return next;
  }

  /**
   * The query index follows the sentinel off the critical path: writes for one instance are
   * chained so a later state never loses to an earlier one, and only the latest pending one is
   * written. A write lost to a crash is repaired by recovery, which reads the sentinel.
   */
  private readonly indexWrites = new Map<string, { latest: InstanceState; running: Promise<void> }>();
  private updateIndex(state: InstanceState): Promise<void> {
    const slot = this.indexWrites.get(state.instanceId);
    if (slot) { slot.latest = state; return slot.running; }
    const entry = { latest: state, running: Promise.resolve() };
    this.indexWrites.set(state.instanceId, entry);
    entry.running = (async () => {
      let written: InstanceState | undefined;
      while (written !== entry.latest) {
        written = entry.latest;
        await this.store.upsertIndex(written).catch((e) => this.log('warn', `index of ${written!.instanceId}: ${(e as Error).message}`));
      }
      this.indexWrites.delete(state.instanceId);
    })();
    return entry.running;
  }

  private async commitTermination(inst: LoadedInstance, reasonJson: string | undefined): Promise<void> {
    const now = this.clock(inst).toISOString();
    const state: InstanceState = { ...inst.state, status: 'Terminated', outputJson: reasonJson, lastUpdatedTime: now, episode: inst.state.episode + 1, held: undefined };
    const events: HistoryEvent[] = [
      { EventType: EventType.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: now },
      { EventType: EventType.ExecutionTerminated, EventId: -1, IsPlayed: false, Timestamp: now, Input: reasonJson },
      { EventType: EventType.OrchestratorCompleted, EventId: -1, IsPlayed: false, Timestamp: now },
    ];
    const etag = await this.store.commit(state, inst.etag || undefined, events);
    this.cache.set(state.instanceId, { state, etag, history: [...inst.history, ...events] });
    await Promise.all([this.store.upsertIndex(state), this.notifyParent(state)]);
  }

  /** Records a suspend or resume as DTFx does (its own episode); a redelivered or idle one changes nothing. */
  private async commitSuspensionTurn(inst: LoadedInstance, m: ControlMessage): Promise<LoadedInstance> {
    const suspending = m.e.EventType === EventType.ExecutionSuspended;
    const redelivered = inst.history.some((e) => e.LyncdrMessageId === m.m);
    if (redelivered || suspending === (inst.state.status === 'Suspended')) {
      this.stats.duplicatesDropped++;
      return inst;
    }
    const now = this.clock(inst).toISOString();
    const state: InstanceState = { ...inst.state, status: suspending ? 'Suspended' : 'Running', lastUpdatedTime: now, episode: inst.state.episode + 1 };
    const events: HistoryEvent[] = [
      { EventType: EventType.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: now },
      { EventType: m.e.EventType, EventId: -1, IsPlayed: false, Timestamp: now, Reason: m.e.Reason, LyncdrMessageId: m.m },
      { EventType: EventType.OrchestratorCompleted, EventId: -1, IsPlayed: false, Timestamp: now },
    ];
    const etag = await this.store.commit(state, inst.etag || undefined, events);
    const next: LoadedInstance = { state, etag, history: [...inst.history, ...events] };
    this.cache.set(state.instanceId, next);
    await this.updateIndex(state);
    return next;
  }

  /** Keeps events that arrived while suspended with the instance's state (one guarded commit, no episode). */
  private async hold(inst: LoadedInstance, events: HistoryEvent[]): Promise<void> {
    const state: InstanceState = { ...inst.state, held: [...(inst.state.held ?? []), ...events] };
    const etag = await this.store.commit(state, inst.etag || undefined, undefined);
    this.cache.set(state.instanceId, { ...inst, state, etag });
  }

  private async notifyParent(state: InstanceState): Promise<void> {
    if (!state.parentInstanceId || state.parentTaskId === undefined) return;
    const ok = state.status === 'Completed';
    const message = ok ? '' : `Sub-orchestration '${state.name}' (${state.instanceId}) ${state.status.toLowerCase()}: ${parseJson(state.outputJson) ?? ''}`;
    await this.sendControl({
      t: 'c', id: state.parentInstanceId, x: state.parentExecutionId, m: randomUUID(),
      e: ok
        ? { EventType: EventType.SubOrchestrationInstanceCompleted, EventId: -1, TaskScheduledId: state.parentTaskId, Result: state.outputJson ?? 'null' }
        : { EventType: EventType.SubOrchestrationInstanceFailed, EventId: -1, TaskScheduledId: state.parentTaskId, Reason: message, Details: message, FailureDetails: { ErrorType: 'SubOrchestrationFailed', ErrorMessage: message } },
    });
  }

  // ---- activities -----------------------------------------------------------------------

  private async acquireSlot(): Promise<void> {
    if (this.activitySlots > 0) { this.activitySlots--; return; }
    await new Promise<void>((r) => this.activityWaiters.push(r));
  }
  private releaseSlot(): void {
    const next = this.activityWaiters.shift();
    if (next) next(); else this.activitySlots++;
  }

  /** Runs a work-item message's activities; deletes the message once all are committed. */
  private runWork(w: WorkItemMessage, refPromise: Promise<QueuedRef> | QueuedRef): void {
    let current: QueuedRef | undefined;
    let remaining = w.items.length;
    void Promise.resolve(refPromise).then((r) => { current = r; }, () => undefined);
    const renew = setInterval(() => {
      if (current) this.store.extendLease(current, this.lease).then((r) => { current = r; }).catch(() => undefined);
    }, (this.lease * 1000) / 2);
    renew.unref();
    const oneDone = () => {
      if (--remaining > 0) return;
      clearInterval(renew);
      void Promise.resolve(refPromise).then((r) => this.store.deleteMessage(current ?? r)).catch(() => undefined);
    };
    for (const item of w.items) void this.runActivity(w, item, oneDone);
  }

  private async runActivity(w: WorkItemMessage, item: WorkItem, committed: () => void): Promise<void> {
    await this.acquireSlot();
    try {
      if (this.stopped) return;
      const fn = this.registry.get(item.name);
      let event: HistoryEvent;
      const base = { EventId: -1, IsPlayed: false, Timestamp: '', TaskScheduledId: item.task };
      if (!fn || fn.trigger.type !== 'activityTrigger') {
        const msg = `no activity function named '${item.name}' is registered`;
        event = { ...base, EventType: EventType.TaskFailed, Reason: msg, Details: msg, FailureDetails: { ErrorType: 'ActivityNotFound', ErrorMessage: msg } };
      } else {
        const context = invocationContext(fn, this.resolveInput, { instanceId: w.id, taskId: item.task });
        try {
          const input = item.input === undefined ? undefined : JSON.parse(item.input);
          const value = await (fn.handler as (i: unknown, c: typeof context) => Promise<unknown>)(input, context);
          event = { ...base, EventType: EventType.TaskCompleted, Result: JSON.stringify(value ?? null) };
        } catch (err) {
          const details = failureFrom(err);
          event = { ...base, EventType: EventType.TaskFailed, Reason: details.ErrorMessage, Details: details.StackTrace ?? details.ErrorMessage, FailureDetails: details };
        }
      }
      this.stats.activities++;
      // The completion goes straight to this process's dispatcher: it needs no queue of its own,
      // since until it is committed the work item stays queued (and recovery re-runs the task).
      const packed = await this.store.packEvent(w.id, event);
      this.deliver({ msg: { t: 'c', id: w.id, x: w.x, m: randomUUID(), e: packed }, committed });
    } catch (err) {
      this.log('error', `activity ${item.name} of ${w.id}: ${(err as Error).message}`);
    } finally {
      this.releaseSlot();
    }
  }

  // ---- polling, poison and recovery -----------------------------------------------------

  private async pollLoop(queue: 'control' | 'workitems'): Promise<void> {
    let idleMs = 50;
    while (!this.stopped) {
      let got = 0;
      try {
        const items = await this.store.receive(queue, 32, this.lease);
        got = items.length;
        for (const item of items) await this.handleReceived(queue, item.body, item.raw, item.ref);
      } catch (err) {
        if (!this.stopped) this.log('warn', `polling ${queue}: ${(err as Error).message}`);
      }
      if (got) { idleMs = 50; continue; }
      await new Promise<void>((r) => {
        const wake = () => { clearTimeout(t); this.wakePolls.delete(wake); r(); };
        const t = setTimeout(wake, idleMs);
        this.wakePolls.add(wake);
      });
      idleMs = Math.min(1000, idleMs * 2);
    }
  }

  private async handleReceived(queue: 'control' | 'workitems', body: unknown, raw: string, ref: QueuedRef): Promise<void> {
    const parsed = queue === 'control' ? ControlMessage.safeParse(body) : WorkItemMessage.safeParse(body);
    if (!parsed.success || ref.dequeueCount > this.maxDequeue) {
      const reason = parsed.success ? `dequeued ${ref.dequeueCount} times without completing` : `malformed message: ${parsed.error.issues[0]?.message}`;
      this.stats.poisoned++;
      this.log('warn', `moving a ${queue} message to the poison queue: ${reason}`);
      await this.store.send('poison', { queue, reason, at: new Date(this.now()).toISOString(), message: raw.slice(0, 40000) });
      await this.store.deleteMessage(ref);
      if (parsed.success && queue === 'workitems') {
        // The orchestration learns that its activities were given up on, instead of waiting forever.
        const w = parsed.data as WorkItemMessage;
        for (const item of w.items) {
          const msg = `activity '${item.name}' was given up on: ${reason}`;
          await this.sendControl({ t: 'c', id: w.id, x: w.x, m: randomUUID(), e: { EventType: EventType.TaskFailed, EventId: -1, TaskScheduledId: item.task, Reason: msg, Details: msg, FailureDetails: { ErrorType: 'PoisonMessage', ErrorMessage: msg } } });
        }
      }
      return;
    }
    if (queue === 'control') this.deliver({ msg: parsed.data as ControlMessage, ref });
    else this.runWork(parsed.data as WorkItemMessage, ref);
  }

  /**
   * After a restart, re-issue the outstanding work of every running instance at once instead of
   * waiting for leases to expire. Duplicates this creates are dropped by the dispatcher.
   */
  private async recover(): Promise<number> {
    let token: string | undefined;
    let resumed = 0;
    do {
      // Suspended instances too: their activities and timers still complete (and are held).
      const page = await this.store.queryIndex({ runtimeStatus: ['Pending', 'Running', 'Suspended'], continuationToken: token });
      token = page.continuationToken;
      await Promise.all(page.rows.map(async (row) => {
        const inst = await this.store.load(row.instanceId);
        if (!inst) return;
        if (TERMINAL.has(inst.state.status)) { await this.store.upsertIndex(inst.state); return; }
        resumed++;
        this.cache.set(row.instanceId, inst);
        const { instanceId, executionId } = inst.state;
        if (inst.history.length === 0) {
          this.deliver({ msg: { t: 'c', id: instanceId, m: randomUUID(), e: { EventType: EventType.ExecutionStarted, EventId: -1, Name: inst.state.name } } });
          return;
        }
        const pending = [...pendingTasks(inst.history).values()];
        const activities = pending.filter((e) => e.EventType === EventType.TaskScheduled);
        const counts: Record<string, number> = { ...(inst.state.redispatch ?? {}) };
        for (const e of activities) counts[e.EventId] = (counts[e.EventId] ?? 0) + 1;
        if (activities.length) {
          try {
            // Counted before re-dispatch, so that a task that kills its host still adds up.
            inst.etag = await this.store.commit({ ...inst.state, redispatch: counts }, inst.etag, undefined);
            inst.state = { ...inst.state, redispatch: counts };
          } catch (err) {
            if (err instanceof ConflictError) { this.cache.delete(row.instanceId); return; } // another host is on it
            throw err;
          }
        }
        const rerun: WorkItem[] = [];
        for (const e of pending) {
          if (e.EventType === EventType.TaskScheduled && counts[e.EventId] > this.maxDequeue) {
            const msg = `activity '${e.Name}' was given up on: its host stopped ${counts[e.EventId]} times while running it`;
            this.stats.poisoned++;
            this.log('warn', `${instanceId}: ${msg}`);
            await this.store.send('poison', { queue: 'workitems', reason: msg, at: new Date(this.now()).toISOString(), message: JSON.stringify({ id: instanceId, task: e.EventId, name: e.Name }) });
            await this.sendControl({ t: 'c', id: instanceId, x: executionId, m: randomUUID(), e: { EventType: EventType.TaskFailed, EventId: -1, TaskScheduledId: e.EventId, Reason: msg, Details: msg, FailureDetails: { ErrorType: 'PoisonMessage', ErrorMessage: msg } } });
          } else if (e.EventType === EventType.TaskScheduled) rerun.push({ task: e.EventId, name: e.Name!, input: e.Input });
          else if (e.EventType === EventType.TimerCreated) await this.scheduleTimer(instanceId, executionId, e.EventId, e.FireAt!);
          else await this.sendControl({ t: 'c', id: e.InstanceId!, x: executionId, m: randomUUID(), e: { EventType: EventType.ExecutionStarted, EventId: -1, Name: e.Name, Input: e.Input, ParentInstanceId: instanceId, LyncdrParentTaskId: e.EventId } });
        }
        if (rerun.length) await this.sendWork(instanceId, executionId, rerun);
        // Resumed, but the host stopped before what it held (or its start) ran: run it now.
        const started = inst.history.some((e) => e.EventType === EventType.ExecutionStarted);
        if (inst.state.status !== 'Suspended' && (inst.state.held?.length || !started)) this.kick(instanceId);
      }));
    } while (token);
    return resumed;
  }
}

/** Each suspend or resume in a part of its own, in arrival order: what came before it is decided first. */
function atSuspensionTurns(batch: Delivery[]): Delivery[][] {
  const parts: Delivery[][] = [[]];
  for (const d of batch) {
    if (isSuspensionTurn(d.msg.e.EventType)) parts.push([d], []);
    else parts[parts.length - 1].push(d);
  }
  const nonEmpty = parts.filter((p) => p.length);
  return nonEmpty.length ? nonEmpty : [[]];
}

function missingOrchestrator(name: string): OrchestratorHandler {
  return async () => { throw new Error(`no orchestrator function named '${name}' is registered in this app`); };
}

/** History as the Durable Functions status API shows it (names instead of numbers). */
function publicHistory(history: HistoryEvent[], withOutput: boolean): unknown[] {
  const scheduled = new Map(history.filter((e) => e.EventId >= 0).map((e) => [e.EventId, e]));
  return history
    .filter((e) => e.EventType !== EventType.OrchestratorStarted && e.EventType !== EventType.OrchestratorCompleted)
    .map((e) => {
      const out: Record<string, unknown> = { EventType: EventType[e.EventType], Timestamp: e.Timestamp };
      const ref = e.TaskScheduledId !== undefined ? scheduled.get(e.TaskScheduledId) : e.TimerId !== undefined ? scheduled.get(e.TimerId) : undefined;
      if (e.Name ?? ref?.Name) out.FunctionName = e.Name ?? ref?.Name;
      if (ref) out.ScheduledTime = ref.Timestamp;
      if (e.FireAt) out.FireAt = e.FireAt;
      if (e.EventType === EventType.TaskFailed || e.EventType === EventType.SubOrchestrationInstanceFailed) { out.Reason = e.Reason; out.Details = e.Details; }
      if (e.EventType === EventType.ExecutionCompleted) out.OrchestrationStatus = e.OrchestrationStatus;
      if (isSuspensionTurn(e.EventType)) out.Reason = e.Reason;
      if (withOutput && e.Result !== undefined) out.Result = parseJson(e.Result);
      if (withOutput && e.EventType === EventType.EventRaised && e.Input !== undefined) out.Input = parseJson(e.Input);
      return out;
    });
}
