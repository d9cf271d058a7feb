// `npm run drill` as a real process: the whole approval-gated site failover on a fresh simulated
// estate, through Azurite, the host and two worker processes, on free loopback ports.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/azurite.js';
import { ROOT } from '../support/host.js';
import { spawnStack } from '../support/stack-process.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-drill-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Runs the drill as a process with these arguments, on free ports. */
async function drill(args: string[]): Promise<{ out: string; code: number | null }> {
  const env = {
    // Its own settings file (made from the example, as on a fresh checkout), never the checkout's.
    ...process.env, LYNCDR_DATA_DIR: dataDir, LYNCDR_LOCAL_SETTINGS: path.join(dataDir, 'local.settings.json'), AzureWebJobsStorage: '', LYNCDR_TASK_HUB: '',
    AZURITE_BLOB_PORT: String(await freePort()), AZURITE_QUEUE_PORT: String(await freePort()), AZURITE_TABLE_PORT: String(await freePort()), LYNCDR_HTTP_PORT: String(await freePort()),
  };
  delete (env as Record<string, string | undefined>).LYNCDR_TASK_HUB;
  const child = spawnStack(process.execPath, [path.join(ROOT, 'dist/local/drill.js'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += String(d); });
  child.stderr!.on('data', (d) => { out += String(d); });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { out, code };
}

describe('npm run drill', () => {
  it('runs an approval-gated site failover end to end and proves it in the audit trail', async () => {
    const { out, code } = await drill([]);
    expect(out).toMatch(/disaster: .*east/i);
    expect(out).toMatch(/alice approves sha256:.*accepted/);
    expect(out).toMatch(/bob approves sha256:.*accepted/);
    expect(out).toMatch(/succeeded\s+pool-failover-eepool1/);
    expect(out).toMatch(/succeeded\s+pchat-set-failed-over/);
    expect(out).toMatch(/run run-[\w-]+: succeeded/);
    expect(out).toMatch(/RTO [\d.]+ min/);
    expect(out).toMatch(/audit trail: \d+ entries, intact/);
    expect(code, out).toBe(0);
  }, 180_000);

  it('--channel teams: the operator declares in Teams, the approvers approve and the operator confirms through signed card actions', async () => {
    const { out, code } = await drill(['--channel', 'teams']);
    expect(out).toMatch(/operator started site-failover .* -> run run-/);
    expect(out).toMatch(/alice approves sha256:.*Your (vote|approval) counted/);
    expect(out).toMatch(/bob approves sha256:.*Your (vote|approval) counted/);
    expect(out).toMatch(/operator confirms [\w-]+: Confirmed/);
    expect(out).toMatch(/run run-[\w-]+: succeeded/);
    expect(out).toMatch(/audit trail: \d+ entries, intact/);
    expect(code, out).toBe(0);
  }, 180_000);
  it('--channel email: every approval and confirmation goes through the mailed links, each mail printed, and the trail says so', async () => {
    const { out, code } = await drill(['--channel', 'email']);
    expect(out).toMatch(/Mail: SMTP sink on 127\.0\.0\.1:\d+/);
    expect(out).toMatch(/mail \d+ to alice@lyncdr\.local: \[lyncdr\] Approval needed: Declare a disaster for site East/);
    expect(out).toMatch(/alice approves sha256:.*alice follows its approve link \(page, then form\): HTTP 200 Recorded/);
    expect(out).toMatch(/bob approves sha256:.*bob follows its approve link \(page, then form\): HTTP 200 Recorded/);
    expect(out).toMatch(/mail \d+ to operator@lyncdr\.local: \[lyncdr\] Manual step waiting/);
    expect(out).toMatch(/operator confirms [\w-]+: operator follows its confirm link \(page, then form\): HTTP 200 Recorded/);
    expect(out).toMatch(/channel: 3 votes, confirmations and decisions, every one by e-mail/);
    expect(out).toMatch(/run run-[\w-]+: succeeded/);
    expect(out).toMatch(/audit trail: \d+ entries, intact/);
    expect(code, out).toBe(0);
  }, 180_000);
});
