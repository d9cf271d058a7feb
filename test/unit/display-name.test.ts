// One rule shows people (shared/identity/display.ts): "UPN (object id)", or the id alone when the
// name says nothing more. The Teams gate card and the gate e-mail name voters by that rule, from
// the signed name their vote carried; the notification schema keeps the name bounded.
import { describe, expect, it } from 'vitest';
import { renderMail } from '../../functions/channels/email/render.js';
import { gateCard } from '../../functions/channels/teams/cards.js';
import { NAME_MAX, nameBeside, namesOfVotes, shownAll, shownAs } from '../../shared/identity/display.js';
import { Notification } from '../../shared/runs/notifications.js';

const A = '2b8e7d10-2222-4222-8222-00000000e022';
const B = '2b8e7d10-3333-4333-8333-00000000e033';

describe('shownAs', () => {
  it('puts the name before the id; the id alone without a name, or when the name is the id', () => {
    expect(shownAs(A, 'alice@contoso.com')).toBe(`alice@contoso.com (${A})`);
    expect(shownAs(A)).toBe(A);
    expect(shownAs(A, '  ')).toBe(A);
    expect(shownAs('alice', 'Alice')).toBe('alice');
    expect(shownAll([A, B], { [A]: 'x@contoso.com' })).toEqual([`x@contoso.com (${A})`, B]);
  });

  it('bounds the name (customStatus stays small) and takes names only from own keys', () => {
    expect(nameBeside(A, 'n'.repeat(1000))).toHaveLength(NAME_MAX);
    expect(shownAll(['constructor'], {})).toEqual(['constructor']);
    expect(namesOfVotes([{ approver: A, approverName: 'a@contoso.com' }, { approver: B }])).toEqual({ [A]: 'a@contoso.com' });
  });
});

describe('gate notifications name voters by the rule', () => {
  const n = Notification.parse({
    kind: 'gate', runId: 'run-upn', runbook: 'site-failover', runTitle: 'Site failover', at: '2026-12-02T12:00:00.000Z',
    gate: {
      stepId: 'declare-disaster', title: 'Declare', reason: 'East is down', planHash: 'sha256:0123456789abcdef', requester: B,
      status: 'pending', phase: 'primary', required: 2, approvers: [A], rejectors: [], eligible: [A, B],
      votes: [{ approver: A, approverName: 'ops@contoso.com', decision: 'approve', outcome: 'accepted', at: '2026-12-02T12:01:00.000Z', channel: 'http' }],
      changes: [], changesTotal: 0,
    },
  }) as Extract<Notification, { kind: 'gate' }>;

  it('the Teams card and the e-mail show "UPN (object id)"', () => {
    expect(JSON.stringify(gateCard(n, { publicUrl: 'https://lyncdr.example', userIds: [] }))).toContain(`✔ ops@contoso.com (${A}): approve`);
    expect(renderMail(n, []).text).toContain(`Approvals: 1 of 2 (ops@contoso.com (${A}))`);
  });

  it('refuses a name longer than an identity may be', () => {
    const long = structuredClone(n);
    long.gate.votes[0].approverName = 'n'.repeat(257);
    expect(Notification.safeParse(long).success).toBe(false);
  });
});
