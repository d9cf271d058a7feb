// The `simulator` executor: runs catalog commands against the simulated estate with realistic
// (scaled) durations, persisted state, disaster injection and per-command faults. It is the
// default executor for drills, so a whole failover runbook can be rehearsed end to end here.
import path from 'node:path';
import type { ProbeResult } from '../../shared/messages.js';
import { validateInvocation, type CommandInvocation } from '../../shared/commands/index.js';
import { abortableDelay, type WorkerExecutor } from '../execution.js';
import { refused, type ExecutionContext, type ExecutionResult } from '../executors/types.js';
import type { Topology } from '../../shared/topology/schema.js';
import { refuseCmsOverlap } from './cms-moves.js';
import { applySpec, cmsReachable, lastBackupSync, PreconditionError, reestablishLogShipping, refuseInLostSite, setDown, type Applied } from './estate.js';
import { exportFile } from './estate/model.js';
import { FaultStore, type Fault } from './faults.js';
import { snapshotOf, type EstateSnapshot } from './snapshot.js';
import { estateFromTopology, shareRoot, StateStore, type EstateState } from './state.js';
import { loadSimulatorTopology, topologyFile } from './topology.js';

export interface SimulatorOptions {
  /** Directory for state.json and faults.json. */
  dir: string;
  /**
   * The estate the simulation starts from (and `reset` goes back to). Without it, the file named
   * by LYNCDR_TOPOLOGY, else examples/estate.sample.yaml from the process cwd, is loaded when needed.
   */
  topology?: Topology;
  /** Real durations are multiplied by this (0.001: a 10-minute failover takes 0.6 s). */
  timeFactor?: number;
  /** Kills the process for the `crash` fault; replaceable so unit tests survive it. */
  crash?: () => void;
  /** False: armed faults are neither applied nor used up (work done by hand, not by a worker). */
  faults?: boolean;
  /**
   * The site whose worker this simulator executes for (worker --site). While that site is down
   * the worker is in the disaster too: it reaches no server and runs nothing. Absent: commands
   * done by hand or by a test, from no particular site.
   */
  site?: string;
}

/** How long a CMS move (or a CMS write) counts as under way: the longest a move may take. */
const CMS_MOVE_WINDOW_MS = 30 * 60_000;

export function timeFactorFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.LYNCDR_SIM_TIME_FACTOR;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`LYNCDR_SIM_TIME_FACTOR must be a non-negative number, got "${raw}"`);
  return n;
}

/** Precondition failures come back the way PowerShell reports a terminating error. */
function psError(name: string, err: PreconditionError): string {
  return `${name} : ${err.message}\n    + CategoryInfo          : ${err.category}: (:) [${name}], ${err.name}\n` +
    `    + FullyQualifiedErrorId : ${err.sqlError ? `SqlError${err.sqlError}` : err.category},${name}`;
}

function attempt(fn: () => Applied): { ok: true; value: Applied } | { ok: false; err: PreconditionError } {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof PreconditionError) return { ok: false, err };
    throw err;
  }
}

/** The shape of a PowerShell ErrorRecord through ConvertTo-Json, trimmed to what operators read. */
function errorRecord(cmdlet: string, err: PreconditionError): unknown {
  return {
    Exception: { Message: err.message },
    CategoryInfo: { Category: err.category, Activity: cmdlet, Reason: err.name },
    FullyQualifiedErrorId: `${err.sqlError ? `SqlError${err.sqlError}` : err.category},${cmdlet}`,
    ...(err.sqlError ? { SqlErrorNumber: err.sqlError } : {}),
  };
}

export class Simulator implements WorkerExecutor {
  readonly kind = 'simulator';
  readonly store: StateStore;
  readonly faults: FaultStore;
  private readonly timeFactor: number;
  private readonly crash: () => void;
  private readonly dir: string;
  private readonly applyFaults: boolean;
  private readonly site: string | undefined;

  private topology: Topology | undefined;

  constructor(options: SimulatorOptions) {
    this.topology = options.topology;
    this.dir = options.dir;
    this.applyFaults = options.faults ?? true;
    this.site = options.site?.toLowerCase();
    this.store = new StateStore(path.join(options.dir, 'state.json'), async () => estateFromTopology(await this.getTopology()));
    this.faults = new FaultStore(path.join(options.dir, 'faults.json'));
    this.timeFactor = options.timeFactor ?? timeFactorFromEnv();
    this.crash = options.crash ?? (() => process.kill(process.pid, 'SIGKILL'));
  }

  private async getTopology(): Promise<Topology> {
    this.topology ??= await loadSimulatorTopology(topologyFile());
    return this.topology;
  }

  state(): Promise<EstateState> {
    return this.store.load();
  }

