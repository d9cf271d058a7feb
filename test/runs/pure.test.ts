// Pure pieces of the executor: expectations, DAG readiness, RTO / RPO, settings.
import { describe, expect, it } from 'vitest';
import { appSettings, ConfigError } from '../../shared/config/index.js';
import { blockedSteps, readySteps } from '../../shared/runs/dag.js';
import { checkExpectation, valueAt } from '../../shared/runs/expect.js';
import { describeMeasure, measureRpo, measureRto } from '../../shared/runs/measure.js';
import { holderState, holdReason, takeOverAllowed } from '../../shared/runs/lock-holder.js';
import { summarize } from '../../shared/runs/summary.js';
import type { StepState } from '../../shared/runs/contract.js';

describe('expectations', () => {
  it('follow PowerShell member enumeration', () => {
    expect(valueAt([{ BackupPoolFqdn: 'b' }], 'BackupPoolFqdn')).toBe('b');
    expect(valueAt([{ a: 1 }, { a: 2 }], 'a')).toEqual([1, 2]);
    expect(valueAt([], 'length')).toBe(0);
    expect(valueAt({ x: [{ y: { z: 3 } }] }, 'x.0.y.z')).toBe(3);
    expect(checkExpectation([{ State: 'FailedOver' }], { path: 'State', op: 'equals', value: 'FailedOver', description: 'd' }).ok).toBe(true);
    expect(checkExpectation({}, { path: 'n', op: 'lessThan', value: 3, description: 'd' })).toMatchObject({ ok: false, detail: 'n lessThan 3: got nothing' });
  });

  it('countAtMost counts a list whole or as the worker cut it, at `.` or a path, and fails on no list', () => {
    const at = (output: unknown, value: number, path = '.') => checkExpectation(output, { path, op: 'countAtMost', value, description: 'd' });
    expect(at([1, 2, 3], 3)).toMatchObject({ ok: true, actual: 3 });
    expect(at([1, 2, 3], 2)).toMatchObject({ ok: false, actual: 3, detail: '. has at most 2 items: got 3' });
    expect(at({ truncated: true, count: 5601, items: [1] }, 5500)).toMatchObject({ ok: false, detail: '. has at most 5500 items: got 5601' });
    expect(at({ truncated: true, count: 5500, items: [1] }, 5500).ok).toBe(true);
    expect(at({ Users: [1, 2] }, 2, 'Users').ok).toBe(true);
    expect(at({ count: 1 }, 5)).toMatchObject({ ok: false, detail: '. has at most 5 items: got no list' });
    expect(at(undefined, 5).ok).toBe(false);
  });
});

describe('dag', () => {
  const steps = [{ id: 'a', dependsOn: [] }, { id: 'b', dependsOn: ['a'] }, { id: 'c', dependsOn: ['b'] }, { id: 'd', dependsOn: [] }] as any[];
  it('starts steps whose dependencies succeeded or were skipped, and blocks the rest after a failure', () => {
    const st: Record<string, any> = { a: 'skipped', b: 'pending', c: 'pending', d: 'pending' };
    expect(readySteps(steps, (id) => st[id]).map((s) => s.id)).toEqual(['b', 'd']);
    st.b = 'failed';
    expect(blockedSteps(steps, (id) => st[id]).map((s) => s.id)).toEqual(['c']);
  });
});

