#!/usr/bin/env node
// `npm start`: the whole local stack on loopback. Azurite (data in .data/azurite), the Functions
// host with the app from dist/functions/index.js, and one hybrid worker per site of the
// configured estate on the simulated Lync estate. Ctrl-C stops everything cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAzurite } from './azurite.js';
import { applyValues, readLocalSettings } from './settings.js';
import { loadTopologyFile } from '../shared/topology/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const log = (m: string) => console.log(`[lyncdr] ${m}`);

function portFromEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number, not '${v}'`);
  return n;
}

function run(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (line: string) => (line.trim() ? `[${name}] ${line}\n` : '');
  child.stdout!.on('data', (d) => process.stdout.write(String(d).split('\n').map(prefix).join('')));
  child.stderr!.on('data', (d) => process.stderr.write(String(d).split('\n').map(prefix).join('')));
  return child;
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no '${pattern}' within ${timeoutMs} ms`)), timeoutMs);
    child.stdout!.on('data', (d) => {
      buf += String(d);
      const m = buf.split('\n').find((l) => pattern.test(l));
      if (m) { clearTimeout(timer); resolve(m); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with code ${code}`)); });
  });
}

async function main(): Promise<void> {
  const settingsFile = path.join(root, 'local.settings.json');
  if (!existsSync(settingsFile)) {
    copyFileSync(path.join(root, 'local.settings.example.json'), settingsFile);
    log('created local.settings.json from local.settings.example.json');
  }
  const settings = readLocalSettings(settingsFile);
  applyValues(settings);

  const dataDir = path.resolve(root, process.env.LYNCDR_DATA_DIR ?? '.data');
  const azurite = await startAzurite({
    location: path.join(dataDir, 'azurite'),
    ports: { blob: portFromEnv('AZURITE_BLOB_PORT', 10000), queue: portFromEnv('AZURITE_QUEUE_PORT', 10001), table: portFromEnv('AZURITE_TABLE_PORT', 10002) },
  });
  log(`Azurite: blob 127.0.0.1:${azurite.ports.blob}, queue :${azurite.ports.queue}, table :${azurite.ports.table} (data in ${path.relative(root, dataDir) || '.'}/azurite)`);
  const env = { ...process.env, AzureWebJobsStorage: azurite.connectionString, LYNCDR_QUIET: '1' };

  const children: Array<{ name: string; child: ChildProcess }> = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping...');
    await Promise.all(children.map(({ child }) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    })));
    await azurite.stop();
    log('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  const port = portFromEnv('LYNCDR_HTTP_PORT', settings.Host.LocalHttpPort ?? 7071);
  const host = run('host', [path.join(root, 'dist/local/host-main.js'), '--root', root, '--port', String(port)], env);
  children.push({ name: 'host', child: host });
  host.once('exit', (code) => { if (!stopping) { log(`the host exited (code ${code})`); void stopAll(1); } });
  const line = await waitForLine(host, /"event":"listening"/, 60_000);
  const listening = JSON.parse(line.slice(line.indexOf('{'))) as { url: string; hub: string; functions: number; resumed: number };

  const topologyFile = path.resolve(root, process.env.LYNCDR_TOPOLOGY ?? 'examples/estate.sample.yaml');
  const topology = await loadTopologyFile(topologyFile);
  if (!topology.ok) {
    for (const p of topology.problems) console.error(`  ${p.path}: ${p.message}`);
    throw new Error(`${topologyFile} is not a valid estate (run: npx lyncdr topology validate ${topologyFile})`);
  }
  const sites = topology.topology.sites.map((s) => s.name.toLowerCase());
  for (const site of sites) {
    const w = run(`worker:${site}`, [path.join(root, 'dist/worker/main.js'), '--site', site,
      '--journal', path.join(dataDir, 'worker', site, 'journal'), '--sim-dir', path.join(dataDir, 'sim')], env);
    children.push({ name: `worker:${site}`, child: w });
    w.once('exit', (code) => { if (!stopping) log(`worker ${site} exited (code ${code})`); });
  }

  log(`Functions host: ${listening.url}/api (task hub ${listening.hub}, ${listening.functions} functions, ${listening.resumed} run(s) resumed)`);
  log(`Durable management API: ${listening.url}/runtime/webhooks/durabletask/instances`);
  log(`Workers on the simulated estate (${path.relative(root, topologyFile)}): ${sites.join(', ')}`);
  log('Ready. Ctrl-C stops everything.');
}

main().catch((err) => {
  console.error(`[lyncdr] ${(err as Error).message}`);
  process.exit(1);
});
