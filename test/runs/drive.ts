// Drives a run to its end as the operators would: the approvers vote on every gate that waits,
// each manual step is done (the caller's `manual` hook, e.g. the DBA's work on the simulator) and
// confirmed, and a step waiting for a decision fails the drive at once with its error (the run
// is aborted first, releasing its locks).
import { expect } from 'vitest';
import type { Simulator } from '../../worker/simulator/simulator.js';
import { doManualStep } from '../../local/manual-steps.js';
import type { EstateSnapshot } from '../../worker/simulator/snapshot.js';
import { finished, type RunsClient } from './support.js';

export interface DriveOptions {
  /** Two approvers of the primary group (neither may be the requester). */
  approvers?: [string, string];
  /** Called once when a manual step waits for its confirmation, before it is confirmed. */
  manual?: (stepId: string, run: any) => Promise<void> | void;
  /** The estate the default manual steps are done in (default: the env's own simulator). */
  sim?: Simulator;
  /** Who confirms manual steps. */
  confirmer?: string;
  timeoutMs?: number;
}

export interface Driven {
  run: any;
  /** Steps in the order their approval / confirmation was given. */
  approved: string[];
  confirmed: string[];
}

export async function drive(api: RunsClient, id: string, o: DriveOptions = {}): Promise<Driven> {
  const [a1, a2] = o.approvers ?? ['alice', 'bob'];
  const confirmer = o.confirmer ?? 'carol';
  const deadline = Date.now() + (o.timeoutMs ?? 90_000);
  const approved: string[] = [];
  const confirmed: string[] = [];
  let r: any;
  while (Date.now() < deadline) {
    r = await api.run(id);
    if (finished(r)) return { run: r, approved, confirmed };
    for (const [step, st] of Object.entries<any>(r?.status?.steps ?? {})) {
      if (st.state === 'waiting-decision') {
        // Abort it so its locks do not hold up the next test, then fail with the step's error.
        await api.call(confirmer, 'POST', `runs/${id}/steps/${step}/decision`, { decision: 'abort', comment: 'test failed' });
        await api.waitFor(id, finished, 20_000).catch(() => undefined);
        throw new Error(`run ${id}: step ${step} failed and waited for a decision: ${st.lastError}`);
      }
      if (st.state === 'waiting-approval' && !approved.includes(step)) {
        for (const who of [a1, a2]) {
          const v = await api.vote(who, id, 'approve', { step });
          expect(v.body?.outcome, `${who} on ${step}: ${JSON.stringify(v.body)}`).toBe('accepted');
        }
        approved.push(step);
      }
      // A manual step's check refused the confirmation: the hook did not do the work.
      if (st.state === 'waiting-confirmation' && confirmed.includes(step) && /refused: the check failed/.test(st.lastError ?? '')) {
        await api.call(confirmer, 'POST', `runs/${id}/cancel`, { reason: 'test failed' });
        await api.waitFor(id, finished, 20_000).catch(() => undefined);
        throw new Error(`run ${id}: the confirmation of ${step} was refused: ${st.lastError}`);
      }
      if (st.state === 'waiting-confirmation' && !confirmed.includes(step)) {
        // Without a hook of its own, the test's administrator does the step as the drill does.
        if (o.manual) await o.manual(step, r);
        else {
          const sim = o.sim ?? (api as { sim?: Simulator }).sim;
          if (sim) await doManualStep(sim, step);
        }
        const c = await api.call(confirmer, 'POST', `runs/${id}/steps/${step}/confirm`, { comment: `${step} done by hand` });
        expect(c.status, `confirm ${step}: ${JSON.stringify(c.body)}`).toBe(202);
        confirmed.push(step);
      }
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`run ${id} did not finish; last status: ${JSON.stringify(r?.status, null, 1)}`);
}

/**
 * The run succeeded: phase succeeded, the orchestration completed, and every step of its plan
 * succeeded, except the ids in `skippable` which may also have been skipped.
 */
export function expectSucceeded(run: any, skippable: string[] = []): void {
  const detail = JSON.stringify(run?.status, null, 1);
  expect(run.runtimeStatus, detail).toBe('Completed');
  expect(run.status.phase, detail).toBe('succeeded');
  expect(run.report.outcome).toBe('succeeded');
  const order: string[] = run.status.order;
  expect(order.length).toBeGreaterThan(0);
  expect(Object.keys(run.status.steps).sort()).toEqual([...order].sort());
  for (const step of order) {
    const state = run.status.steps[step].state;
    const ok = state === 'succeeded' || (state === 'skipped' && skippable.includes(step));
    expect(ok, `${step} is ${state}`).toBe(true);
  }
}

/** The snapshot without the parts a runbook is expected to change (for "nothing else changed"). */
export function without(s: EstateSnapshot, ...keys: Array<keyof EstateSnapshot>): Partial<EstateSnapshot> {
  const copy: Partial<EstateSnapshot> = { ...s };
  for (const k of keys) delete copy[k];
  return copy;
}

export const SRV = '_sipinternaltls._tcp.contoso.com';

/** The operator removes the SRV record's old target by hand (the runbooks' manual DNS step; `lyncdr lab manual remove-srv-target`). */
export async function removeSrvTarget(sim: Simulator, target: string): Promise<void> {
  const before = (await sim.state()).dns[SRV]?.records.length ?? 0;
  await sim.removeSrvTarget(target);
  expect((await sim.state()).dns[SRV]?.records.length).toBe(before - 1);
}

/** The DBA copies and restores the log backups mgc's secondary has not restored (`lyncdr lab manual apply-log-backups`); returns their names. */
export async function applyLogBackupsByHand(sim: Simulator): Promise<string[]> {
  const sql = (await sim.state()).pchatSql!;
  const unapplied = sql.backupShare.files.filter((f) => f.seq > sql.secondary.lastRestoredSeq).sort((a, b) => a.seq - b.seq).map((f) => f.name);
  expect(await sim.applyLogBackups()).toMatch(/^copied and restored/);
  expect((await sim.state()).pchatSql!.secondary.lastRestoredSeq).toBeGreaterThan(sql.secondary.lastRestoredSeq);
  return unapplied;
}

/** The administrator moves every user of a lost pool to the DR pool with -Force, in batches (legacy-site-dr's manual move-users). */
export async function moveUsersByHand(sim: Simulator, fromPool: string, toPool: string): Promise<number> {
  const listed = await sim.execute({ name: 'users.listByPool', params: { registrarPool: fromPool } }, { commandId: `hand-list-${Date.now()}`, timeoutMs: 60_000, whatIf: false });
  expect(listed.status, listed.stderr).toBe('succeeded');
  const users = (listed.output as Array<{ SipAddress: string }>).map((u) => u.SipAddress);
  for (let i = 0; i < users.length; i += 500) {
    const r = await sim.execute({ name: 'users.move', params: { identities: users.slice(i, i + 500), targetPoolFqdn: toPool } }, { commandId: `hand-move-${Date.now()}-${i}`, timeoutMs: 60_000, whatIf: false });
    expect(r.status, r.stderr).toBe('succeeded');
  }
  return users.length;
}