describe('rto / rpo', () => {
  it('measures from the declaration', () => {
    expect(measureRto('2026-01-01T00:00:00Z', '2026-01-01T00:12:30Z', 15)).toMatchObject({ minutes: 12.5, met: true });
    expect(measureRto(undefined, '2026-01-01T00:12:30Z', 15).minutes).toBeNull();
    const rpo = measureRpo({ a: [{ BackupModules: [{ ExportStatus: { LastStateTime: '2026-01-01T00:00:00Z' } }] }], b: { last_restored_date_utc: '2025-12-31T23:50:00Z' } }, '2026-01-01T00:02:00Z', 5);
    expect(rpo).toMatchObject({ minutes: 12, met: false });
    expect(rpo.basis).toMatch(/mgc last restored log/);
  });

  it('takes mgc as far as the log tail the run restored, and no further than the monitor when the tail was given up', () => {
    const monitor = { 'pchat.logShippingMonitor': { last_restored_date_utc: '2026-01-01T00:00:00Z' } };
    const tail = [{ Name: 'mgc_1.trn', LastWriteTimeUtc: '2026-01-01T00:05:00Z', Restored: 'now' }, { Name: 'mgc_2.trn', LastWriteTimeUtc: '2026-01-01T00:10:00Z', Restored: 'now' }];
    const restored = measureRpo({ ...monitor, 'pchat.logTailRestored': tail }, '2026-01-01T00:12:00Z', 5);
    expect(restored).toMatchObject({ minutes: 2, met: true, from: '2026-01-01T00:10:00Z' });
    expect(restored.basis).toContain('mgc newest restored log backup mgc_2.trn');
    // Given up (no record of the restore): the monitor's point stands, 12 minutes, missed.
    expect(measureRpo(monitor, '2026-01-01T00:12:00Z', 5)).toMatchObject({ minutes: 12, met: false });
    // The Front End's backup service still counts when it is the older point.
    const fe = { 'preFailover.backupStatus': { BackupModules: [{ ExportStatus: { LastStateTime: '2026-01-01T00:01:00Z' } }] } };
    expect(measureRpo({ ...monitor, ...fe, 'pchat.logTailRestored': tail }, '2026-01-01T00:12:00Z', 5)).toMatchObject({ minutes: 11 });
  });
});

describe('settings', () => {
  it('has local defaults and refuses bad values with the setting named', () => {
    const s = appSettings({});
    expect(s).toMatchObject({ transport: 'azurite', queuePrefix: 'lyncdr', resultsQueue: 'lyncdr-results' });
    expect(s.approvalPolicies['declare-disaster'].approverGroups.primary).toEqual(['alice', 'bob', 'carol']);
    expect(() => appSettings({ LYNCDR_APPROVAL_POLICIES: '{bad' })).toThrow(/LYNCDR_APPROVAL_POLICIES/);
    expect(() => appSettings({ LYNCDR_TRANSPORT: 'servicebus' })).toThrow(ConfigError);
  });

  it('operators: unset means anyone signed in; a list is normalised like identities; an empty or malformed list is refused', () => {
    expect(appSettings({}).operators).toBeUndefined();
    expect(appSettings({ LYNCDR_OPERATORS: '[" Ops1@Contoso.com ", "ops2@contoso.com"]' }).operators).toEqual(['ops1@contoso.com', 'ops2@contoso.com']);
    expect(() => appSettings({ LYNCDR_OPERATORS: '[]' })).toThrow(/LYNCDR_OPERATORS: list at least one operator/);
    expect(() => appSettings({ LYNCDR_OPERATORS: 'ops1' })).toThrow(/LYNCDR_OPERATORS: not JSON/);
  });
});