  /** The estate's durable facts, for comparing before / after a drill (see snapshot.ts). */
  async snapshot(): Promise<EstateSnapshot> {
    return snapshotOf(await this.store.load());
  }

  /**
   * Back to the normal estate the topology describes (this simulator's topology, or the one
   * given, which then becomes this simulator's): no faults, empty execution log.
   */
  async reset(topology?: Topology): Promise<void> {
    if (topology) this.topology = topology;
    await this.store.save(estateFromTopology(await this.getTopology()));
    await this.faults.clear();
  }

  /** Files an earlier night wrote (a lab's history, e.g. to try the backup's retention), as Export-CsPersistentChatData writes them. */
  placeExports(paths: string[], kind = 'pchat', at = new Date()): Promise<void> {
    return this.store.update((s) => { for (const p of paths) exportFile(s, p, kind, 'lab', at); });
  }

  /** A site, pool or pChat SQL server goes down (recover: comes back). */
  disaster(target: string, recover = false): Promise<string> {
    return this.store.update((s) => setDown(s, target, !recover));
  }

  /** The manual step of the failback runbooks: the DBA re-creates log shipping of mgc. */
  reestablishLogShipping(): Promise<string> {
    return this.store.update((s) => reestablishLogShipping(s, new Date()));
  }

  /**
   * The manual step of the pChat failovers when the run was not told the log backups: the DBA
   * copies the ones mgc's secondary has not restored yet and restores them, in order, through
   * the same commands a run would send (so the estate checks them the same way).
   */
  async applyLogBackups(): Promise<string> {
    const s = await this.state();
    const sql = s.pchatSql;
    if (!sql) throw new PreconditionError('This estate has no Persistent Chat SQL.');
    // The share of a lost site is out of reach: then only the copy folder's files can be applied.
    const shareSite = s.shareSites[shareRoot(sql.backupShare.path)];
    const onShare = shareSite && !s.sites[shareSite]?.up ? [] : sql.backupShare.files;
    const toCopy = onShare.filter((f) => f.seq > sql.secondary.lastRestoredSeq && !sql.copyFolder.files.some((c) => c.name === f.name)).map((f) => f.name);
    const files = [...sql.copyFolder.files, ...onShare.filter((f) => toCopy.includes(f.name))].filter((f) => f.seq > sql.secondary.lastRestoredSeq).sort((a, b) => a.seq - b.seq).map((f) => f.name);
    if (!files.length) return `no log backup of mgc is left to apply on ${sql.secondary.server}`;
    const secondary = { sqlServerFqdn: sql.secondary.server, sqlInstanceName: sql.secondary.instance };
    const by = `lab-manual-${Date.now().toString(36)}`;
    // Done by hand, between the run's steps: it takes no simulated time, and the faults armed for
    // the workers' commands are theirs, not the DBA's.
    const byHand = new Simulator({ dir: this.dir, timeFactor: 0, faults: false, ...(this.topology ? { topology: this.topology } : {}) });
    const steps: Array<[string, Record<string, unknown>]> = [
      ...(toCopy.length ? [['file.copyLogBackups', { backupShare: sql.backupShare.path, copyFolder: sql.copyFolder.path, files: toCopy }] as [string, Record<string, unknown>]] : []),
      ...files.map((file): [string, Record<string, unknown>] => ['sql.restoreLog', { ...secondary, folder: sql.copyFolder.path, file }]),
    ];
    for (const [i, [name, params]] of steps.entries()) {
      const r = await byHand.execute({ name, params }, { commandId: `${by}-${i + 1}`, timeoutMs: 10 * 60_000, whatIf: false });
      if (r.status !== 'succeeded') throw new PreconditionError(`${name} failed: ${r.stderr}`);
    }
    return `copied and restored ${files.length} log backup(s) of mgc on ${sql.secondary.server}: ${files.join(', ')}`;
  }

