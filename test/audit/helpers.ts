// Shared fixtures for the audit tests: a fresh table per test and a realistic run of entries.
import { azurite, uniqueName } from '../support/azurite.js';
import { tableClient } from '../../shared/storage/connection.js';
import { createAuditTrail, type AuditEntryInput, type AuditTrail } from '../../shared/audit/index.js';

export const HMAC_KEY = 'k'.repeat(16) + 'test-only-hmac-key-0123456789';

export function freshTrail(opts: { hmacKey?: string; tableName?: string } = {}): AuditTrail {
  return createAuditTrail({ connectionString: azurite(), tableName: opts.tableName ?? uniqueName('audit'), ...opts });
}

/** Raw access to the same table, as a tamperer with storage access would have. */
export function rawTable(trail: AuditTrail) {
  return tableClient(azurite(), trail.tableName);
}

const t0 = Date.parse('2025-03-01T02:00:00.000Z');
export const at = (minute: number) => new Date(t0 + minute * 60_000).toISOString();

/** A plausible failover run: declared, plan, approvals, dispatch/result pairs, RTO, completion. */
export function runEntries(n = 20): { key: string; entry: AuditEntryInput }[] {
  const list: { key: string; entry: AuditEntryInput }[] = [
    { key: 'run', entry: { kind: 'run-declared', actor: 'user:ops@contoso.com', at: at(0), data: { scenario: 'pool-failover', from: 'pool01.contoso.com', to: 'pool02.contoso.com' } } },
    { key: 'plan', entry: { kind: 'plan', actor: 'system:executor', at: at(1), data: { planHash: 'a'.repeat(64), steps: ['s1', 's2', 's3'] } } },
    { key: 'gate:main:requested', entry: { kind: 'approval-requested', actor: 'system:executor', at: at(2), data: { required: 2 } } },
    { key: 'gate:main:vote:alice', entry: { kind: 'vote', actor: 'user:alice@contoso.com', at: at(3), data: { decision: 'approve', channel: 'teams' } } },
    { key: 'gate:main:vote:bob', entry: { kind: 'vote', actor: 'user:bob@contoso.com', at: at(4), data: { decision: 'approve', channel: 'cli' } } },
    { key: 'gate:main:decided', entry: { kind: 'gate-decided', actor: 'system:executor', at: at(5), data: { status: 'approved' } } },
  ];
  for (let i = 1; list.length < n - 2; i++) {
    list.push({ key: `step:s${i}:attempt:1:dispatched`, entry: { kind: 'step-dispatched', actor: 'system:executor', at: at(5 + 2 * i), data: { step: `s${i}`, site: 'dr' } } });
    if (list.length < n - 2) {
      list.push({ key: `step:s${i}:attempt:1:result`, entry: { kind: 'step-result', actor: 'worker:dr-01', at: at(6 + 2 * i), data: { step: `s${i}`, ok: true, durationMs: 1200 + i } } });
    }
  }
  list.push({ key: 'rto-rpo', entry: { kind: 'rto-rpo', actor: 'system:executor', at: at(60), data: { rtoSeconds: 1740, rpoSeconds: 0 } } });
  list.push({ key: 'completed', entry: { kind: 'run-completed', actor: 'system:executor', at: at(61), data: { outcome: 'succeeded' } } });
  // Short runs (fewer than the 8 fixed entries) keep the start of the story.
  return list.slice(0, n);
}

export async function seedRun(trail: AuditTrail, runId: string, n = 20): Promise<void> {
  for (const { key, entry } of runEntries(n)) await trail.append(runId, key, entry);
}
