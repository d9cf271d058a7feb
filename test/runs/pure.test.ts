// Pure pieces of the executor: expectations, DAG readiness, RTO / RPO, settings.
import { describe, expect, it } from 'vitest';
import { appSettings, ConfigError } from '../../shared/config/index.js';
import { blockedSteps, readySteps } from '../../shared/runs/dag.js';
import { checkExpectation, valueAt } from '../../shared/runs/expect.js';
import { measureRpo, measureRto } from '../../shared/runs/measure.js';

describe('expectations', () => {
  it('follow PowerShell member enumeration', () => {
    expect(valueAt([{ BackupPoolFqdn: 'b' }], 'BackupPoolFqdn')).toBe('b');
    expect(valueAt([{ a: 1 }, { a: 2 }], 'a')).toEqual([1, 2]);
    expect(valueAt([], 'length')).toBe(0);
    expect(valueAt({ x: [{ y: { z: 3 } }] }, 'x.0.y.z')).toBe(3);
    expect(checkExpectation([{ State: 'FailedOver' }], { path: 'State', op: 'equals', value: 'FailedOver', description: 'd' }).ok).toBe(true);
    expect(checkExpectation({}, { path: 'n', op: 'lessThan', value: 3, description: 'd' })).toMatchObject({ ok: false, detail: 'n lessThan 3: got nothing' });
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
