// `npm start` brings the Teams stand-in up with the stack and the app trusts it; `lyncdr lab teams`
// writes to the bot, lists the cards in the team channel and presses a button as someone.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/azurite.js';
import { lyncdr } from '../support/cli.js';
import { ROOT } from '../support/host.js';
import { spawnStack } from '../support/stack-process.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-teams-start-'));
let child: ChildProcess | undefined;
let out = '';
let url = '';
const cliEnv = () => ({ ...process.env, LYNCDR_DATA_DIR: dataDir, LYNCDR_URL: url });

beforeAll(async () => {
  const ports = { AZURITE_BLOB_PORT: String(await freePort()), AZURITE_QUEUE_PORT: String(await freePort()), AZURITE_TABLE_PORT: String(await freePort()), LYNCDR_HTTP_PORT: String(await freePort()) };
  url = `http://127.0.0.1:${ports.LYNCDR_HTTP_PORT}`;
  child = spawnStack(process.execPath, [path.join(ROOT, 'dist/local/start.js')], {
    cwd: ROOT, env: { ...process.env, ...ports, LYNCDR_DATA_DIR: dataDir, LYNCDR_LOCAL_SETTINGS: path.join(dataDir, 'local.settings.json'), AzureWebJobsStorage: '', LYNCDR_TASK_HUB: `TeamsCli${Date.now().toString(36)}` }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => { out += String(d); });
  child.stderr!.on('data', (d) => { out += String(d); });
  const deadline = Date.now() + 90_000;
  while (!/Ready\. Ctrl-C stops everything\./.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm start did not get ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 150_000);
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGINT');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('lyncdr lab teams over npm start', () => {
  it('the stand-in is up and the bot installed; say, cards and click (Declare) work as someone', async () => {
    expect(out).toMatch(/Teams stand-in: http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain('Teams: the bot is installed in 19:lyncdr-drills@thread.tacv2');

    const said = await lyncdr(['lab', 'teams', 'say', 'plan', 'readiness', '--as', 'bob'], cliEnv());
    expect(said.stderr).toBe('');
    expect(said.stdout).toContain('# What-if: ');
    expect(said.stdout).toContain('[Declare: declare]');

    const cards = await lyncdr(['lab', 'teams', 'cards'], cliEnv());
    expect(cards.stdout).toMatch(/posted 1, updated 0, a reply/);

    // local.settings.example.json's LYNCDR_OPERATORS: bob approves, only operators start runs.
    const refused = await lyncdr(['lab', 'teams', 'click', '-', 'declare', '--as', 'bob'], cliEnv());
    expect(refused.stdout).toContain('bob may not start a run: only operators may');
    const declared = await lyncdr(['lab', 'teams', 'click', '-', 'declare', '--as', 'operator'], cliEnv());
    expect(declared.stdout).toContain('# Run started');
    const runId = /(run-[0-9a-z]+-[0-9a-f]{6})/.exec(declared.stdout)![1];
    const run = await (await fetch(`${url}/api/runs/${runId}`, { headers: { 'x-lyncdr-user': 'bob' } })).json();
    expect(run).toMatchObject({ runId, status: { runbook: 'readiness', requestedBy: 'operator' } });

    const none = await lyncdr(['lab', 'teams', 'click', runId, 'approve', '--as', 'alice'], cliEnv());
    expect(none.stdout).toContain(`no card of run ${runId} has a approve button`);
    expect(none.code).toBe(1);
  }, 120_000);
});