describe('the run holding a lock', () => {
  // The run's customStatus is its summary: what a lock holder's steps were is read from there.
  const custom = (steps: Record<string, { state: string; lastError?: string }>) => summarize({
    v: 1, runId: 'run-a', runbook: 'readiness', mode: 'drill', requestedBy: 'op', phase: 'running', title: 't', order: Object.keys(steps), updatedAt: '2026-11-22T00:00:00.000Z',
    steps: Object.fromEntries(Object.entries(steps).map(([id, s]) => [id, { kind: 'command' as const, title: id, attempt: 1, ...s, state: s.state as StepState }])),
  });
  it('counts as ended only when Durable says it can never act again', () => {
    for (const s of ['Completed', 'Failed', 'Terminated', 'Canceled']) expect(holderState('run-a', { runtimeStatus: s, customStatus: custom({}) }).active).toBe(false);
    for (const s of ['Running', 'Pending', 'Suspended', 'ContinuedAsNew', 'SomethingNew']) expect(holderState('run-a', { runtimeStatus: s, customStatus: custom({}) }).active).toBe(true);
  });
  it('lets a lock go by itself only when nothing was in flight and that is known', () => {
    const ended = (steps: Record<string, { state: string; lastError?: string }>) => holderState('run-a', { runtimeStatus: 'Terminated', customStatus: custom(steps) });
    expect(takeOverAllowed(ended({ a: { state: 'succeeded' }, b: { state: 'waiting-confirmation' } }))).toBe(true);
    expect(ended({ a: { state: 'running' } }).inFlight).toEqual(['a']);
    expect(ended({ a: { state: 'waiting-decision', lastError: 'no result from the east worker within 5000 ms: outcome unknown (the command may have run)' } }).inFlight).toEqual(['a']);
    expect(ended({ a: { state: 'waiting-decision', lastError: 'outcome-unknown (outcome-unknown): the worker stopped' } }).inFlight).toEqual(['a']);
    expect(ended({ a: { state: 'waiting-decision', lastError: 'failed (precondition): already failed over' } }).inFlight).toEqual([]);
    expect(ended({ a: { state: 'waiting-decision', lastError: 'system error: the audit table is unreachable' } }).inFlight).toEqual(['a']);
    expect(ended({ a: { state: 'failed', lastError: 'no result from the east worker within 5000 ms: outcome unknown (the command may have run)' } }).inFlight).toEqual(['a']);
    expect(ended({ a: { state: 'succeeded', lastError: 'outcome-unknown (outcome-unknown): retried since' } }).inFlight).toEqual([]);
    expect(takeOverAllowed(ended({ a: { state: 'running' } }))).toBe(false);
    const unreadable = holderState('run-a', { runtimeStatus: 'Terminated', customStatus: { something: 'else' } });
    expect(unreadable.inFlight).toBeUndefined();
    expect(takeOverAllowed(unreadable)).toBe(false);
    expect(holdReason('pool:x', unreadable)).toMatch(/ended Terminated and whose steps cannot be read: check the estate/);
    const gone = holderState('run-a', undefined);
    expect(gone).toMatchObject({ active: false, runtimeStatus: undefined });
    expect(takeOverAllowed(gone)).toBe(false);
    expect(holdReason('pool:x', gone, '2026-11-22T00:00:00.000Z')).toBe('lock pool:x is held by run run-a since 2026-11-22T00:00:00.000Z, which no longer exists: check the estate, then release it with: lyncdr locks release pool:x --reason "..."');
    expect(takeOverAllowed(holderState('run-a', { runtimeStatus: 'Suspended', customStatus: custom({}) }))).toBe(false);
    expect(holdReason('pool:x', holderState('run-a', { runtimeStatus: 'Suspended', customStatus: custom({}) }))).toBe('lock pool:x is held by run run-a (Suspended): only one run may act on it at a time');
  });
});

describe('describeMeasure', () => {
  it('says the figure, its target, the verdict and the basis; at drill speed, what it means at real durations', () => {
    const rto = { minutes: 0.04, targetMinutes: 30, met: true, basis: 'declaration approved -> last verification' };
    expect(describeMeasure('RTO', rto)).toBe('RTO 0.04 min (target 30 min: met) - declaration approved -> last verification');
    expect(describeMeasure('RTO', rto, 0.002)).toBe('RTO 0.04 min (target 30 min: met at drill speed; about 20 min at real durations) - declaration approved -> last verification');
    expect(describeMeasure('RPO', { minutes: 31, targetMinutes: 30, met: false, basis: 'b' }, 0.002)).toBe('RPO 31.00 min (target 30 min: missed at drill speed) - b');
    expect(describeMeasure('RPO', { minutes: null, targetMinutes: 30, met: null, basis: 'no sync point recorded' })).toBe('RPO: not measured (no sync point recorded)');
  });
});
