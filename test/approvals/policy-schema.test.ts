// The approval data's schemas: what a runbook's policy, a request and a vote may be. Each refusal
// is checked with the path and message a runbook author or voter sees.
import { describe, it, expect } from 'vitest';
import {
  ApprovalPolicySchema, GateStateSchema, IdentitySchema, PlanHashSchema, openGate,
} from '../../shared/approvals/index.js';

const base = { timeoutMinutes: 30, escalationTimeoutMinutes: 15 };
const issuesOf = (input: unknown) => {
  const r = ApprovalPolicySchema.safeParse(input);
  expect(r.success).toBe(false);
  return r.error!.issues.map((i) => ({ code: i.code, path: i.path, message: i.message }));
};
const PLAN = 'sha256-' + 'a'.repeat(64);

describe('approval policy schema', () => {
  it('accepts a quorum equal to the number of distinct approvers in both groups', () => {
    const p = ApprovalPolicySchema.parse({ required: 3, approverGroups: { primary: ['a@x', 'b@x'], escalation: ['c@x'] }, ...base });
    expect(p).toEqual({ required: 3, approverGroups: { primary: ['a@x', 'b@x'], escalation: ['c@x'] }, ...base, rejectionStops: true });
    expect(ApprovalPolicySchema.parse({ required: 2, approverGroups: { primary: ['a@x', 'b@x'] }, ...base, rejectionStops: false }).rejectionStops).toBe(false);
  });

  it('refuses an approver listed twice in the primary group, whatever the case', () => {
    expect(issuesOf({ required: 1, approverGroups: { primary: ['a@x', 'A@X'] }, ...base }))
      .toEqual([{ code: 'custom', path: ['approverGroups', 'primary'], message: 'an approver is listed twice' }]);
  });

  it('refuses an approver listed twice in the escalation group', () => {
    expect(issuesOf({ required: 1, approverGroups: { primary: ['a@x'], escalation: ['b@x', ' b@x '] }, ...base }))
      .toEqual([{ code: 'custom', path: ['approverGroups', 'escalation'], message: 'an approver is listed twice' }]);
  });

  it('counts an approver in both groups once towards the quorum', () => {
    expect(ApprovalPolicySchema.parse({ required: 2, approverGroups: { primary: ['a@x', 'b@x'], escalation: ['a@x'] }, ...base }).required).toBe(2);
    expect(issuesOf({ required: 3, approverGroups: { primary: ['a@x', 'b@x'], escalation: ['a@x'] }, ...base }))
      .toEqual([{ code: 'custom', path: ['required'], message: '3 approvals required but only 2 approvers exist in both groups' }]);
  });

  it('refuses a quorum below one or not whole', () => {
    expect(issuesOf({ required: 0, approverGroups: { primary: ['a@x'] }, ...base })).toMatchObject([{ code: 'too_small', path: ['required'] }]);
    expect(issuesOf({ required: 1.5, approverGroups: { primary: ['a@x', 'b@x'] }, ...base })).toMatchObject([{ path: ['required'] }]);
  });

  it('refuses an empty primary group', () => {
    expect(issuesOf({ required: 1, approverGroups: { primary: [], escalation: ['a@x'] }, ...base }))
      .toMatchObject([{ code: 'too_small', path: ['approverGroups', 'primary'] }]);
  });

  it('refuses unknown keys in the policy and in its groups', () => {
    expect(issuesOf({ required: 1, approverGroups: { primary: ['a@x'], backup: ['b@x'] }, ...base, quorum: 2 })).toEqual([
      { code: 'unrecognized_keys', path: ['approverGroups'], message: 'Unrecognized key: "backup"' },
      { code: 'unrecognized_keys', path: [], message: 'Unrecognized key: "quorum"' },
    ]);
  });
});

describe('identities', () => {
  it('are trimmed and lower-cased', () => {
    expect(IdentitySchema.parse('  Alice@Contoso.COM ')).toBe('alice@contoso.com');
  });

  it('are 1 to 256 characters after trimming', () => {
    expect(IdentitySchema.safeParse('').success).toBe(false);
    expect(IdentitySchema.safeParse('   ').success).toBe(false);
    expect(IdentitySchema.parse('a')).toBe('a');
    expect(IdentitySchema.parse('a'.repeat(256))).toBe('a'.repeat(256));
    expect(IdentitySchema.safeParse('a'.repeat(257)).success).toBe(false);
  });
});

describe('plan hashes', () => {
  const message = 'plan hash: 16-200 printable token characters';
  it('are 16-200 token characters, the whole string', () => {
    expect(PlanHashSchema.parse('a'.repeat(16))).toBe('a'.repeat(16));
    expect(PlanHashSchema.parse('A0:+/=_-'.repeat(25))).toHaveLength(200);
    for (const bad of ['a'.repeat(15), 'a'.repeat(201), '!' + 'a'.repeat(16), 'a'.repeat(16) + '!', 'a'.repeat(8) + ' ' + 'a'.repeat(8)]) {
      expect(PlanHashSchema.safeParse(bad).error?.issues.map((i) => i.message)).toEqual([message]);
    }
  });
});

describe('requests and gate state', () => {
  it('a request time may carry an offset', () => {
    const g = openGate({ runId: 'run-1', planHash: PLAN, requester: 'Req@X', requestedAt: '2025-03-01T03:00:00+01:00' });
    expect(g).toEqual({ request: { runId: 'run-1', planHash: PLAN, requester: 'req@x', requestedAt: '2025-03-01T03:00:00+01:00' }, phase: 'primary', votes: [] });
  });

  it('a gate state parses in each phase and refuses another phase or an unknown key', () => {
    const request = { runId: 'run-1', planHash: PLAN, requester: 'req@x', requestedAt: '2025-03-01T02:00:00.000Z' };
    for (const phase of ['primary', 'escalated', 'timed-out'] as const) {
      expect(GateStateSchema.parse({ request, phase, votes: [] })).toEqual({ request, phase, votes: [] });
    }
    expect(GateStateSchema.safeParse({ request, phase: 'closed', votes: [] }).error?.issues).toMatchObject([{ path: ['phase'] }]);
    expect(GateStateSchema.safeParse({ request, phase: 'primary', votes: [], extra: 1 }).error?.issues).toMatchObject([{ code: 'unrecognized_keys', path: [] }]);
  });
});
