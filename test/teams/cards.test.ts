// Every card the Teams channel shows is Adaptive Cards 1.5 (test/teams/card-schema.ts), carries
// Universal Actions with verbs, Submit fallbacks and a refresh, and shows what the brief asks.
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { decisionCard, errorCard, gateCard, manualCard, messageCard, runEndedCard, whatIfCard } from '../../functions/channels/teams/cards.js';
import { buildPlan } from '../../orchestrations/runbooks/index.js';
import { forecastRto, planHash } from '../../shared/plan/index.js';
import { loadTopologyFile } from '../../shared/topology/index.js';
import type { Notification } from '../../shared/runs/notifications.js';
import { cardProblems } from './card-schema.js';

const at = '2026-12-01T10:00:00.000Z';
const base = { runId: 'run-20261201t100000z-abcdef', runbook: 'fe-pool-failover', runTitle: 'Fail eepool1 over to eepool2', at };
const gate = (over: Partial<Extract<Notification, { kind: 'gate' }>['gate']> = {}): Extract<Notification, { kind: 'gate' }> => ({
  kind: 'gate', ...base,
  gate: {
    stepId: 'declare-disaster', title: 'Declare the disaster', reason: 'eepool1 is down; fail over to eepool2', planHash: `sha256:${'a'.repeat(64)}`,
    requester: 'alice', status: 'pending', phase: 'primary', required: 2, approvers: ['bob'], rejectors: [], eligible: ['carol'],
    deadline: '2026-12-01T10:30:00.000Z',
    votes: [
      { approver: 'alice', decision: 'approve', outcome: 'refused', code: 'self-approval', reason: 'the requester may not approve', at, channel: 'teams' },
      { approver: 'bob', decision: 'approve', outcome: 'accepted', at, channel: 'teams' },
    ],
    changes: [{ id: 'pool-failover-eepool1', title: 'Fail eepool1 over', site: 'west' }], changesTotal: 3, rtoForecastMinutes: 14, rtoTargetMinutes: 30, ...over,
  },
});
const url = 'http://127.0.0.1:7071';
const texts = (card: unknown) => JSON.stringify(card);

/** tsc's errors for a module written next to cards.ts, against the same compiler options as the build. */
function compileErrors(source: string): string[] {
  const dir = path.resolve('functions/channels/teams');
  const file = path.join(dir, '__card-typing-probe.ts');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (f) => (path.resolve(f) === file ? source : read(f));
  const exists = host.fileExists.bind(host);
  host.fileExists = (f) => path.resolve(f) === file || exists(f);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
}

describe('card builders are typed against the Adaptive Cards schema (the Teams SDK\'s generated interfaces)', () => {
  const probe = (element: string) => `import type { Card } from './cards.js';\nexport const c: Card = { type: 'AdaptiveCard', version: '1.5', body: [${element}] };\n`;
  it('a card the schema allows compiles; a wrong enum value, a misspelt property or an unknown element does not', () => {
    expect(compileErrors(probe(`{ type: 'TextBlock', text: 'x', weight: 'Bolder', wrap: true }, { type: 'Input.Text', id: 'comment', isMultiline: true }`))).toEqual([]);
    expect(compileErrors(probe(`{ type: 'TextBlock', text: 'x', weight: 'Boldest' }`)).join('\n')).toMatch(/Boldest/);
    expect(compileErrors(probe(`{ type: 'Input.Text', id: 'comment', isMultiLine: true }`)).join('\n')).toMatch(/isMultiLine/);
    expect(compileErrors(probe(`{ type: 'Blink', text: 'x' }`)).join('\n')).toMatch(/Blink/);
  });
});

