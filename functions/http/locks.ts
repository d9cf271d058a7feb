// Run locks, for the operator who finds a run refused: who holds which lock, whether that run can
// still act, and a way to release a lock whose run has ended. A run that ended with nothing in
// flight gives its locks up to the next run by itself (the acquireLocks activity); this is for the
// case it cannot decide alone: a step was in flight when the run stopped, so a person checks the
// estate first. A running run's locks are never released here: cancel the run instead.
import { z } from 'zod';
import { lockHolder, releaseStale, runLocks } from '../activities/runs.js';
import { body, json, problem, refuseNonOperator, route } from './api.js';

const ReleaseBody = z.strictObject({ lock: z.string().min(1).max(300), reason: z.string().trim().min(1).max(2000) });

route('locks-list', ['GET'], 'locks', async (_req, client) => {
  const held = await runLocks().holders();
  // A run holds several locks: ask for each run once.
  const holders = new Map<string, ReturnType<typeof lockHolder>>();
  const locks = await Promise.all(held.map(async (h) => {
    if (!holders.has(h.runId)) holders.set(h.runId, lockHolder(client, h.runId));
    const holder = await holders.get(h.runId)!;
    return { lock: h.lock, runId: h.runId, since: h.since, runtimeStatus: holder.runtimeStatus ?? null, active: holder.active, inFlight: holder.inFlight ?? null };
  }));
  return json(200, { locks: locks.sort((a, b) => a.lock.localeCompare(b.lock)) });
});

route('locks-release', ['POST'], 'locks/release', async (req, client, user) => {
  const refused = refuseNonOperator(user, 'release a lock');
  if (refused) return refused;
  const b = await body(req, ReleaseBody);
  if (!b.ok) return b.res;
  const [held] = await runLocks().holders([b.data.lock]);
  if (!held) return problem(404, `no run holds lock ${b.data.lock}`);
  const holder = await lockHolder(client, held.runId);
  if (holder.active) return problem(409, `run ${held.runId} is ${holder.runtimeStatus} and holds ${b.data.lock}: cancel the run (lyncdr cancel ${held.runId}) rather than take its lock`);
  const at = new Date();
  const released = await releaseStale(b.data.lock, holder, held.since, { actor: user, at: at.toISOString(), reason: b.data.reason, key: `lock:${b.data.lock}:released:${at.getTime()}` });
  if (!released) return problem(409, `lock ${b.data.lock} changed hands while it was being released: look again (lyncdr locks)`);
  return json(200, { lock: b.data.lock, releasedFrom: held.runId, runtimeStatus: holder.runtimeStatus ?? null, inFlight: holder.inFlight ?? null, by: user, reason: b.data.reason });
});