  /**
   * The manual Response Group step of legacy-site-dr on Lync 2010: the DBA restores the newest
   * RgsConfig backup of a lost pool onto the CMS pool's store (seed 002 keeps the CMS on the DR
   * pool) with RESTORE DATABASE, through the same command a run would send.
   */
  async restoreRgsConfig(): Promise<string> {
    const s = await this.state();
    const lost = new Set(Object.values(s.pools).filter((p) => !p.up || s.sites[p.site]?.up === false).map((p) => p.fqdn));
    const backup = Object.values(s.exports).filter((e) => e.kind === 'rgsconfig' && lost.has(e.source)).sort((a, b) => a.at.localeCompare(b.at)).at(-1);
    if (!backup) throw new PreconditionError('No RgsConfig backup of a lost pool exists: run legacy-nightly-export first.', 'ObjectNotFound');
    const dr = s.pools[s.cms.pool];
    const cut = backup.path.lastIndexOf('\\');
    const params = {
      sqlServerFqdn: dr.backEnd.server, ...(dr.backEnd.instance ? { sqlInstanceName: dr.backEnd.instance } : {}),
      database: 'rgsconfig', folder: backup.path.slice(0, cut), file: backup.path.slice(cut + 1),
    };
    const byHand = new Simulator({ dir: this.dir, timeFactor: 0, faults: false, ...(this.topology ? { topology: this.topology } : {}) });
    const r = await byHand.execute({ name: 'sql.restoreDatabaseReplace', params }, { commandId: `lab-manual-${Date.now().toString(36)}`, timeoutMs: 10 * 60_000, whatIf: false });
    if (r.status !== 'succeeded') throw new PreconditionError(`sql.restoreDatabaseReplace failed: ${r.stderr}`);
    return `restored rgsconfig on ${dr.backEnd.server}${dr.backEnd.instance ? `\\${dr.backEnd.instance}` : ''} from ${backup.path}`;
  }

  /** The manual DNS step: the catalog cannot delete SRV records, so the administrator removes the target by hand. */
  removeSrvTarget(target: string): Promise<string> {
    const host = target.toLowerCase().replace(/\.$/, '');
    return this.store.update((s) => {
      const removed: string[] = [];
      for (const [owner, rec] of Object.entries(s.dns)) {
        if (rec.type !== 'SRV') continue;
        const keep = rec.records.filter((d) => d.split(' ').at(-1)?.toLowerCase().replace(/\.$/, '') !== host);
        if (keep.length !== rec.records.length) removed.push(owner);
        rec.records = keep;
      }
      if (!removed.length) throw new PreconditionError(`No SRV record points at ${host}.`);
      return `removed the SRV target ${host} from ${removed.join(', ')}`;
    });
  }

  private scaled(ms: number): number {
    return Math.round(ms * this.timeFactor);
  }

  private finish(commandId: string, outcome: 'succeeded' | 'failed' | 'whatif', message?: string): Promise<void> {
    return this.store.update((s) => {
      const e = [...s.executions].reverse().find((x) => x.commandId === commandId && x.outcome === 'running');
      if (e) Object.assign(e, { outcome, message, finishedAt: new Date().toISOString() });
    });
  }