describe('Teams cards', () => {
  it('the validator refuses what is not Adaptive Cards 1.5 (an unknown element, a bad value, an unknown property)', () => {
    expect(cardProblems({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'Bogus' }] }).length).toBeGreaterThan(0);
    expect(cardProblems({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'x', size: 'Huge' }] }).length).toBeGreaterThan(0);
    expect(cardProblems({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'x', colour: 'good' }] }).length).toBeGreaterThan(0);
    expect(cardProblems({ type: 'AdaptiveCard', version: '1.5', body: [], actions: [{ type: 'Action.Execute', verb: 'x', fallback: { type: 'Action.Bogus' } }] }).length).toBeGreaterThan(0);
  });

  it('gate card: title, reason, plan hash, changes, RTO vs target, what-if link, votes and how many are still needed, Approve / Reject with a comment, refresh', () => {
    const c = gateCard(gate(), { publicUrl: url, userIds: ['29:carol'] });
    expect(cardProblems(c)).toEqual([]);
    const t = texts(c);
    for (const s of ['Declare the disaster', 'eepool1 is down', `sha256:${'a'.repeat(64)}`, 'Fail eepool1 over (west)', '… and 2 more', '14 min (target 30 min: within)',
      `${url}/api/runs/${base.runId}`, 'bob: approve', 'refused: the requester may not approve', '1 of 2 approvals; 1 more needed']) expect(t).toContain(s);
    const actions = c.actions as Array<Record<string, any>>;
    expect(actions.filter((a) => a.type === 'Action.Execute').map((a) => [a.verb, a.data, a.fallback.type, a.fallback.data.verb])).toEqual([
      ['approve', { runId: base.runId, stepId: 'declare-disaster', planHash: `sha256:${'a'.repeat(64)}` }, 'Action.Submit', 'approve'],
      ['reject', { runId: base.runId, stepId: 'declare-disaster', planHash: `sha256:${'a'.repeat(64)}` }, 'Action.Submit', 'reject'],
    ]);
    expect((c.body ?? []).some((b) => b.type === 'Input.Text' && b.id === 'comment')).toBe(true);
    expect(c.refresh).toMatchObject({ action: { type: 'Action.Execute', verb: 'refresh' }, userIds: ['29:carol'] });
  });

  it('a decided gate and a viewer who already voted get no buttons', () => {
    const decided = gateCard(gate({ status: 'approved', approvers: ['bob', 'carol'], eligible: [] }), { publicUrl: url, userIds: [] });
    expect(cardProblems(decided)).toEqual([]);
    expect(texts(decided)).not.toContain('"verb":"approve"');
    expect(decided.refresh).toBeUndefined();
    const bobs = gateCard(gate(), { publicUrl: url, userIds: [], viewer: 'bob', note: { text: 'Your approval counted.', tone: 'good' } });
    expect(cardProblems(bobs)).toEqual([]);
    expect(texts(bobs)).not.toContain('"verb":"approve"');
    expect(texts(bobs)).toContain('Your approval counted.');
  });

  it('decision-needed, manual-waiting and run-ended cards', () => {
    const d = decisionCard({ kind: 'decision-needed', ...base, stepId: 'failing', stepTitle: 'Read fabric state', attempt: 2, error: 'Injected fault' }, url);
    const m = manualCard({ kind: 'manual-waiting', ...base, stepId: 'recreate-log-shipping', stepTitle: 'Re-create log shipping', instructions: 'Run the SSMS wizard' }, url);
    const e = runEndedCard({ kind: 'run-ended', ...base, outcome: 'succeeded', auditVerified: true,
      rto: { minutes: 12, targetMinutes: 30, met: true, basis: 'x' }, rpo: { minutes: 40, targetMinutes: 30, met: false, basis: 'y' } }, url);
    for (const c of [d, m, e]) expect(cardProblems(c)).toEqual([]);
    expect((d.actions as any[]).filter((a) => a.type === 'Action.Execute').map((a) => a.verb)).toEqual(['retry', 'skip', 'abort']);
    expect(texts(d)).toContain('Injected fault');
    expect((m.actions as any[]).filter((a) => a.type === 'Action.Execute').map((a) => a.verb)).toEqual(['confirm']);
    expect(texts(m)).toContain('Run the SSMS wizard');
    expect(texts(e)).toContain('12 min of 30 min target: met');
    expect(texts(e)).toContain('40 min of 30 min target: MISSED');
    expect(texts(e)).toContain('verified (hash chain intact)');
    expect(texts(runEndedCard({ kind: 'run-ended', ...base, outcome: 'failed', auditVerified: false }, url))).toContain('BROKEN');
  });

  it('what-if card of a real plan (Declare), answer and error cards; request text is shown, never evaluated', async () => {
    const topo = await loadTopologyFile('examples/estate.sample.yaml');
    if (!topo.ok) throw new Error('sample estate');
    const plan = buildPlan('fe-pool-failover', topo.topology, { pool: 'eepool1.contoso.com' });
    const w = whatIfCard({ plan, options: { pool: 'eepool1.contoso.com' }, planHash: planHash(plan), forecast: forecastRto(plan), mode: 'drill', askedBy: 'bob' });
    expect(cardProblems(w)).toEqual([]);
    expect((w.actions as any[])[0]).toMatchObject({ type: 'Action.Execute', verb: 'declare', data: { runbook: 'fe-pool-failover', options: { pool: 'eepool1.contoso.com' }, planHash: planHash(plan), mode: 'drill' } });
    const evil = errorCard('${$root.secret} {{7*7}} <script>');
    expect(cardProblems(evil)).toEqual([]);
    expect(texts(evil)).toContain('${$root.secret} {{7*7}} <script>');
    expect(cardProblems(messageCard('Run started', ['a', 'b'], 'good'))).toEqual([]);
  });
});
