// The hybrid worker's core: receive the commands of one site, validate, execute at most once
// (journal), reply, and keep the cloud informed with heartbeats and probes. Everything it talks
// to is injected, so the same class runs in the service (main.ts) and in tests.
import { randomUUID } from 'node:crypto';
import {
  CommandId, CommandMessage, type ErrorKind, type HealthMessage, type ResultMessage, type SiteName, type VerificationResult,
} from '../shared/messages.js';
import type { WorkerExecutor } from './execution.js';
import type { ExecutionResult } from './executors/types.js';
import type { FileJournal } from './journal.js';
import { RecordedLists } from './recorded-lists.js';
import { LOG_TAIL_COMMANDS, runLogTail } from './log-tail.js';
import { usersMoveRecorded } from '../shared/commands/users.js';
import type { ReceivedCommand, WorkerTransport } from '../shared/transport/types.js';
import { boundedOutput, fitToMessage, MAX_OUTPUT_BYTES, MAX_VERIFICATION_BYTES } from './message-size.js';


/** Checks an invocation before anything is journaled (the catalog's validateInvocation in production). */
export type ResolveResult =
  | { ok: true; name: string; rendered: string; readOnly: boolean }
  | { ok: false; kind: Extract<ErrorKind, 'unknown-command' | 'invalid-params'>; message: string };
export type Resolver = (invocation: CommandMessage['invocation']) => ResolveResult;

export function catalogResolver(validate: typeof import('../shared/commands/invocation.js').validateInvocation): Resolver {
  return (invocation) => {
    const v = validate(invocation);
    if (v.ok) return { ok: true, name: v.command.name, rendered: v.rendered, readOnly: v.command.effect === 'read-only' };
    const unknown = v.issues.some((i) => i.path === 'name');
    return { ok: false, kind: unknown ? 'unknown-command' : 'invalid-params', message: v.error };
  };
}

export type LogFn = (event: string, fields?: Record<string, unknown>) => void;

export interface WorkerOptions {
  site: SiteName;
  workerId?: string;
  transport: WorkerTransport;
  executor: WorkerExecutor;
  journal: FileJournal;
  resolve: Resolver;
  concurrency?: number;
  /** Renew the message lock this often while a command runs (below the transport's lock). */
  lockRenewMs?: number;
  heartbeatMs?: number;
  probeMs?: number;
  /** On shutdown, wait this long for in-flight commands before abandoning them. */
  graceMs?: number;
  receiveWaitMs?: number;
  log?: LogFn;
}

class TimeoutError extends Error {
  constructor(ms: number) { super(`command timed out after ${ms} ms`); this.name = 'TimeoutError'; }
}
class ShutdownError extends Error {
  constructor() { super('worker is shutting down'); this.name = 'ShutdownError'; }
}

const DEAD_LETTER_INVALID = 'InvalidCommand';
const WATCHDOG_MARGIN_MS = 5000;
/** After its abort, how long a check's executor gets to stop before the check is given up. */
const ABANDON_CHECK_MS = 2000;

interface InFlight { msg: ReceivedCommand; controller: AbortController; done: Promise<void> }

export class HybridWorker {
  readonly workerId: string;
  private readonly o: Required<Omit<WorkerOptions, 'workerId'>>;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inflight = new Map<string, InFlight>();
  private readonly timers: NodeJS.Timeout[] = [];
  private slotFreed: (() => void) | undefined;
  /** Next to the journal: both are this worker's own disk. */
  private readonly recorded: RecordedLists;

