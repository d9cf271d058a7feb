// kill -9 of the host between the SMTP server taking a gate mail and the sender recording it:
// the host runs the app as a child process, the SMTP sink (in this process) kills it on the first
// mail of the run before answering. After the restart the notify activity runs again: the mail
// that was taken is sent again with the same Message-ID and the same links (at least once, by
// design: functions/channels/email/sender.ts), every other one once; the approvers then approve
// through their links and the run ends.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickLink } from '../../local/mail-click.js';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../../local/smtp-sink.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { kill9, spawnHost, type HostProcess } from '../support/host-process.js';
import { finished, runsClient, runsSettings, startSimWorkers, stepState, type SimWorkers } from '../runs/support.js';
import { EMAIL_APP, emailSettings, linkOf, mailsFor, waitForMail } from './support.js';

describe('kill -9 of the host while it mails a gate', () => {
  const prefix = uniqueName('m').toLowerCase().slice(0, 12);
  const hub = uniqueName('MailCrash');
  let dir: string;
  let workers: SimWorkers;
  let sink: SmtpSink;
  let host: HostProcess | undefined;
  let killed: SinkMessage | undefined;
  let killOnFirstMail = false;
  const api = runsClient(() => host!.url);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-mailcrash-'));
    workers = await startSimWorkers({ prefix, dir });
    sink = await startSmtpSink({
      dir: path.join(dir, 'mail'),
      onMessage: async (m) => {
        if (!killOnFirstMail || killed || !/^gate:/.test(m.key ?? '')) return;
        killed = m;
        await kill9(host!);
      },
    });
  }, 60_000);
  afterAll(async () => {
    await host?.stop();
    await workers?.stop();
    await sink?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the mail taken before the crash is sent again identically, the others once, and the run goes on through the links', async () => {
    // The links point at a public URL that stays the same across the restart (as an app's does in Azure).
    const settings = { ...runsSettings(prefix), ...emailSettings(sink.port, 'http://public.invalid') };
    host = await spawnHost({ hub, entry: EMAIL_APP, connectionString: azurite(), env: settings, triggers: true });
    killOnFirstMail = true;
    const id = await api.start('operator1', 'readiness', { fixture: 'email-flow', tag: 'crash' });
    await waitForMail(sink, () => killed !== undefined);
    await new Promise<void>((r) => { if (host!.child.exitCode !== null || host!.child.signalCode) r(); else host!.child.once('exit', () => r()); });
    host = await spawnHost({ hub, entry: EMAIL_APP, connectionString: azurite(), env: settings, triggers: true });
    expect(host.resumed).toBeGreaterThan(0);

    const invites = mailsFor(await waitForMail(sink, (all) => new Set(mailsFor(all, id, /^gate:declare:invite/).flatMap((m) => m.to)).size === 3 && mailsFor(all, id, /^gate:declare:invite/).length >= 4, 60_000), id, /^gate:declare:invite/);
    const byTo = new Map<string, SinkMessage[]>();
    for (const m of invites) byTo.set(m.to[0], [...(byTo.get(m.to[0]) ?? []), m]);
    // The one taken at the crash came twice, identically; every other approver got one mail.
    expect(byTo.get(killed!.to[0])).toHaveLength(2);
    const [first, again] = byTo.get(killed!.to[0])!;
    expect(again.messageId).toBe(first.messageId);
    expect(again.links).toEqual(first.links);
    expect([...byTo].filter(([to]) => to !== killed!.to[0]).map(([, ms]) => ms.length)).toEqual([1, 1]);

    await api.waitFor(id, stepState('declare', 'waiting-approval'), 30_000);
    const here = (url: string) => url.replace('http://public.invalid', host!.url);
    // The approver whose mail came twice is one of the two who approve.
    const approvers = [killed!.to[0], ...[...byTo.keys()].filter((to) => to !== killed!.to[0])].slice(0, 2);
    for (const to of approvers) {
      const r = await clickLink(here(linkOf(byTo.get(to)![0], 'approve')), {});
      expect(r.status, r.text).toBe(200);
    }
    // The duplicate's link is the same link, used already.
    expect((await clickLink(here(linkOf(again, 'approve')), {})).status).toBe(410);
    await api.waitFor(id, stepState('do-by-hand', 'waiting-confirmation'), 30_000);
    expect((await api.call('operator1', 'POST', `runs/${id}/steps/do-by-hand/confirm`, {})).status).toBe(202);
    expect((await api.waitFor(id, finished, 60_000)).status.phase).toBe('succeeded');
    expect(sink.messages().filter((m) => m.run === id && m.key === 'gate:declare:invite:primary')).toHaveLength(4);
  }, 180_000);
});
