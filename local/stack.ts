// The local stack on loopback: Azurite, the Functions host (dist/functions/index.js) and one
// hybrid worker per site of the configured estate, on the simulated Lync estate. Shared by
// `npm start` (local/start.ts) and `npm run drill` (local/drill.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAzurite } from './azurite.js';
import { startTeamsStandin, type TeamsStandin } from './teams-standin.js';
import { applyValues, readLocalSettings } from './settings.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';
import { loadTopologyFile } from '../shared/topology/index.js';
import type { Topology } from '../shared/topology/index.js';
import { resultKeySetting } from '../shared/results/signature.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const log = (m: string) => console.log(`[lyncdr] ${m}`);

export interface Stack {
  url: string;
  hub: string;
  dataDir: string;
  sites: string[];
  topology: Topology;
  topologyFile: string;
  connectionString: string;
  /** The local SMTP sink the e-mail channel sends to (startStack({ mail: true })), unless LYNCDR_SMTP_HOST names a real server. */
  mail?: SmtpSink;
  /** The Teams stand-in the app trusts and posts to (absent with LYNCDR_TEAMS_STANDIN=off). */
  teams?: TeamsStandin;
  /** Resolves when a child process of the stack exits on its own (the stack is then broken). */
  broken: Promise<string>;
  stop(): Promise<void>;
}

function portFromEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number, not '${v}'`);
  return n;
}

/** Starts a child; its output goes to the terminal with a prefix, or to <logDir>/<name>.log when quiet. */
function run(name: string, args: string[], env: NodeJS.ProcessEnv, quiet: boolean, logDir: string): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (line: string) => (line.trim() ? `[${name}] ${line}\n` : '');
  if (quiet) {
    mkdirSync(logDir, { recursive: true });
    const file = createWriteStream(path.join(logDir, `${name.replace(/[^a-z0-9-]/gi, '-')}.log`), { flags: 'a' });
    child.stdout!.on('data', (d) => file.write(d));
    child.stderr!.on('data', (d) => file.write(d));
    child.once('exit', () => file.end());
  } else {
    child.stdout!.on('data', (d) => process.stdout.write(String(d).split('\n').map(prefix).join('')));
    child.stderr!.on('data', (d) => process.stderr.write(String(d).split('\n').map(prefix).join('')));
  }
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

/**
 * The local.settings.json the stack reads and gives the host: LYNCDR_LOCAL_SETTINGS (a file; the
 * tests give each stack its own, so none reads or writes the checkout's), else the checkout's.
 */
export function localSettingsFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(ROOT, env.LYNCDR_LOCAL_SETTINGS || 'local.settings.json');
}

/** Reads the local settings (created from the example on first run) into the environment. */
export function loadSettings(settingsFile = localSettingsFile()) {
  const example = path.join(ROOT, 'local.settings.example.json');
  const shown = path.relative(ROOT, settingsFile);
  if (!existsSync(settingsFile)) {
    mkdirSync(path.dirname(settingsFile), { recursive: true });
    copyFileSync(example, settingsFile);
    log(`created ${shown} from local.settings.example.json`);
  }
  const settings = readLocalSettings(settingsFile);
  applyValues(settings);
  // Settings added to the example after a local.settings.json was made: take their defaults
  // rather than fail, and say so.
  const defaults = readLocalSettings(example);
  const missing = Object.keys(defaults.Values).filter((k) => process.env[k] === undefined);
  if (missing.length) {
    applyValues(defaults);
    log(`${shown} has no ${missing.join(', ')}: using the defaults of local.settings.example.json`);
  }
  return settings;
}

/** The local dev identities (README) get addresses in the sink's made-up domain. */
const DEV_IDENTITIES = ['operator', 'operator1', 'operator2', 'alice', 'bob', 'carol', 'dave'];

/**
 * The e-mail channel, locally: an SMTP sink on loopback (a free port, or LYNCDR_SMTP_SINK_PORT)
 * keeping messages in <data>/mail, and the settings that make the app send there with links
 * back to this host. Settings already given (local.settings.json, the environment) win; with
 * LYNCDR_SMTP_HOST given, the app sends to that server and no sink starts.
 */
async function startMail(dataDir: string, httpPort: number): Promise<{ sink?: SmtpSink; env: Record<string, string> }> {
  const dir = path.join(dataDir, 'mail');
  mkdirSync(dir, { recursive: true });
  // The link key outlives a restart, so the links in mails already sent keep working.
  const env: Record<string, string> = {
    LYNCDR_LINK_KEY: keptKey(path.join(dir, 'link.key')),
    LYNCDR_PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
    LYNCDR_MAIL_FROM: 'lyncdr <lyncdr@lyncdr.local>',
    LYNCDR_EMAIL_ADDRESSES: JSON.stringify(Object.fromEntries(DEV_IDENTITIES.map((id) => [id, `${id}@lyncdr.local`]))),
  };
  let sink: SmtpSink | undefined;
  if (!process.env.LYNCDR_SMTP_HOST) {
    sink = await startSmtpSink({ dir, port: portFromEnv('LYNCDR_SMTP_SINK_PORT', 0) });
    Object.assign(env, { LYNCDR_SMTP_HOST: '127.0.0.1', LYNCDR_SMTP_PORT: String(sink.port), LYNCDR_SMTP_SECURE: 'false' });
  }
  for (const k of Object.keys(env)) if (process.env[k] !== undefined && process.env[k] !== '') delete env[k];
  return { sink, env };
}

/** A key made once into `file` (readable by this user only) and read from it on every later start. */
function keptKey(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/**
 * Each site's result key (the app checks a worker's results with it): LYNCDR_RESULT_KEY_<SITE>
 * when local.settings.json or the environment gives it, else made on first start into
 * <data>/keys/result-<site>.key and kept, like the mail link key, so a restart changes nothing.
 */
function resultKeys(dataDir: string, sites: string[]): Record<string, string> {
  return Object.fromEntries(sites.map((site) => [site, process.env[resultKeySetting(site)] || keptKey(path.join(dataDir, 'keys', `result-${site}.key`))]));
}

/** A worker's environment: its own site's key as LYNCDR_RESULT_KEY, never the other sites' keys. */
function workerEnv(env: NodeJS.ProcessEnv, key: string): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('LYNCDR_RESULT_KEY'))), LYNCDR_RESULT_KEY: key };
}

/**
 * LYNCDR_DECISION_KEY for a local stack when none is given: generated once into <data>/decision.key
 * (as the link key is), so runs waiting across a restart still take the API's signed decisions.
 */
export function decisionKeySetting(dataDir: string, env: NodeJS.ProcessEnv = process.env): { LYNCDR_DECISION_KEY?: string } {
  if ((env.LYNCDR_DECISION_KEY ?? '') !== '') return {};
  return { LYNCDR_DECISION_KEY: keptKey(path.join(dataDir, 'decision.key')) };
}

/**
 * LYNCDR_CHANNELS for a local stack with the e-mail channel on (npm start, the drill) when none is
 * given: `email,teams` when the Teams stand-in runs too, else `email`. A value given in
 * local.settings.json or the environment wins (empty counts as not given, as for the other mail
 * settings); a stack without mail (the failover bench) names no channel, as before.
 */
export function channelsSetting(on: { mail: boolean; teams: boolean }, env: NodeJS.ProcessEnv = process.env): { LYNCDR_CHANNELS?: string } {
  if ((env.LYNCDR_CHANNELS ?? '') !== '' || !on.mail) return {};
  return { LYNCDR_CHANNELS: on.teams ? 'email,teams' : 'email' };
}

export async function startStack(opts: { quietWorkers?: boolean; quietHost?: boolean; mail?: boolean; beforeWorkers?: (s: { dataDir: string; topology: Topology }) => Promise<void> } = {}): Promise<Stack> {
  const settingsFile = localSettingsFile();
  const settings = loadSettings(settingsFile);
  const dataDir = path.resolve(ROOT, process.env.LYNCDR_DATA_DIR || '.data');
  const topologyFile = path.resolve(ROOT, process.env.LYNCDR_TOPOLOGY || 'examples/estate.sample.yaml');
  const topology = await loadTopologyFile(topologyFile);
  if (!topology.ok) {
    for (const p of topology.problems) console.error(`  ${p.path}: ${p.message}`);
    throw new Error(`${topologyFile} is not a valid estate (run: npx lyncdr topology validate ${topologyFile})`);
  }

  const azurite = await startAzurite({
    location: path.join(dataDir, 'azurite'),
    ports: { blob: portFromEnv('AZURITE_BLOB_PORT', 10000), queue: portFromEnv('AZURITE_QUEUE_PORT', 10001), table: portFromEnv('AZURITE_TABLE_PORT', 10002) },
  });
  log(`Azurite: blob 127.0.0.1:${azurite.ports.blob}, queue :${azurite.ports.queue}, table :${azurite.ports.table} (data in ${path.relative(ROOT, dataDir) || '.'}/azurite)`);
  const port = portFromEnv('LYNCDR_HTTP_PORT', settings.Host.LocalHttpPort ?? 7071);
  let mail: Awaited<ReturnType<typeof startMail>> = { env: {} };
  try {
    if (opts.mail) mail = await startMail(dataDir, port);
  } catch (err) {
    await azurite.stop();
    throw err;
  }
  if (mail.sink) log(`Mail: SMTP sink on 127.0.0.1:${mail.sink.port}, messages in ${path.relative(ROOT, mail.sink.dir)} (npx lyncdr lab mail list)`);
  else if (opts.mail) log(`Mail: sent through ${process.env.LYNCDR_SMTP_HOST}:${process.env.LYNCDR_SMTP_PORT ?? 587}`);
  // Teams on loopback: the stand-in plays Bot Framework, Entra and the Bot Connector, and its
  // settings make the app trust it (a real bot registration needs LYNCDR_TEAMS_STANDIN=off).
  let teams: TeamsStandin | undefined;
  if (process.env.LYNCDR_TEAMS_STANDIN !== 'off') {
    try {
      teams = await startTeamsStandin({ dir: path.join(dataDir, 'teams'), port: portFromEnv('LYNCDR_TEAMS_STANDIN_PORT', 0), log });
    } catch (err) {
      await mail.sink?.stop();
      await azurite.stop();
      throw new Error(`the Teams stand-in could not start: ${(err as Error).message}`);
    }
  }
  const sites = topology.topology.sites.map((s) => s.name.toLowerCase());
  const keys = resultKeys(dataDir, sites);
  const env = {
    ...process.env, ...Object.fromEntries(sites.map((site) => [resultKeySetting(site), keys[site]])), ...mail.env, ...decisionKeySetting(dataDir), ...channelsSetting({ mail: Boolean(opts.mail), teams: Boolean(teams) }), AzureWebJobsStorage: azurite.connectionString, LYNCDR_QUIET: '1', LYNCDR_TOPOLOGY: topologyFile,
    ...(teams ? { ...teams.settings, LYNCDR_PUBLIC_URL: process.env.LYNCDR_PUBLIC_URL || `http://127.0.0.1:${port}` } : {}),
  };

  const children: ChildProcess[] = [];
  let stopping = false;
  let brokenResolve: (why: string) => void = () => undefined;
  const broken = new Promise<string>((r) => { brokenResolve = r; });
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    })));
    await mail.sink?.stop();
    await teams?.stop();
    await azurite.stop();
  };

  try {
    const logDir = path.join(dataDir, 'logs');
    const host = run('host', [path.join(ROOT, 'dist/local/host-main.js'), '--root', ROOT, '--settings', settingsFile, '--port', String(port)], env, Boolean(opts.quietHost), logDir);
    children.push(host);
    host.once('exit', (code) => { if (!stopping) brokenResolve(`the host exited (code ${code})`); });
    const line = await waitForLine(host, /"event":"listening"/, 60_000);
    const listening = JSON.parse(line.slice(line.indexOf('{'))) as { url: string; hub: string; functions: number; resumed: number };

    if (teams) {
      teams.setAppUrl(listening.url);
      // The bot is installed in the stand-in's team channel, as an admin would add the app.
      const installed = await teams.install();
      if (installed.status !== 200) throw new Error(`the app refused the Teams stand-in's install: HTTP ${installed.status} ${JSON.stringify(installed.body)}`);
      log(`Teams: the bot is installed in ${teams.conversationId} (cards: npx lyncdr lab teams cards; data in ${path.relative(ROOT, path.join(dataDir, 'teams'))})`);
    }
    await opts.beforeWorkers?.({ dataDir, topology: topology.topology });
    for (const site of sites) {
      const w = run(`worker:${site}`, [path.join(ROOT, 'dist/worker/main.js'), '--site', site,
        '--journal', path.join(dataDir, 'worker', site, 'journal'), '--sim-dir', path.join(dataDir, 'sim'), '--topology', topologyFile], workerEnv(env, keys[site]), Boolean(opts.quietWorkers), logDir);
      children.push(w);
      w.once('exit', (code) => { if (!stopping) brokenResolve(`worker ${site} exited (code ${code})`); });
    }
    log(`Functions host: ${listening.url}/api (task hub ${listening.hub}, ${listening.functions} functions, ${listening.resumed} run(s) resumed)`);
    log(`Durable management API: ${listening.url}/runtime/webhooks/durabletask/instances`);
    log(`Workers on the simulated estate (${path.relative(ROOT, topologyFile)}): ${sites.join(', ')}`);
    return { url: listening.url, hub: listening.hub, dataDir, sites, topology: topology.topology, topologyFile, connectionString: azurite.connectionString, ...(mail.sink ? { mail: mail.sink } : {}), ...(teams ? { teams } : {}), broken, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
