#!/usr/bin/env node
// Runs the local Functions host as a process: `node dist/local/host-main.js [--entry F] [--root D]
// [--settings FILE] [--port N] [--hub NAME]`. npm start and the crash tests start it this way.
import path from 'node:path';
import { Command } from 'commander';
import { startHost } from './host.js';
import { readLocalSettings } from './settings.js';

const program = new Command('lyncdr-host')
  .option('--entry <file>', 'the app entry module', 'dist/functions/index.js')
  .option('--root <dir>', 'folder with host.json and local.settings.json', '.')
  .option('--settings <file>', 'the local.settings.json to read (default: the one in --root)')
  .option('--port <n>', 'HTTP port on 127.0.0.1 (0: any free port)', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be 0..65535, not '${v}'`);
    return n;
  })
  .option('--hub <name>', 'task hub name (overrides host.json)')
  .option('--no-triggers', 'do not run timer and queue triggers')
  .parse();
const o = program.opts<{ entry: string; root: string; settings?: string; port?: number; hub?: string; triggers: boolean }>();

try {
  const settings = o.settings ? readLocalSettings(path.resolve(o.settings)) : undefined;
  const host = await startHost({ entry: path.resolve(o.entry), root: path.resolve(o.root), settings, port: o.port, hubName: o.hub, triggers: o.triggers });
  const names = [...host.registry.functions.values()].map((f) => `${f.name} [${f.trigger.type}]`);
  // One machine-readable line first: supervisors and tests wait for it.
  console.log(JSON.stringify({ event: 'listening', url: host.url, port: host.port, hub: host.hubName, resumed: host.resumed, functions: names.length }));
  if (!process.env.LYNCDR_QUIET) {
    console.log(`Functions host on ${host.url} (task hub ${host.hubName}; ${host.resumed} running instance(s) resumed)`);
    for (const n of names) console.log(`  ${n}`);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`host: ${signal}, stopping`);
    await host.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (err) {
  console.error(`host: ${(err as Error).message}`);
  process.exit(1);
}