  constructor(options: WorkerOptions) {
    this.workerId = options.workerId ?? `${options.site}-${randomUUID().slice(0, 8)}`;
    this.o = {
      concurrency: 4, lockRenewMs: 10_000, heartbeatMs: 30_000, probeMs: 300_000, graceMs: 30_000, receiveWaitMs: 1000,
      log: (event, fields) => process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), event, ...fields })}\n`),
      ...options,
    };
    if (this.o.concurrency < 1) throw new RangeError('concurrency must be at least 1');
    this.recorded = new RecordedLists(`${this.o.journal.dir}.recorded`);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.o.log('worker.started', { site: this.o.site, workerId: this.workerId, executor: this.o.executor.kind, concurrency: this.o.concurrency });
    this.timers.push(setInterval(() => void this.heartbeat('heartbeat'), this.o.heartbeatMs));
    this.timers.push(setInterval(() => void this.heartbeat('probe'), this.o.probeMs));
    void this.heartbeat('heartbeat');
    void this.heartbeat('probe');
    this.loop = this.receiveLoop();
  }

  /** Stops receiving, lets in-flight commands finish within the grace period, abandons the rest. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.timers.splice(0).forEach(clearInterval);
    this.slotFreed?.();
    await this.loop;
    const pending = [...this.inflight.values()];
    if (pending.length) {
      this.o.log('worker.draining', { inflight: pending.length, graceMs: this.o.graceMs });
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((r) => { graceTimer = setTimeout(r, this.o.graceMs); });
      await Promise.race([Promise.all(pending.map((p) => p.done)), grace]);
      clearTimeout(graceTimer);
      for (const p of this.inflight.values()) p.controller.abort(new ShutdownError());
      await Promise.all([...this.inflight.values()].map((p) => p.done));
    }
    await this.o.transport.close();
    this.o.log('worker.stopped', { workerId: this.workerId });
  }

  private async heartbeat(kind: HealthMessage['kind']): Promise<void> {
    try {
      const msg: HealthMessage = { v: 1, kind, site: this.o.site, workerId: this.workerId, at: new Date().toISOString() };
      if (kind === 'probe') msg.probes = (await this.o.executor.probes?.()) ?? [];
      await this.o.transport.sendHealth(msg);
    } catch (err) {
      this.o.log('health.failed', { kind, error: String(err) });
    }
  }

  private async receiveLoop(): Promise<void> {
    while (this.running) {
      const free = this.o.concurrency - this.inflight.size;
      if (free <= 0) {
        await new Promise<void>((r) => { this.slotFreed = r; });
        continue;
      }
      let batch: ReceivedCommand[];
      try {
        batch = await this.o.transport.receiveCommands(this.o.site, { maxMessages: free, maxWaitMs: this.o.receiveWaitMs });
      } catch (err) {
        this.o.log('receive.failed', { error: String(err) });
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      for (const msg of batch) {
        if (!this.running) {
          // Received after stop was requested: give it straight back.
          await msg.abandon().catch(() => undefined);
          continue;
        }
        const controller = new AbortController();
        const key = `${msg.messageId}:${msg.deliveryCount}:${randomUUID()}`;
        const done = this.handle(msg, controller.signal)
          .catch((err) => this.o.log('command.unhandled', { messageId: msg.messageId, error: String(err) }))
          .finally(() => {
            this.inflight.delete(key);
            this.slotFreed?.();
            this.slotFreed = undefined;
          });
        this.inflight.set(key, { msg, controller, done });
      }
    }
  }

  private base(cmd: Pick<CommandMessage, 'commandId' | 'runId' | 'stepId' | 'attempt'>): Omit<ResultMessage, 'status' | 'finishedAt' | 'duplicate'> {
    return { v: 1, commandId: cmd.commandId, runId: cmd.runId, stepId: cmd.stepId, site: this.o.site, workerId: this.workerId, ...(cmd.attempt ? { attempt: cmd.attempt } : {}) };
  }

  /** Refuses a message without executing it: report why (when it can be correlated), dead-letter it. */
  private async reject(msg: ReceivedCommand, kind: ErrorKind, message: string, replyTo?: string): Promise<void> {
    const body = (typeof msg.body === 'object' && msg.body !== null ? msg.body : {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : undefined);
    const commandId = CommandId.safeParse(body.commandId).success ? (body.commandId as string) : CommandId.safeParse(msg.messageId).success ? msg.messageId : 'unknown';
    const result: ResultMessage = {
      ...this.base({ commandId, runId: str(body.runId) ?? 'unknown', stepId: str(body.stepId) ?? 'unknown', ...(Number.isInteger(body.attempt) && (body.attempt as number) > 0 ? { attempt: body.attempt as number } : {}) }),
      status: 'rejected', finishedAt: new Date().toISOString(), duplicate: false, error: { kind, message: message.slice(0, 8000) },
    };
    this.o.log('command.rejected', { messageId: msg.messageId, commandId, kind, message });
    await this.o.transport.sendResult(result, replyTo);
    await msg.deadLetter(DEAD_LETTER_INVALID, `${kind}: ${message}`.slice(0, 1024));
  }

  private async handle(msg: ReceivedCommand, shutdown: AbortSignal): Promise<void> {
    const parsed = CommandMessage.safeParse(msg.body);
    if (!parsed.success) {
      const detail = typeof msg.body === 'string' ? 'body is not JSON' : parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      return this.settleOrAbandon(msg, () => this.reject(msg, 'invalid-message', detail));
    }
    let cmd = parsed.data;
    if (cmd.site !== this.o.site) {
      return this.settleOrAbandon(msg, () => this.reject(msg, 'wrong-site', `command for site "${cmd.site}" delivered to the worker of "${this.o.site}"`, cmd.replyTo));
    }
    const taken = await this.takeRecorded(cmd);
    if (!taken.ok) return this.settleOrAbandon(msg, () => this.reject(msg, 'invalid-params', taken.message, cmd.replyTo));
    if ('nothingLeft' in taken) {
      // A batch planned from the topology's user count past the end of the list actually read.
      const done: ResultMessage = { ...this.base(cmd), status: 'succeeded', finishedAt: new Date().toISOString(), duplicate: false, output: { moved: 0, recordedCount: taken.nothingLeft } };
      return this.settleOrAbandon(msg, async () => { await this.o.transport.sendResult(done, cmd.replyTo); await msg.complete(); });
    }
    cmd = taken.cmd;
    const resolved = this.o.resolve(cmd.invocation);
    if (!resolved.ok) return this.settleOrAbandon(msg, () => this.reject(msg, resolved.kind, resolved.message, cmd.replyTo));
    let verify: Extract<ResolveResult, { ok: true }> | undefined;
    if (cmd.verify) {
      const v = this.o.resolve(cmd.verify.invocation);
      if (!v.ok) return this.settleOrAbandon(msg, () => this.reject(msg, v.kind, `verify: ${v.message}`, cmd.replyTo));
      // The check runs without a journal entry of its own: only a command that cannot change the
      // estate may ride along, so running it twice (or not at all) is harmless.
      if (!v.readOnly) return this.settleOrAbandon(msg, () => this.reject(msg, 'invalid-params', `verify: ${v.name} is not read-only, and a verification must only read`, cmd.replyTo));
      verify = v;
    }

    if (this.running_.has(cmd.commandId)) {
      // The lock lapsed and the queue redelivered while this process still works on the command
      // (claiming it, running it or its check): that delivery will reply; this copy only has to go.
      this.o.log('command.concurrent-duplicate', { commandId: cmd.commandId });
      return this.settleOrAbandon(msg, () => msg.complete());
    }
    this.running_.add(cmd.commandId);
    try {
      await this.claimAndRun(msg, cmd, resolved, verify, shutdown);
    } finally {
      this.running_.delete(cmd.commandId);
    }
  }

  private async claimAndRun(msg: ReceivedCommand, cmd: CommandMessage, resolved: Extract<ResolveResult, { ok: true }>,
    verify: Extract<ResolveResult, { ok: true }> | undefined, shutdown: AbortSignal): Promise<void> {
    const claim = await this.o.journal.claim(cmd, this.workerId);
    if (!claim.claimed) {
      const existing = claim.existing;
      if (existing.state === 'finished') {
        this.o.log('command.duplicate', { commandId: cmd.commandId, status: existing.result.status });
        return this.settleOrAbandon(msg, async () => {
          await this.o.transport.sendResult({ ...existing.result, workerId: this.workerId, duplicate: true, ...(cmd.attempt ? { attempt: cmd.attempt } : {}) }, cmd.replyTo);
          await msg.complete();
        });
      }
      // Started by an earlier life of this worker that died before recording a result: it may
      // have taken effect. Never run it again; say so, and remember the answer.
      const startedAt = existing.started?.startedAt;
      const result: ResultMessage = {
        ...this.base(cmd), status: 'outcome-unknown', finishedAt: new Date().toISOString(), duplicate: false,
        ...(startedAt ? { startedAt } : {}),
        error: { kind: 'outcome-unknown', message: `the worker stopped while running this command (started ${startedAt ?? 'at an unknown time'}${existing.started ? ` by ${existing.started.workerId}, pid ${existing.started.pid}` : ''}); check the estate before retrying` },
      };
      await this.o.journal.recordResult(result);
      this.o.log('command.outcome-unknown', { commandId: cmd.commandId });
      return this.settleOrAbandon(msg, async () => {
        await this.o.transport.sendResult(result, cmd.replyTo);
        await msg.complete();
      });
    }

    // The message stays locked while the command and then its check run.
    const renew = setInterval(() => {
      msg.renewLock().catch((err) => this.o.log('lock.renew-failed', { commandId: cmd.commandId, error: String(err) }));
    }, this.o.lockRenewMs);
    try {
      let result = await this.execute(msg, cmd, resolved, shutdown);
      if (!result) return; // shutdown: abandoned, the journal says started -> outcome-unknown later
      await this.o.journal.recordResult(result);
      if (verify && cmd.verify && result.status === 'succeeded' && cmd.mode !== 'whatif' && !shutdown.aborted) {
        // The command's result is journaled first: a crash during the check loses only the check,
        // and the redelivery answers with the result alone (the orchestrator then sends the check).
        const checked = await this.verifyAfter(cmd, cmd.verify, verify, shutdown);
        if (checked) {
          // One message carries both: the command's output gets what the check leaves of it.
          result = fitToMessage({ ...result, verification: checked });
          await this.o.journal.recordResult(result);
        }
      }
      const reply = result;
      await this.settleOrAbandon(msg, async () => {
        await this.o.transport.sendResult(reply, cmd.replyTo);
        await msg.complete();
      });
    } finally {
      clearInterval(renew);
    }
  }

  /**
   * users.moveRecorded names a slice of a list this worker kept for the run: it runs as users.move
   * with those users, so the users never travel in the plan, the message or the history.
   */
  private async takeRecorded(cmd: CommandMessage): Promise<{ ok: true; cmd: CommandMessage } | { ok: true; nothingLeft: number } | { ok: false; message: string }> {
    if (cmd.invocation.name !== 'users.moveRecorded') return { ok: true, cmd };
    const p = usersMoveRecorded.params.safeParse(cmd.invocation.params);
    if (!p.success) return { ok: false, message: `users.moveRecorded: ${p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
    const kept = await this.recorded.slice(cmd.runId, p.data.recorded, p.data.from, p.data.to);
    if (!kept) return { ok: false, message: `users.moveRecorded: this worker kept no list ${p.data.recorded} for run ${cmd.runId.slice(0, 80)} (the read that records it ran elsewhere, or not at all)` };
    const identities = kept.items.map((u) => (u && typeof u === 'object' ? (u as { SipAddress?: unknown }).SipAddress : u));
    if (!identities.length) return { ok: true, nothingLeft: kept.count };
    return { ok: true, cmd: { ...cmd, invocation: { name: 'users.move', params: { identities, targetPoolFqdn: p.data.targetPoolFqdn, force: p.data.force } } } };
  }

  /** Commands a delivery of which this process is working on. */
  private readonly running_ = new Set<string>();

  private async execute(msg: ReceivedCommand, cmd: CommandMessage, resolved: Extract<ResolveResult, { ok: true }>, shutdown: AbortSignal): Promise<ResultMessage | undefined> {
    const controller = new AbortController();
    const onShutdown = () => controller.abort(shutdown.reason);
    shutdown.addEventListener('abort', onShutdown, { once: true });
    // Watchdog: executors enforce timeoutMs themselves; this catches one that does not.
    const timeout = setTimeout(() => controller.abort(new TimeoutError(cmd.timeoutMs)), cmd.timeoutMs + WATCHDOG_MARGIN_MS);
    const started = new Date();
    this.o.log('command.started', { commandId: cmd.commandId, name: resolved.name, mode: cmd.mode });
    const finish = (fields: Partial<ResultMessage> & Pick<ResultMessage, 'status'>): ResultMessage => {
      const finished = new Date();
      return fitToMessage({
        ...this.base(cmd), rendered: resolved.rendered, startedAt: started.toISOString(), finishedAt: finished.toISOString(),
        durationMs: finished.getTime() - started.getTime(), duplicate: false, ...fields,
      });
    };
    try {
      const ctx = { commandId: cmd.commandId, timeoutMs: cmd.timeoutMs, whatIf: cmd.mode === 'whatif', signal: controller.signal };
      // The log tail runs as several catalog commands on this executor, from the list this worker kept.
      const outcome = LOG_TAIL_COMMANDS.has(cmd.invocation.name)
        ? await runLogTail(this.o.executor, cmd.invocation, ctx, async (key) => (await this.recorded.slice(cmd.runId, key, 0, 1_000))?.items)
        : await this.o.executor.execute(cmd.invocation, ctx);
      if (shutdown.aborted) {
        // Stopped by shutdown: whether it took effect is not known here; the journal's 'started'
        // makes the next delivery answer outcome-unknown.
        this.o.log('command.abandoned', { commandId: cmd.commandId });
        await msg.abandon().catch(() => undefined);
        return undefined;
      }
      // Kept before the result is cut to fit a message: later steps take their slices from here.
      if (cmd.keep && outcome.status === 'succeeded' && Array.isArray(outcome.output)) await this.recorded.keep(cmd.runId, cmd.keep, outcome.output);
      const answer = answerOf(outcome, timedOut(controller.signal), cmd.timeoutMs, COMMAND_LIMITS);
      this.o.log('command.finished', { commandId: cmd.commandId, status: answer.status });
      return finish(answer);
    } catch (err) {
      // The contract says executors do not throw for command failures: this is a bug or an
      // abort the executor did not turn into a result.
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : err;
      if (reason instanceof ShutdownError) {
        this.o.log('command.abandoned', { commandId: cmd.commandId });
        await msg.abandon().catch(() => undefined);
        return undefined;
      }
      if (reason instanceof TimeoutError) {
        this.o.log('command.timeout', { commandId: cmd.commandId, timeoutMs: cmd.timeoutMs });
        return finish({ status: 'timeout', error: { kind: 'timeout', message: reason.message } });
      }
      this.o.log('command.error', { commandId: cmd.commandId, error: String(err) });
      return finish({ status: 'failed', error: { kind: 'internal', message: String((err as Error)?.message ?? err) } });
    } finally {
      clearTimeout(timeout);
      shutdown.removeEventListener('abort', onShutdown);
    }
  }

  /**
   * Runs the bundled read-only check. Undefined when the worker is stopping: the result then goes
   * back without it. Never throws: an executor error is the check's failure, not the command's.
   */
  private async verifyAfter(cmd: CommandMessage, req: NonNullable<CommandMessage['verify']>, resolved: Extract<ResolveResult, { ok: true }>, shutdown: AbortSignal): Promise<VerificationResult | undefined> {
    const commandId = req.commandId;
    const controller = new AbortController();
    const onShutdown = () => controller.abort(shutdown.reason);
    shutdown.addEventListener('abort', onShutdown, { once: true });
    const timeout = setTimeout(() => controller.abort(new TimeoutError(req.timeoutMs)), req.timeoutMs + WATCHDOG_MARGIN_MS);
    const startedAt = new Date().toISOString();
    const done = (fields: Omit<VerificationResult, 'startedAt' | 'finishedAt' | 'rendered'> & { rendered?: string }): VerificationResult =>
      ({ rendered: resolved.rendered, ...fields, startedAt, finishedAt: new Date().toISOString() });
    try {
      // A check only reads, so unlike a command it may be left behind: an executor that ignores
      // the abort must not hold back the command's known result.
      const abandoned = new Promise<never>((_, reject) => {
        controller.signal.addEventListener('abort', () => setTimeout(() => reject(controller.signal.reason as Error), ABANDON_CHECK_MS).unref(), { once: true });
      });
      abandoned.catch(() => undefined); // settled after the race is won: not an unhandled rejection
      const outcome = await Promise.race([
        this.o.executor.execute(req.invocation, { commandId, timeoutMs: req.timeoutMs, whatIf: false, signal: controller.signal }),
        abandoned,
      ]);
      if (shutdown.aborted) return undefined;
      const answer = answerOf(outcome, timedOut(controller.signal), req.timeoutMs, CHECK_LIMITS);
      this.o.log('verification.finished', { commandId: cmd.commandId, status: answer.status });
      return done(answer);
    } catch (err) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : err;
      if (reason instanceof ShutdownError || shutdown.aborted) return undefined;
      if (reason instanceof TimeoutError) return done({ status: 'timeout', error: { kind: 'timeout', message: reason.message } });
      return done({ status: 'failed', error: { kind: 'internal', message: String((err as Error)?.message ?? err).slice(0, 1_000) } });
    } finally {
      clearTimeout(timeout);
      shutdown.removeEventListener('abort', onShutdown);
    }
  }

  /** A reply that cannot be sent must not be lost: give the message back so it is retried. */
  private async settleOrAbandon(msg: ReceivedCommand, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.o.log('settle.failed', { messageId: msg.messageId, error: String(err) });
      await msg.abandon().catch(() => undefined);
    }
  }
}

