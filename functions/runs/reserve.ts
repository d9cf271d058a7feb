// The locks a start reserves before its run exists (shared/runs/locks.ts): of overlapping starts
// that need the same lock, one is accepted and the others get 409 naming the holder, instead of
// all being accepted and all but one failing later.
import { appSettings } from '../../shared/config/index.js';
import { holdReason, takeOverAllowed } from '../../shared/runs/lock-holder.js';
import { isShared } from '../../shared/runs/locks.js';
import { lockHolder, runLocks } from '../activities/runs.js';
import type { Client } from './read.js';

export type Reservation = { ok: true; release(): Promise<void> } | { ok: false; error: string; lock: string; heldBy: string };

/**
 * Reserves `locks` for `runId`. A holder that ended with nothing in flight is left for the run to
 * take over (the acquireLocks activity records it in both trails); a reservation older than
 * LYNCDR_LOCK_RESERVATION_SECONDS whose run never came to exist is released here.
 */
export async function reserveLocks(client: Client, runId: string, locks: string[], now = new Date()): Promise<Reservation> {
  const ttlMs = appSettings().lockReservationSeconds * 1000;
  const takeOver = new Set<string>();
  for (const held of locks.length ? await runLocks().holders(locks) : []) {
    if (isShared(held.lock)) continue;
    // Its own reservation: a start of this run id that was cut off before its run existed (the
    // scheduler starts an occurrence's run again under the same id); acquire confirms the row.
    if (held.runId === runId && held.reserved) continue;
    const holder = await lockHolder(client, held.runId);
    const expired = held.reserved && holder.runtimeStatus === undefined && now.getTime() - Date.parse(held.since ?? '') > ttlMs;
    if (expired) { await runLocks().release(held.runId, [held.lock]); continue; }
    if (takeOverAllowed(holder)) { takeOver.add(held.lock); continue; }
    return { ok: false, error: reason(held.lock, held.runId, held.reserved, held.since, holdReason(held.lock, holder, held.since)), lock: held.lock, heldBy: held.runId };
  }
  const mine = locks.filter((l) => !takeOver.has(l));
  const r = mine.length ? await runLocks().acquire(runId, mine, now.toISOString(), { reserved: true }) : { ok: true as const };
  if (!r.ok) {
    const holder = await lockHolder(client, r.heldBy);
    return { ok: false, error: reason(r.lock, r.heldBy, r.reserved, r.since, holdReason(r.lock, holder, r.since)), lock: r.lock, heldBy: r.heldBy };
  }
  return { ok: true, release: async () => { await runLocks().release(runId, mine); } };
}

const reason = (lock: string, runId: string, reserved: boolean | undefined, since: string | undefined, otherwise: string) =>
  reserved ? `lock ${lock} is reserved by run ${runId}${since ? ` since ${since}` : ''}, which is starting: only one run may act on it at a time` : otherwise;
