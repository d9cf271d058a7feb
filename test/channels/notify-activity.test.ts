// The notify activity on its own, against the real Azurite and the real local SMTP sink: each
// notification reaches each recipient once however often the activity runs (a retry, a replay
// that re-executes it), and what happens with no channel, a bad notification or a mail server
// that is down.
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidNotificationError, notifyHandler } from '../../functions/activities/notify.js';
import { configuredChannels } from '../../functions/channels/registry.js';
import { createAuditTrail } from '../../shared/audit/index.js';
import type { Notification } from '../../shared/runs/notifications.js';
import { tableClient } from '../../shared/storage/connection.js';
import { parseMail } from '../../local/mail-parse.js';
import { startSmtpSink, type SmtpSink } from '../../local/smtp-sink.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { emailSettings, waitForMail } from './support.js';

let sink: SmtpSink;
const saved = { ...process.env };
beforeAll(async () => { sink = await startSmtpSink({ dir: mkdtempSync(path.join(os.tmpdir(), 'lyncdr-mail-')) }); });
afterAll(async () => { await sink?.stop(); });
beforeEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved, emailSettings(sink.port, 'http://127.0.0.1:7071'), { AzureWebJobsStorage: azurite(), LYNCDR_AUDIT_TABLE: uniqueName('Audit') });
});

const at = '2026-12-01T10:00:00.000Z';
const gate = (runId: string): Notification => ({
  kind: 'gate', runId, runbook: 'site-failover', runTitle: 'Fail site East over to West', at,
  gate: {
    stepId: 'declare-disaster', title: 'Declare the disaster', reason: 'East is down', planHash: 'sha256:' + 'a'.repeat(64), requester: 'operator1',
    status: 'pending', phase: 'primary', required: 2, approvers: [], rejectors: [], eligible: ['alice', 'bob', 'carol', 'operator1'], deadline: '2026-12-01T10:30:00.000Z',
    votes: [], changes: [{ id: 'pool-failover', title: 'Invoke-CsPoolFailover <eepool1>', site: 'west' }], changesTotal: 27, rtoForecastMinutes: 112.5, rtoTargetMinutes: 240,
  },
});
const ofRun = (runId: string) => sink.messages().filter((m) => m.run === runId);

