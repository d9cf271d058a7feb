// The CLI in Azure: App Service Authentication takes an Entra access token, so every command sends
// --token / LYNCDR_TOKEN as a bearer token. Checked against a loopback server that records what it
// receives, with the CLI as a child process.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

async function withServer(fn: (url: string, seen: http.IncomingHttpHeaders[]) => Promise<void>): Promise<void> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => { seen.push(req.headers); res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"runs":[]}'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
  } finally {
    await new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  }
}

const lyncdr = (args: string[], env: NodeJS.ProcessEnv) => new Promise<number | null>((resolve) => {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/lyncdr.js'), ...args], { env: { PATH: process.env.PATH, ...env }, stdio: 'ignore' });
  child.on('exit', resolve);
});

describe('lyncdr with an Entra token', () => {
  it('sends LYNCDR_TOKEN as a bearer token, --token overrides it, and no dev identity unless asked', async () => {
    await withServer(async (url, seen) => {
      expect(await lyncdr(['runs', '--url', url], { LYNCDR_TOKEN: 'from-env' })).toBe(0);
      expect(await lyncdr(['runs', '--url', url, '--token', 'from-flag'], { LYNCDR_TOKEN: 'from-env' })).toBe(0);
      expect(await lyncdr(['runs', '--url', url, '--as', 'alice'], {})).toBe(0);
      expect(seen.map((h) => [h.authorization, h['x-lyncdr-user']])).toEqual([
        ['Bearer from-env', undefined], ['Bearer from-flag', undefined], [undefined, 'alice'],
      ]);
    });
  });
});