  /**
   * Runs one catalog invocation against the estate. Like the real runners it never throws for a
   * command failure: refusals, failures and timeouts come back as an ExecutionResult.
   */
  async execute(invocation: CommandInvocation, ctx: ExecutionContext): Promise<ExecutionResult> {
    const began = Date.now();
    const v = validateInvocation(invocation);
    if (!v.ok) return refused(`${invocation.name}`, `invalid invocation: ${v.error}`, 0, 'precondition');
    const { command, spec, rendered } = v;
    const cmdlet = spec.kind === 'powershell' ? spec.cmdlet : `${spec.kind}`;
    const result = (fields: Pick<ExecutionResult, 'status' | 'exitCode' | 'output' | 'stderr'> & Pick<Partial<ExecutionResult>, 'skipped' | 'errorKind' | 'stdout'>): ExecutionResult =>
      ({ ...fields, rendered, durationMs: Date.now() - began });
    const refusal = (err: PreconditionError): ExecutionResult =>
      result({ status: 'failed', exitCode: spec.kind === 'sql' ? null : 1, output: errorRecord(cmdlet, err), stderr: psError(cmdlet, err), errorKind: err.kind });

    if (ctx.whatIf && !command.supportsWhatIf) {
      // Same behaviour as the real runners: a command without -WhatIf is not run in what-if.
      return result({ status: 'succeeded', exitCode: null, output: null, stderr: '', skipped: true });
    }

    // The executor enforces its own timeout (as the PowerShell runner kills its process); the
    // caller's signal (shutdown, or the worker's watchdog) aborts too.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timeout')), ctx.timeoutMs);
    const onOuterAbort = () => controller.abort(ctx.signal?.reason);
    ctx.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const signal = controller.signal;
    const mode = ctx.whatIf ? 'whatif' : 'run';
    try {
      const fault: Fault | undefined = ctx.whatIf || !this.applyFaults ? undefined : await this.faults.take([command.name, cmdlet]);
      // Check against the current estate and log the execution in one atomic update: the log
      // entry is the proof (for operators and crash tests) that the command was begun.
      const pre = await this.store.update((s) => {
        s.executions.push({ commandId: ctx.commandId, name: command.name, mode, startedAt: new Date().toISOString(), outcome: 'running' });
        return attempt(() => {
          refuseInLostSite(s, this.site);
          if (mode === 'run') refuseCmsOverlap(s, command.name, ctx.commandId, new Date(), this.scaled(CMS_MOVE_WINDOW_MS));
          return applySpec(structuredClone(s), spec, new Date(), this.site);
        });
      });
      if (!pre.ok) {
        await abortableDelay(this.scaled(2000), signal);
        await this.finish(ctx.commandId, 'failed', pre.err.message);
        return refusal(pre.err);
      }
      if (ctx.whatIf) {
        await this.finish(ctx.commandId, 'whatif');
        return result({ status: 'succeeded', exitCode: 0, output: { WhatIf: true, WouldReturn: pre.value.output, EstimatedDurationMs: pre.value.durationMs }, stderr: '' });
      }

      const duration = this.scaled(pre.value.durationMs);
      switch (fault?.kind) {
        case 'hang':
          await abortableDelay(2 ** 31 - 1, signal);
          break;
        case 'crash':
          await abortableDelay(duration / 2, signal);
          this.crash();
          // Only reached when crash() is replaced in unit tests: behave like a dead process.
          return await new Promise<never>(() => undefined);
        case 'fail': {
          await abortableDelay(duration / 2, signal);
          const message = `Injected fault: ${command.name} failed.`;
          await this.finish(ctx.commandId, 'failed', message);
          return result({ status: 'failed', exitCode: 1, output: null, stderr: `${cmdlet} : ${message}`, errorKind: 'execution' });
        }
        case 'slow':
          await abortableDelay(duration * fault.factor, signal);
          break;
        default:
          await abortableDelay(duration, signal);
      }

      // Apply to the estate as it is now: a disaster may have struck while the command ran.
      const applied = await this.store.update((s) => attempt(() => { refuseInLostSite(s, this.site); return applySpec(s, spec, new Date(), this.site); }));
      if (!applied.ok) {
        await this.finish(ctx.commandId, 'failed', applied.err.message);
        return refusal(applied.err);
      }
      await this.finish(ctx.commandId, 'succeeded');
      return result({
        status: 'succeeded', exitCode: spec.kind === 'sql' || spec.kind === 'file' ? null : 0, output: applied.value.output, stderr: '',
        ...(applied.value.stdout !== undefined ? { stdout: applied.value.stdout } : {}),
      });
    } catch (err) {
      if (!signal.aborted) throw err;
      const timedOut = !ctx.signal?.aborted;
      const message = timedOut ? `timed out after ${ctx.timeoutMs} ms; the simulated command was stopped before it took effect` : `aborted: ${String((ctx.signal?.reason as Error | undefined)?.message ?? ctx.signal?.reason)}`;
      await this.finish(ctx.commandId, 'failed', message);
      return result({ status: timedOut ? 'timeout' : 'failed', exitCode: null, output: null, stderr: message, errorKind: timedOut ? 'timeout' : 'execution' });
    } finally {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  async probes(): Promise<ProbeResult[]> {
    const s = await this.store.load();
    const now = new Date();
    const probes: ProbeResult[] = [];
    for (const [name, site] of Object.entries(s.sites)) probes.push({ name: `site:${name}`, ok: site.up, detail: site.up ? 'reachable' : 'unreachable' });
    for (const p of Object.values(s.pools)) {
      const up = p.up && (s.sites[p.site]?.up ?? false);
      probes.push({ name: `pool:${p.fqdn}`, ok: up, detail: p.failedOver ? `failed over to ${p.backupPool}` : up ? 'serving its users' : 'down' });
      if (p.backupPool) {
        const ageMin = Math.round((now.getTime() - Date.parse(lastBackupSync(s, p, now))) / 60_000);
        probes.push({ name: `backup-sync-age:${p.fqdn}`, ok: ageMin <= 15, detail: `last backup service sync ${ageMin} min ago`, value: ageMin });
      }
    }
    probes.push({ name: 'cms', ok: cmsReachable(s), detail: `CMS on ${s.cms.pool} (${s.cms.sqlServer}${s.cms.sqlInstance ? `\\${s.cms.sqlInstance}` : ''})` });
    if (s.pchat && s.pchatSql) {
      probes.push({ name: 'pchat-state', ok: s.pchat.state === 'Normal', detail: s.pchat.state, value: s.pchat.state });
      const ls = s.pchatSql.logShipping;
      const restored = ls.monitor?.last_restored_date_utc;
      const lag = restored ? Math.round((now.getTime() - Date.parse(restored)) / 60_000) : undefined;
      probes.push({
        name: 'mgc-log-shipping', ok: ls.configured && (lag ?? 0) <= (ls.monitor?.restore_threshold ?? 45),
        detail: ls.configured ? `last restore ${lag ?? 'unknown'} min ago` : 'log shipping not configured', ...(lag !== undefined ? { value: lag } : {}),
      });
    }
    return probes;
  }
}