describe('notify activity', () => {
  it('run twice (a retry, a replay), a gate invitation reaches each eligible approver once, never the requester', async () => {
    const runId = uniqueName('run');
    expect(await notifyHandler(gate(runId))).toEqual({ channels: ['email'] });
    await notifyHandler(gate(runId));
    const mails = ofRun(runId);
    expect(mails.map((m) => m.to[0]).sort()).toEqual(['alice@example.test', 'bob@example.test', 'carol@example.test']);
    // A vote changes the gate (a new notification key) but mails nobody; an escalation invites again.
    await notifyHandler({ ...gate(runId), gate: { ...(gate(runId) as any).gate, approvers: ['alice'], votes: [{ approver: 'alice', decision: 'approve', outcome: 'accepted', at, channel: 'email' }] } });
    expect(ofRun(runId)).toHaveLength(3);
    const escalated = { ...gate(runId), gate: { ...(gate(runId) as any).gate, phase: 'escalated', eligible: ['alice', 'bob', 'carol', 'dave', 'operator1'], approvers: ['alice'],
      votes: [{ approver: 'alice', decision: 'approve', outcome: 'accepted', at }] } } as Notification;
    await notifyHandler(escalated);
    await notifyHandler(escalated);
    expect(ofRun(runId).slice(3).map((m) => m.to[0]).sort()).toEqual(['bob@example.test', 'carol@example.test', 'dave@example.test']);
  });

  it('a mail has a text and an HTML part, escapes what the run says, and carries no script or external image', async () => {
    const runId = uniqueName('run');
    await notifyHandler(gate(runId));
    const m = ofRun(runId).find((x) => x.to[0] === 'alice@example.test')!;
    const raw = readFileSync(path.join(sink.dir, m.file), 'utf8');
    expect(raw).toMatch(/Content-Type: text\/plain/i);
    expect(raw).toMatch(/Content-Type: text\/html/i);
    const { html, text } = parseMail(raw);
    expect(html).toMatch(/<table/);
    expect(html).not.toMatch(/<script|<img|src=|<link|@import|javascript:/i);
    expect(html).toContain('Invoke-CsPoolFailover &lt;eepool1&gt;');
    expect(html).not.toContain('<eepool1>');
    expect(text).toContain('Invoke-CsPoolFailover <eepool1> [west] (pool-failover)');
    expect(text).toContain('... and 26 more');
    expect(m.subject).toBe('[lyncdr] Approval needed: Declare the disaster (Fail site East over to West)');
    expect(m.links.map((l) => l.decision)).toEqual(['approve', 'reject']);
    expect(m.messageId).toMatch(/^<lyncdr\.[0-9a-f]{40}@example\.test>$/);
  });

  it('at least once around a crash between send and record: the resend has the same Message-ID and the same links', async () => {
    const runId = uniqueName('run');
    await notifyHandler(gate(runId));
    // The crash: the SMTP server took the mails, the rows were never written.
    const log = tableClient(azurite(), process.env.LYNCDR_NOTIFICATIONS_TABLE!);
    for await (const row of log.listEntities({ queryOptions: { filter: `PartitionKey eq '${runId}'` } })) await log.deleteEntity(row.partitionKey!, row.rowKey!);
    await notifyHandler(gate(runId));
    const [first, second] = ['alice', 'alice'].map((_, i) => ofRun(runId).filter((x) => x.to[0] === 'alice@example.test')[i]);
    expect(second).toBeDefined();
    expect(second.messageId).toBe(first.messageId);
    expect(second.links).toEqual(first.links);
  });

  it('with LYNCDR_IDENTITY=easy-auth a mailed link signs the approver in first and returns to the link page; the lab still finds it', async () => {
    const runId = uniqueName('run');
    process.env.LYNCDR_IDENTITY = 'easy-auth';
    await notifyHandler(gate(runId));
    const m = ofRun(runId).find((x) => x.to[0] === 'alice@example.test')!;
    expect(m.links.map((l) => l.decision)).toEqual(['approve', 'reject']);
    for (const l of m.links) {
      const u = new URL(l.url);
      expect(`${u.origin}${u.pathname}`).toBe('http://127.0.0.1:7071/.auth/login/aad');
      const back = u.searchParams.get('post_login_redirect_uri')!;
      // A relative path: App Service accepts it without an allowed-redirects entry.
      expect(back).toMatch(/^\/api\/links\/v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    }
    delete process.env.LYNCDR_IDENTITY;
    const other = uniqueName('run');
    await notifyHandler(gate(other));
    const direct = ofRun(other).find((x) => x.to[0] === 'alice@example.test')!;
    expect(direct.links[0].url).toMatch(/^http:\/\/127\.0\.0\.1:7071\/api\/links\/v1\./);
  });

  it('the end of a run goes to the operators and to every approver the run mailed, with the trail verified', async () => {
    const runId = uniqueName('run');
    const trail = createAuditTrail({ connectionString: azurite(), tableName: process.env.LYNCDR_AUDIT_TABLE! });
    await trail.append(runId, 'run:declared', { kind: 'run-declared', actor: 'operator1', at, data: {} });
    await notifyHandler(gate(runId));
    const ended: Notification = { kind: 'run-ended', runId, runbook: 'site-failover', runTitle: 'Fail site East over to West', at, outcome: 'succeeded',
      rto: { minutes: 12.5, targetMinutes: 240, met: true, basis: 'test' } };
    await notifyHandler(ended);
    await notifyHandler(ended);
    const mails = ofRun(runId).filter((m) => m.key === 'run-ended');
    expect(mails.map((m) => m.to[0]).sort()).toEqual(['alice', 'bob', 'carol', 'operator1', 'operator2'].map((x) => `${x}@example.test`));
    const raw = readFileSync(path.join(sink.dir, mails[0].file), 'utf8');
    expect(raw).toMatch(/Audit trail: verified/);
    expect(raw).toMatch(/RTO: 12\.5 min \(target 240 min, met\)/);
  });

  it('with no channel configured it does nothing (and needs no channel settings)', async () => {
    for (const k of Object.keys(process.env)) if (/^LYNCDR_(SMTP|MAIL|LINK|CHANNELS)/.test(k)) delete process.env[k];
    const runId = uniqueName('run');
    expect(await notifyHandler(gate(runId))).toEqual({ channels: [] });
    process.env.LYNCDR_CHANNELS = '';
    expect(await notifyHandler(gate(runId))).toEqual({ channels: [] });
    expect(ofRun(runId)).toHaveLength(0);
  });

  it('a notification that does not parse throws InvalidNotificationError; so does an unknown channel name', async () => {
    await expect(notifyHandler({ kind: 'gate', runId: 'x' })).rejects.toBeInstanceOf(InvalidNotificationError);
    await expect(notifyHandler({ ...gate('r1'), runId: 'not a run id!' })).rejects.toThrow(/invalid notification: runId/);
    expect(configuredChannels({ LYNCDR_CHANNELS: 'email, teams,email' })).toEqual(['email', 'teams']);
    expect(configuredChannels({ LYNCDR_CHANNELS: '["teams"]' })).toEqual(['teams']);
    expect(() => configuredChannels({ LYNCDR_CHANNELS: 'email,pager' })).toThrow(/LYNCDR_CHANNELS/);
  });

  it('a mail server that is down fails the activity (the orchestrator retries it); the retry, once it is up, sends once', async () => {
    const closed = await new Promise<number>((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
    process.env.LYNCDR_SMTP_PORT = String(closed);
    const runId = uniqueName('run');
    await expect(notifyHandler(gate(runId))).rejects.toThrow(/ECONNREFUSED|connect/);
    expect(ofRun(runId)).toHaveLength(0);
    process.env.LYNCDR_SMTP_PORT = String(sink.port);
    await notifyHandler(gate(runId));
    await waitForMail(sink, () => ofRun(runId).length === 3);
    await notifyHandler(gate(runId));
    expect(ofRun(runId)).toHaveLength(3);
  });

  it('an identity without an address is skipped, not an error', async () => {
    process.env.LYNCDR_EMAIL_ADDRESSES = JSON.stringify({ alice: 'alice@example.test' });
    const runId = uniqueName('run');
    const n = gate(runId) as any;
    n.gate.eligible = ['alice', 'bob', 'carol.upn@contoso.com'];
    await notifyHandler(n);
    expect(ofRun(runId).map((m) => m.to[0]).sort()).toEqual(['alice@example.test', 'carol.upn@contoso.com']);
  });
});
