// Starts Azurite from node_modules as a child process on loopback. The package's `main` is a
// VS Code extension, so the CLI entry is loaded by path.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { azuriteConnectionString, type AzuritePorts } from '../shared/storage/connection.js';

export interface AzuriteHandle {
  ports: AzuritePorts;
  connectionString: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  location: string;
  ports?: Partial<AzuritePorts>;
  /** When true, any free port is used for services without an explicit port. */
  freePorts?: boolean;
  silent?: boolean;
}

export function azuriteCliPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('azurite/package.json');
  return path.join(path.dirname(pkg), 'dist', 'src', 'azurite.js');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Azurite exited with code ${child.exitCode} before listening`);
    if (await portInUse(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Azurite did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

export async function startAzurite(opts: AzuriteOptions): Promise<AzuriteHandle> {
  const pick = async (name: keyof AzuritePorts, dflt: number) =>
    opts.ports?.[name] ?? (opts.freePorts ? await freePort() : dflt);
  const ports: AzuritePorts = {
    blob: await pick('blob', 10000),
    queue: await pick('queue', 10001),
    table: await pick('table', 10002),
  };
  for (const [name, port] of Object.entries(ports)) {
    if (await portInUse(port)) {
      throw new Error(
        `Port ${port} (Azurite ${name}) on 127.0.0.1 is already in use. Stop whatever listens there ` +
          `(another 'npm start' or Azurite?) or choose other ports with AZURITE_${name.toUpperCase()}_PORT.`,
      );
    }
  }
  mkdirSync(opts.location, { recursive: true });
  const args = [
    azuriteCliPath(),
    '--disableTelemetry', '--skipApiVersionCheck', '--loose',
    '--location', opts.location,
    '--blobHost', '127.0.0.1', '--blobPort', String(ports.blob),
    '--queueHost', '127.0.0.1', '--queuePort', String(ports.queue),
    '--tableHost', '127.0.0.1', '--tablePort', String(ports.table),
  ];
  if (opts.silent !== false) args.push('--silent');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => { stderr += String(d); });
  child.stdout?.resume();
  try {
    await Promise.all([waitForPort(ports.blob, child, 20000), waitForPort(ports.queue, child, 20000), waitForPort(ports.table, child, 20000)]);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}${stderr ? `\n${stderr}` : ''}`);
  }
  return {
    ports,
    connectionString: azuriteConnectionString(ports),
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
