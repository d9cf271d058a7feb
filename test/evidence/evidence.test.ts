// Issue 10 §3: a run's evidence pack. A site-failover drill through the real app, Azurite and
// the workers on the simulator, with what an auditor asks about: a refused self-approval, two
// votes, a changing step that fails three times and is retried on an operator's decision, and a
// manual step confirmed with a comment that is markup. `lyncdr audit evidence` (a child process)
// writes the pack; each field is checked against the run's own trail and status; `audit verify
// --file` checks it with no storage reachable; each edit to a copy is found; report.html is read
// in a real browser.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azurite } from '../support/azurite.js';
import { lyncdr } from '../support/cli.js';
import { launchBrowser } from '../support/browser.js';
import { removeSrvTarget } from '../runs/drive.js';
import { finished, startRunsEnv, stepState, type RunsEnv } from '../runs/support.js';
import type { AuditEntry } from '../../shared/audit/index.js';
import type { EvidencePack } from '../../shared/evidence/pack.js';

const EDGE = 'edge-next-hop-edgepool1';
const MANUAL = 'dns-sipinternaltls-remove';
const HOSTILE = '<img src=x onerror="document.title=\'pwned\'"> record removed & checked';

let env: RunsEnv;
let id: string;
let status: any;
let trail: AuditEntry[];
let out: string;
let pack: EvidencePack;
const cliEnv = () => ({ ...process.env, AzureWebJobsStorage: azurite(), LYNCDR_AUDIT_TABLE: env.values.LYNCDR_AUDIT_TABLE });
// Offline: storage points at a port nothing listens on, so any read from it would fail the check.
const offlineEnv = () => ({ ...process.env, AzureWebJobsStorage: 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;', LYNCDR_AUDIT_TABLE: 'NoSuchTable' });
const byKey = (k: string) => trail.find((e) => e.key === k);

beforeAll(async () => {
  env = await startRunsEnv();
  await env.sim.reset();
  await env.sim.faults.add({ command: 'edge.setNextHop', kind: 'fail', remaining: 3 });
  id = await env.start('operator1', 'site-failover', { failedSite: 'East', retryIntervalMs: 10 });
  await env.waitFor(id, stepState('declare-disaster', 'waiting-approval'), 60_000);
  expect((await env.vote('operator1', id, 'approve')).body?.outcome).toBe('refused');
  expect((await env.vote('carol', id, 'approve', { comment: 'plan read' })).body?.outcome).toBe('accepted');
  expect((await env.vote('alice', id, 'approve')).body?.outcome).toBe('accepted');
  const deadline = Date.now() + 150_000;
  let decided = false;
  let confirmed = false;
  let r: any;
  while (Date.now() < deadline) {
    r = await env.run(id);
    if (finished(r)) break;
    const edge = r.status?.steps?.[EDGE];
    if (!decided && edge?.state === 'waiting-decision' && edge.lastError !== undefined) {
      expect((await env.call('operator2', 'POST', `runs/${id}/steps/${EDGE}/decision`, { decision: 'retry', comment: 'the Edge pool answers again' })).status).toBe(202);
      decided = true;
    }
    if (!confirmed && r.status?.steps?.[MANUAL]?.state === 'waiting-confirmation') {
      await removeSrvTarget(env.sim, 'eepool1.contoso.com');
      expect((await env.call('bob', 'POST', `runs/${id}/steps/${MANUAL}/confirm`, { comment: HOSTILE })).status).toBe(202);
      confirmed = true;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  expect(r.status.phase, JSON.stringify(r.status.steps[EDGE])).toBe('succeeded');
  expect(decided && confirmed).toBe(true);
  status = r.status;
  trail = await env.trail.readRun(id);
  out = path.join(mkdtempSync(path.join(os.tmpdir(), 'lyncdr-evidence-')), 'pack');
  const made = await lyncdr(['audit', 'evidence', id, '--out', out], cliEnv());
  expect(made.code, made.stderr).toBe(0);
  expect(made.stdout).toMatch(new RegExp(`^run ${id}: INTACT; ${trail.length} entries, 3 vote\\(s\\), \\d+ command\\(s\\), 1 confirmation\\(s\\), 1 decision\\(s\\), \\d+ deviation\\(s\\)`));
  pack = JSON.parse(readFileSync(path.join(out, 'evidence.json'), 'utf8'));
}, 240_000);
afterAll(async () => { await env?.stop(); });

describe('evidence.json, field by field against the trail', () => {
  it('the run: who requested it, when, the outcome and the plan with its hash', () => {
    const declared = byKey('run:declared')!;
    const end = byKey('run:end')!;
    expect(pack).toMatchObject({ format: 'lyncdr-evidence', v: 1, generatedBy: 'lyncdr audit evidence' });
    expect(pack.run).toMatchObject({
      runId: id, runbook: 'site-failover', mode: 'drill', title: status.title, requestedBy: 'operator1', declaredAt: declared.at,
      outcome: 'succeeded', endedAt: end.at, options: { failedSite: 'East' },
    });
    expect(pack.run.configuration).toEqual(byKey('run:config')!.data);
    expect(pack.run.steps).toEqual(Object.fromEntries(status.order.map((s: string) => [s, status.steps[s].state])));
    expect(pack.plan?.hash).toBe(status.planHash);
    expect(pack.plan?.steps.map((s) => s.id)).toEqual(status.order);
    const planned = (byKey('plan')!.data as any).plan;
    expect(pack.plan?.targets).toEqual(planned.targets);
    expect(pack.plan?.steps.find((s) => s.id === EDGE)).toMatchObject({ kind: 'command', effect: 'idempotent', site: 'west', rendered: planned.steps.find((s: any) => s.id === EDGE).rendered });
    expect(pack.plan?.steps.find((s) => s.id === MANUAL)).toMatchObject({ kind: 'manual', instructions: expect.stringContaining('_sipinternaltls._tcp') });
  });

  it('every vote with identity, time and channel; the refused self-approval; the decision', () => {
    const votes = trail.filter((e) => e.kind === 'vote');
    expect(votes).toHaveLength(3);
    expect(pack.approvals).toHaveLength(1);
    const g = pack.approvals[0];
    const asked = byKey('gate:declare-disaster:requested')!;
    expect(g).toMatchObject({ gate: 'declare-disaster', policy: 'declare-disaster', required: 2, requestedAt: asked.at, requestedBy: asked.actor, planHash: status.planHash });
    expect(g.votes).toEqual(votes.map((v) => {
      const d = v.data as any;
      return { seq: v.seq, at: d.at, approver: d.approver, decision: 'approve', channel: d.channel, outcome: d.outcome, planHash: d.planHash, ...(d.comment ? { comment: d.comment } : {}) };
    }));
    expect(g.votes.map((v) => [v.approver, v.outcome])).toEqual([['operator1', 'refused'], ['carol', 'accepted'], ['alice', 'accepted']]);
    expect(g.votes.every((v) => typeof v.channel === 'string' && v.channel.length > 0)).toBe(true);
    expect(g.votes[1].comment).toBe('plan read');
    const decided = byKey('gate:declare-disaster:decided')!;
    expect(g.decision).toEqual({ status: 'approved', at: (decided.data as any).decidedAt, approvers: ['carol', 'alice'], rejectors: [] });
  });

  it('every command with its result: three failed attempts of the Edge step, then the one after the decision', () => {
    const dispatched = trail.filter((e) => e.kind === 'step-dispatched');
    expect(pack.commands.map((c) => [c.seq, c.commandId])).toEqual(dispatched.map((e) => [e.seq, (e.data as any).commandId]));
    for (const c of pack.commands) {
      const sent = trail.find((e) => e.kind === 'step-dispatched' && (e.data as any).commandId === c.commandId)!;
      const answer = trail.find((e) => e.kind === 'step-result' && (e.data as any).commandId === c.commandId)!;
      expect(c, c.commandId).toMatchObject({ dispatchedAt: sent.at, site: (sent.data as any).site, outcome: (answer.data as any).status, answeredBy: answer.actor, answeredAt: (answer.data as any).finishedAt });
    }
    const edge = pack.commands.filter((c) => c.stepId === EDGE);
    expect(edge.map((c) => [c.attempt, c.outcome])).toEqual([[1, 'failed'], [2, 'failed'], [3, 'failed'], [4, 'succeeded']]);
    expect(edge[0].error).toMatch(/Injected fault: edge\.setNextHop failed/);
    expect(edge[3].rendered).toMatch(/^Set-CsEdgeServer -Identity 'EdgeServer:edgepool1\.contoso\.com' -Registrar 'Registrar:eepool2\.contoso\.com'/);
    // A precheck is a command of its own, and its verdict is the main command's precondition.
    const fo = pack.commands.find((c) => c.stepId === 'pool-failover-eepool1' && c.attempt === 1)!;
    expect(fo.precondition).toMatchObject({ ok: true });
    expect(pack.commands.some((c) => c.stepId === 'pool-failover-eepool1.precheck')).toBe(true);
    const verified = trail.find((e) => e.key === `step:read-pairing-eepool1:attempt:1:verified`)!;
    expect(pack.commands.find((c) => c.stepId === 'read-pairing-eepool1')!.postcondition).toEqual({ ok: true, description: (verified.data as any).description, results: (verified.data as any).results });
  });

  it('the manual confirmation (who, what, the check) and the operator decision', () => {
    const c = byKey(`step:${MANUAL}:confirmation:1:confirmed`)!;
    expect(pack.confirmations).toEqual([{ seq: c.seq, at: c.at, stepId: MANUAL, by: 'bob', channel: (c.data as any).channel, comment: HOSTILE, instructions: (c.data as any).instructions, check: { ok: true } }]);
    const d = byKey(`step:${EDGE}:attempt:3:decision`)!;
    expect(pack.decisions).toEqual([{ seq: d.seq, at: d.at, by: 'operator2', decision: 'retry', stepId: EDGE, attempt: 3, finding: expect.stringMatching(/Injected fault/) }]);
  });

  it('RTO and RPO against the targets, and the deviations', () => {
    const m = byKey('run:rto-rpo')!.data as any;
    expect(pack.measures.rto).toMatchObject({ minutes: status.rto.minutes, targetMinutes: m.rto.targetMinutes, met: m.rto.met, from: m.rto.from, to: m.rto.to });
    expect(pack.measures.rpo).toMatchObject({ minutes: status.rpo.minutes, targetMinutes: m.rpo.targetMinutes, met: m.rpo.met });
    expect(pack.measures.targetsSource).toBe(m.targetsSource);
    const kinds = pack.deviations.map((x) => `${x.kind}${x.stepId ? ` ${x.stepId}` : ''}`);
    expect(kinds).toEqual(['vote-refused declare-disaster', `command-failed ${EDGE}`, `command-failed ${EDGE}`, `command-failed ${EDGE}`, `decision-retry ${EDGE}`]);
  });

  it('the timeline is the trail; the verification is the one verify gives; the trail rides along', async () => {
    expect(pack.timeline.map((t) => [t.seq, t.at, t.kind, t.actor])).toEqual(trail.map((e) => [e.seq, e.at, e.kind, e.actor]));
    const verified = await env.trail.verify(id);
    expect(pack.verification).toEqual(verified);
    expect(pack.verification).toMatchObject({ ok: true, entries: trail.length, anchor: { ended: true, last: { seq: trail.length } } });
    expect(pack.trail.rows).toHaveLength(2 * trail.length + 1); // entries, key index rows and the head
    expect(pack.trail.anchor?.split('\n').filter(Boolean).length).toBe(verified.anchor!.lines);
  });
});

describe('audit verify --file: offline', () => {
  const copy = (name: string, edit: (p: any) => void) => {
    const p = JSON.parse(readFileSync(path.join(out, 'evidence.json'), 'utf8'));
    edit(p);
    const file = path.join(out, `${name}.json`);
    writeFileSync(file, JSON.stringify(p));
    return file;
  };
  const check = async (file: string) => {
    const r = await lyncdr(['audit', 'verify', '--file', file, '--json'], offlineEnv());
    if (r.code === 2 && !/not a lyncdr evidence pack/.test(r.stderr)) throw new Error(`could not check ${file}: ${r.stderr}`);
    return { code: r.code, report: r.code === 2 ? undefined : JSON.parse(r.stdout), stderr: r.stderr };
  };
  const rowOf = (p: any, seq: number) => p.trail.rows.find((r: any) => r.rowKey === String(seq).padStart(10, '0'));

  it('an untouched pack is intact with no storage reachable', async () => {
    const r = await lyncdr(['audit', 'verify', '--file', path.join(out, 'evidence.json')], offlineEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^run ${id}: INTACT: ${trail.length} entries`));
    expect(r.stdout).toMatch(new RegExp(`anchor: \\d+ line\\(s\\), up to entry ${trail.length} \\(run-completed`));
  });

  it('an edited section: a vote\'s channel', async () => {
    const r = await check(copy('section', (p) => { p.approvals[0].votes[1].channel = 'teams'; }));
    expect(r.code).toBe(1);
    expect(r.report.problems).toEqual([expect.objectContaining({ type: 'altered', rowKey: 'evidence', message: expect.stringMatching(/^the pack's approvals section is not what its trail says \(first difference at \[0\]\.votes\[1\]\.channel\)/) })]);
  });

  it('an edited entry of the trail', async () => {
    const vote = trail.find((e) => e.kind === 'vote' && (e.data as any).approver === 'carol')!;
    const r = await check(copy('entry', (p) => {
      const row = rowOf(p, vote.seq);
      row.data = row.data.replace('"comment":"plan read"', '"comment":"plan not read"');
      p.approvals[0].votes[1].comment = 'plan not read';
    }));
    expect(r.code).toBe(1);
    expect(r.report.problems).toContainEqual(expect.objectContaining({ type: 'altered', seq: vote.seq, message: expect.stringMatching(/does not match its hash/) }));
  });

  it('a deleted entry, an inserted row, and a tail cut with the head rewritten', async () => {
    const del = await check(copy('deleted', (p) => { p.trail.rows = p.trail.rows.filter((r: any) => r.rowKey !== rowOf(p, 40).rowKey); }));
    expect(del.code).toBe(1);
    expect(del.report.problems).toContainEqual(expect.objectContaining({ type: 'deleted', seq: 40 }));

    const ins = await check(copy('inserted', (p) => { p.trail.rows.push({ ...rowOf(p, 5), partitionKey: 'another-run' }); }));
    expect(ins.code).toBe(1);
    expect(ins.report.problems).toContainEqual(expect.objectContaining({ type: 'inserted', message: expect.stringMatching(/belongs to partition another-run/) }));

    const keep = trail.length - 10;
    const cut = await check(copy('cut', (p) => {
      const kept = trail.slice(0, keep);
      p.trail.rows = p.trail.rows.filter((r: any) => (/^\d{10}$/.test(r.rowKey) ? Number(r.rowKey) <= keep : r.rowKey === 'head' || kept.some((e) => `key:${e.key}` === r.rowKey)));
      const head = p.trail.rows.find((r: any) => r.rowKey === 'head');
      head.count = keep;
      head.lastHash = kept.at(-1)!.hash;
    }));
    expect(cut.code).toBe(1);
    expect(cut.report.problems).toContainEqual(expect.objectContaining({ type: 'deleted', seq: keep + 1, message: expect.stringMatching(new RegExp(`^entries ${keep + 1} to ${trail.length} are missing`)) }));
  });

  it('the whole trail removed, the verification section edited, and a file that is not a pack', async () => {
    const gone = await check(copy('gone', (p) => { p.trail.rows = []; }));
    expect(gone.code).toBe(1);
    expect(gone.report.problems).toContainEqual(expect.objectContaining({ type: 'deleted', message: expect.stringMatching(/^the run's whole trail is gone from the table/) }));

    const claimed = await check(copy('claimed', (p) => { p.verification.entries = 1; }));
    expect(claimed.code).toBe(1);
    expect(claimed.report.problems).toEqual([expect.objectContaining({ rowKey: 'evidence', message: expect.stringMatching(/^the pack's verification section says intact, and the checks find the trail intact \(first difference at entries\)/) })]);

    const junk = await check(copy('junk', (p) => { delete p.trail; }));
    expect(junk.code).toBe(2);
    expect(junk.stderr).toMatch(/not a lyncdr evidence pack/);
  });
});

describe('audit report over a period', () => {
  it('per runbook: the last drill, RTO/RPO against targets, a failure and the run that resolved it, the runbooks not tested', async () => {
    const since = new Date(Date.parse(trail[0].at) - 1000).toISOString();
    // A readiness drill whose reads fail until an operator aborts it; then one that succeeds.
    await env.sim.reset();
    await env.sim.faults.add({ command: 'pool.backupRelationship', kind: 'fail', remaining: 100 });
    const failed = await env.start('operator1', 'readiness', { retryIntervalMs: 10 });
    const waiting = await env.waitFor(failed, (r) => finished(r) || Object.values<any>(r?.status?.steps ?? {}).some((st) => st.state === 'waiting-decision' && st.lastError !== undefined), 60_000);
    const [step] = Object.entries<any>(waiting.status.steps).find(([, st]) => st.state === 'waiting-decision')!;
    expect((await env.call('operator2', 'POST', `runs/${failed}/steps/${step}/decision`, { decision: 'abort', comment: 'the backup service is down: ticket 4711' })).status).toBe(202);
    expect((await env.waitFor(failed, finished, 60_000)).status.phase).toBe('aborted');
    await env.sim.faults.clear();
    const ok = await env.start('operator1', 'readiness', {});
    expect((await env.waitFor(ok, finished, 90_000)).status.phase).toBe('succeeded');

    const dir = path.join(out, '..', 'period');
    const made = await lyncdr(['audit', 'report', '--since', since, '--out', dir], cliEnv());
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/: 3 run\(s\) of 2 runbook\(s\); 1 failure\(s\), \d+ gap\(s\), 0 trail\(s\) that do not verify/);
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8'));
    expect(report.runs.map((r: any) => [r.runId, r.runbook, r.outcome])).toEqual([[id, 'site-failover', 'succeeded'], [failed, 'readiness', 'aborted'], [ok, 'readiness', 'succeeded']]);
    const site = report.runbooks.find((b: any) => b.runbook === 'site-failover');
    expect(site).toMatchObject({ runs: 1, lastDrill: { runId: id, outcome: 'succeeded', rto: pack.measures.rto, rpo: pack.measures.rpo }, lastLive: null, rtoMet: 1, rtoMissed: 0, rpoMet: 1, failures: [], gaps: [] });
    expect(site.targets).toEqual({ rtoMinutes: (pack.plan!.targets as any).rtoMinutes, rpoMinutes: (pack.plan!.targets as any).rpoMinutes });
    const ready = report.runbooks.find((b: any) => b.runbook === 'readiness');
    expect(ready).toMatchObject({ runs: 2, lastDrill: { runId: ok, outcome: 'succeeded' }, gaps: [] });
    expect(ready.failures).toEqual([{
      run: expect.objectContaining({ runId: failed, outcome: 'aborted' }),
      decisions: [expect.stringMatching(new RegExp(` operator2: abort ${step}$`))],
      resolvedBy: { runId: ok, mode: 'drill', endedAt: expect.any(String) },
    }]);
    expect(report.runbooks.find((b: any) => b.runbook === 'pchat-backup')).toMatchObject({ runs: 0, lastDrill: null, gaps: [expect.stringMatching(/^not tested between /)] });
    expect(report.tampered).toEqual([]);

    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`file://${path.join(dir, 'report.html')}`);
      expect(await page.textContent('#verdict')).toBe('Every trail verifies');
      const cells = await page.$$eval('tr[data-runbook="readiness"] td', (tds) => tds.map((td) => td.textContent));
      expect(cells.slice(0, 2)).toEqual(['readiness', '2']);
      expect(cells[7]).toBe('1');
      const failure = await page.$$eval('table.failures tbody td', (tds) => tds.map((td) => td.textContent));
      expect(failure.slice(0, 2)).toEqual(['readiness', failed]);
      expect(failure[6]).toMatch(new RegExp(`^${ok} \\(drill, ended `));
    } finally {
      await browser.close();
    }

    // After every run: none in the period. Bad dates and an empty period are refused, nothing written.
    const later = await lyncdr(['audit', 'report', '--since', new Date(Date.now() + 60_000).toISOString(), '--until', new Date(Date.now() + 120_000).toISOString(), '--out', path.join(dir, 'later')], cliEnv());
    expect(later.code, later.stderr).toBe(0);
    expect(later.stdout).toMatch(/: 0 run\(s\) of 0 runbook\(s\)/);
    const bad = await lyncdr(['audit', 'report', '--since', 'last tuesday', '--out', path.join(dir, 'bad')], cliEnv());
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/--since "last tuesday": give an ISO date/)]);
    const backwards = await lyncdr(['audit', 'report', '--since', '2026-06-01', '--until', '2026-01-01', '--out', path.join(dir, 'bad')], cliEnv());
    expect([backwards.code, backwards.stderr]).toEqual([2, expect.stringMatching(/--until 2026-01-01T00:00:00.000Z is not after --since 2026-06-01/)]);
    expect(existsSync(path.join(dir, 'bad'))).toBe(false);
  }, 240_000);
});

describe('report.html in a real browser', () => {
  it('self-contained and printable: the summary, the votes, the confirmation (its markup shown as text), the measures', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const file = `file://${path.join(out, 'report.html')}`;
      await page.goto(file);
      expect(requests).toEqual([file]);
      expect(await page.title()).toBe(`Evidence: site-failover ${id}`);
      expect(await page.textContent('#verdict')).toBe('Audit trail INTACT');
      expect(await page.textContent('[data-field="requested-by"]')).toBe('operator1');
      expect(await page.textContent('[data-field="plan-hash"]')).toBe(status.planHash);
      const votes = await page.$$eval('table.votes tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
      expect(votes).toEqual(pack.approvals[0].votes.map((v) => [v.approver, v.decision, v.channel, v.at, v.planHash, v.outcome, v.comment ?? '']));
      const conf = await page.$$eval('table.confirmations tbody td', (tds) => tds.map((td) => td.textContent));
      expect(conf.slice(0, 6)).toEqual([pack.confirmations[0].at, MANUAL, 'bob', pack.confirmations[0].channel, HOSTILE, 'held']);
      // The comment is markup typed by a person: shown, never run or loaded.
      expect(await page.$$eval('img, script, iframe, object', (els) => els.length)).toBe(0);
      const rto = await page.$$eval('table.measures tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent)));
      expect(rto).toEqual([
        ['RTO', `${status.rto.minutes} min`, `${pack.measures.rto!.targetMinutes} min`, 'met'],
        ['RPO', `${status.rpo.minutes} min`, `${pack.measures.rpo!.targetMinutes} min`, 'met'],
      ]);
      expect(await page.$$eval('ul.deviations li', (li) => li.length)).toBe(pack.deviations.length);
      expect(await page.$$eval('table.commands tbody tr', (tr) => tr.length)).toBe(pack.commands.length);
      expect(await page.$$eval('table.timeline tbody tr', (tr) => tr.length)).toBe(trail.length);
      const pdf = await page.pdf({ format: 'A4' });
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      expect(await page.title()).not.toBe('pwned');
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('a pack of a tampered trail: exit 1, both files written, the page says TAMPERED and where', async () => {
    const vote = trail.find((e) => e.kind === 'vote' && (e.data as any).approver === 'alice')!;
    const table = TableClient.fromConnectionString(azurite(), env.values.LYNCDR_AUDIT_TABLE, { allowInsecureConnection: true });
    const row = await table.getEntity<Record<string, unknown>>(id, String(vote.seq).padStart(10, '0'));
    await table.updateEntity({ partitionKey: id, rowKey: row.rowKey!, data: String(row.data).replace('"channel":"', '"channel":"x') }, 'Merge');
    const dir = path.join(out, '..', 'tampered');
    const made = await lyncdr(['audit', 'evidence', id, '--out', dir], cliEnv());
    expect(made.code, made.stderr).toBe(1);
    expect(made.stdout).toMatch(/TAMPERED \(1 problem\(s\)\)/);
    const again = await lyncdr(['audit', 'evidence', id, '--out', dir], cliEnv());
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/evidence\.json exists: choose another --out folder, or --force/);
    const offline = await lyncdr(['audit', 'verify', '--file', path.join(dir, 'evidence.json')], offlineEnv());
    expect(offline.code).toBe(1);
    expect(offline.stdout).toMatch(new RegExp(`seq ${vote.seq}\\s+altered`));
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`file://${path.join(dir, 'report.html')}`);
      expect(await page.textContent('#verdict')).toBe('Audit trail TAMPERED');
      const problems = await page.$$eval('table.problems tbody tr', (rows) => rows.map((r) => r.textContent));
      expect(problems).toEqual([expect.stringMatching(new RegExp(`^entry ${vote.seq}altered`))]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