const timedOut = (signal: AbortSignal) => signal.aborted && signal.reason instanceof TimeoutError;

interface AnswerLimits { outputBytes: number; stderrChars: number; renderedChars: number; messageChars: number }
/** A command's answer stays within one queue message; a bundled check gets a smaller share. */
const COMMAND_LIMITS: AnswerLimits = { outputBytes: MAX_OUTPUT_BYTES, stderrChars: 8_000, renderedChars: Infinity, messageChars: 8_000 };
const CHECK_LIMITS: AnswerLimits = { outputBytes: MAX_VERIFICATION_BYTES, stderrChars: 2_000, renderedChars: 2_000, messageChars: 1_000 };

/**
 * What an executor's outcome says on the wire, for a command and for its check alike: a failure
 * after the watchdog fired is a timeout; the first line of stderr explains a failure.
 */
function answerOf(outcome: ExecutionResult, watchdogFired: boolean, timeoutMs: number, limits: AnswerLimits) {
  const status = watchdogFired && outcome.status !== 'succeeded' ? 'timeout' as const : outcome.status;
  const firstLine = outcome.stderr.split(/\r?\n/).find((l) => l.trim()) ?? '';
  return {
    status,
    ...(outcome.exitCode !== null ? { exitCode: outcome.exitCode } : {}),
    ...(outcome.output !== undefined && outcome.output !== null ? { output: boundedOutput(outcome.output, limits.outputBytes) } : {}),
    ...(outcome.stderr ? { stderr: outcome.stderr.slice(0, limits.stderrChars) } : {}),
    ...(outcome.rendered ? { rendered: outcome.rendered.slice(0, limits.renderedChars) } : {}),
    ...(status === 'timeout' ? { error: { kind: 'timeout' as const, message: (firstLine || `timed out after ${timeoutMs} ms`).slice(0, limits.messageChars) } } : {}),
    ...(status === 'failed' ? { error: { kind: errorKindOf(outcome.errorKind), message: failureMessage(outcome.errorKind, firstLine).slice(0, limits.messageChars) } } : {}),
  };
}

/**
 * The executor's classification of a failure, on the wire. `not-supported` (this worker cannot run
 * it: no SQL configured, no runner) is not retryable either, so it travels as a precondition.
 */
export function errorKindOf(kind: ExecutionResult['errorKind']): ErrorKind {
  switch (kind) {
    case 'precondition':
    case 'not-supported':
      return 'precondition';
    case 'timeout':
      return 'timeout';
    default:
      return 'execution';
  }
}

function failureMessage(kind: ExecutionResult['errorKind'], firstLine: string): string {
  const text = firstLine || 'the command failed';
  return (kind === 'not-supported' ? `not supported by this worker: ${text}` : text).slice(0, 8000);
}
