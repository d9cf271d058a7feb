#!/usr/bin/env node
// The on-prem hybrid worker service: `node dist/worker/main.js --site west`.
// Outbound connections only (queue transport); configuration from flags and environment.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { validateInvocation } from '../shared/commands/index.js';
import { SiteName } from '../shared/messages.js';
import { storageConnectionString } from '../shared/storage/connection.js';
import type { WorkerExecutor } from './execution.js';
import { realEstateExecutor } from './executors/composite.js';
import { FileJournal } from './journal.js';
import { Simulator } from './simulator/simulator.js';
import { loadSimulatorTopology, topologyFile } from './simulator/topology.js';
import { AzuriteQueueTransport } from '../shared/transport/azurite.js';
import { ServiceBusTransport } from '../shared/transport/servicebus.js';
import type { WorkerTransport } from '../shared/transport/types.js';
import { catalogResolver, HybridWorker } from './worker.js';
import { signingTransport } from './result-signing.js';
import { MIN_RESULT_KEY_LENGTH } from '../shared/results/signature.js';

const positiveInt = z.coerce.number().int().positive();

const Config = z.object({
  site: SiteName,
  executor: z.enum(['simulator', 'powershell']),
  transport: z.enum(['azurite', 'servicebus']),
  journal: z.string().min(1),
  simDir: z.string().min(1),
  topology: z.string().min(1),
  concurrency: positiveInt,
  queuePrefix: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?$/),
  lockMs: positiveInt,
  heartbeatMs: positiveInt,
  probeMs: positiveInt,
  graceMs: z.coerce.number().int().nonnegative(),
  workerId: z.string().min(1).max(100).optional(),
  resultKey: z.string().min(MIN_RESULT_KEY_LENGTH, `result key: missing or shorter than ${MIN_RESULT_KEY_LENGTH} characters (LYNCDR_RESULT_KEY or --result-key-file): the app refuses unsigned results`),
});
type Config = z.infer<typeof Config>;

function parseConfig(argv: string[]): Config {
  const env = process.env;
  const program = new Command('lyncdr-worker')
    .description('lyncdr hybrid worker: runs DR commands for one site')
    .requiredOption('--site <site>', 'site whose commands this worker runs')
    .addOption(new Option('--executor <kind>', 'what runs commands').choices(['simulator', 'powershell']).default(env.LYNCDR_EXECUTOR ?? 'simulator'))
    .addOption(new Option('--transport <kind>', 'message transport').choices(['azurite', 'servicebus']).default(env.LYNCDR_TRANSPORT ?? 'azurite'))
    .option('--journal <dir>', 'idempotency journal directory (default .data/worker/<site>/journal)')
    .option('--sim-dir <dir>', 'simulator state directory, one estate shared by the workers of all sites (default LYNCDR_SIM_DIR or .data/sim)')
    .option('--topology <file>', 'estate topology the simulator builds its estate from (default LYNCDR_TOPOLOGY or examples/estate.sample.yaml, from the cwd)')
    .option('--concurrency <n>', 'commands run at once', env.LYNCDR_WORKER_CONCURRENCY ?? '4')
    .option('--queue-prefix <prefix>', 'queue name prefix', env.LYNCDR_QUEUE_PREFIX ?? 'lyncdr')
    .option('--lock-ms <ms>', 'message lock duration (storage-queue transport)', env.LYNCDR_LOCK_MS ?? '30000')
    .option('--heartbeat-ms <ms>', 'heartbeat interval', env.LYNCDR_HEARTBEAT_MS ?? '30000')
    .option('--probe-ms <ms>', 'probe interval', env.LYNCDR_PROBE_MS ?? '300000')
    .option('--grace-ms <ms>', 'shutdown grace period for in-flight commands', env.LYNCDR_GRACE_MS ?? '30000')
    .option('--worker-id <id>', 'worker id in results and heartbeats (default <site>-<random>)')
    .option('--result-key-file <file>', "file holding this site's result key (default: the LYNCDR_RESULT_KEY environment variable)")
    .parse(argv);
  const o = program.opts<Record<string, string | undefined>>();
  const parsed = Config.safeParse({
    ...o,
    journal: o.journal ?? path.join('.data', 'worker', o.site ?? '', 'journal'),
    simDir: o.simDir ?? env.LYNCDR_SIM_DIR ?? path.join('.data', 'sim'),
    topology: topologyFile(o.topology, env),
    resultKey: (o.resultKeyFile ? readKeyFile(o.resultKeyFile) : env.LYNCDR_RESULT_KEY ?? '').trim(),
  });
  if (!parsed.success) {
    return program.error(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the result key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function transportFor(config: Config): WorkerTransport {
  return signingTransport(queueTransportFor(config), config.resultKey);
}

function queueTransportFor(config: Config): WorkerTransport {
  if (config.transport === 'servicebus') {
    const cs = process.env.ServiceBusConnection;
    if (!cs) throw new Error('ServiceBusConnection is not set: the servicebus transport needs a connection string');
    return new ServiceBusTransport({ connectionString: cs, prefix: config.queuePrefix });
  }
  // The lock is renewed at a third of its length, so one failed renewal does not lose it.
  return new AzuriteQueueTransport({ connectionString: storageConnectionString(), prefix: config.queuePrefix, lockMs: config.lockMs });
}

async function executorFor(config: Config): Promise<WorkerExecutor> {
  if (config.executor === 'simulator') {
    return new Simulator({ dir: config.simDir, topology: await loadSimulatorTopology(config.topology), site: config.site });
  }
  // PowerShell, SQL (LYNCDR_SQL_*), file copies (LYNCDR_FILE_PATH_MAP off Windows) and DBImpExp.exe.
  return realEstateExecutor();
}

async function main(): Promise<void> {
  const config = parseConfig(process.argv);
  const journal = await FileJournal.open(config.journal);
  const worker = new HybridWorker({
    site: config.site, workerId: config.workerId, transport: transportFor(config), executor: await executorFor(config), journal,
    resolve: catalogResolver(validateInvocation), concurrency: config.concurrency,
    lockRenewMs: Math.max(500, Math.floor(config.lockMs / 3)), heartbeatMs: config.heartbeatMs, probeMs: config.probeMs, graceMs: config.graceMs,
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), event: 'worker.signal', signal })}\n`);
    worker.stop().then(() => process.exit(0), (err: unknown) => {
      process.stderr.write(`${JSON.stringify({ event: 'worker.stop-failed', error: String(err) })}\n`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  worker.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`lyncdr-worker: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
