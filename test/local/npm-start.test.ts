// `npm start`'s supervisor as a real process: it brings Azurite, the host and the workers up on
// loopback, says where they listen, serves, and stops cleanly on SIGINT (Ctrl-C).
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/azurite.js';
import { ROOT } from '../support/host.js';
import { spawnStack } from '../support/stack-process.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function ports() {
  return { AZURITE_BLOB_PORT: String(await freePort()), AZURITE_QUEUE_PORT: String(await freePort()), AZURITE_TABLE_PORT: String(await freePort()), LYNCDR_HTTP_PORT: String(await freePort()) };
}

function start(env: Record<string, string>) {
  const child = spawnStack(process.execPath, [path.join(ROOT, 'dist/local/start.js')], {
    cwd: ROOT, env: { ...process.env, ...env, LYNCDR_DATA_DIR: dataDir, LYNCDR_LOCAL_SETTINGS: path.join(dataDir, 'local.settings.json'), AzureWebJobsStorage: '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += String(d); });
  child.stderr!.on('data', (d) => { out += String(d); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const waitFor = async (re: RegExp, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!re.test(out)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${re} in:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, exited, waitFor, output: () => out };
}

describe('npm start', () => {
  it('starts the stack on loopback, reports it, serves, and stops on Ctrl-C', async () => {
    const env = await ports();
    const s = start(env);
    await s.waitFor(/Ready\. Ctrl-C stops everything\./);
    expect(s.output()).toContain(`Functions host: http://127.0.0.1:${env.LYNCDR_HTTP_PORT}/api`);
    expect(s.output()).toContain(`table :${env.AZURITE_TABLE_PORT}`);
    expect(s.output()).toMatch(/Workers on the simulated estate .*: east, west/);
    const health = await fetch(`http://127.0.0.1:${env.LYNCDR_HTTP_PORT}/api/health`);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
    expect(s.output()).toContain('[lyncdr] stopped');
    // Nothing keeps listening afterwards.
    await expect(fetch(`http://127.0.0.1:${env.LYNCDR_HTTP_PORT}/api/health`)).rejects.toThrow();
  }, 120_000);

  it('says clearly which port is taken', async () => {
    const env = await ports();
    const blocker = net.createServer().listen(Number(env.AZURITE_QUEUE_PORT), '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const s = start(env);
      expect(await s.exited).toBe(1);
      expect(s.output()).toMatch(new RegExp(`Port ${env.AZURITE_QUEUE_PORT} \\(Azurite queue\\) on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      blocker.close();
    }
  }, 60_000);
});
