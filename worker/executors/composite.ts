// The executor of a real estate: each catalog command goes to the runner for its kind
// (PowerShell cmdlets, T-SQL through mssql, file copies with fs, DBImpExp.exe as a process).
// SQL needs a connection configuration; a worker without one still runs everything else, and
// answers SQL steps with a clear not-supported failure instead of guessing credentials.
import { readFile } from 'node:fs/promises';
import { validateInvocation, type CommandInvocation } from '../../shared/commands/invocation.js';
import { SECRET_NAME_PATTERN } from '../../shared/commands/values.js';
import type { CommandKind } from '../../shared/commands/define.js';
import type { WorkerExecutor } from '../execution.js';
import { DbImpExpExecutor } from './exe.js';
import { FileExecutor, pathMapFromEnv } from './file.js';
import { PowerShellExecutor } from './powershell.js';
import { mssqlConnector, SqlExecutor } from './sql.js';
import { refused, type CommandExecutor, type ExecutionContext, type ExecutionResult } from './types.js';

export type Runners = Record<CommandKind, CommandExecutor | { unavailable: string }>;

export class CompositeExecutor implements WorkerExecutor {
  readonly kind = 'powershell';
  constructor(private readonly runners: Runners) {}

  async execute(invocation: CommandInvocation, ctx: ExecutionContext): Promise<ExecutionResult> {
    const v = validateInvocation(invocation);
    if (!v.ok) return refused('', `invalid invocation: ${v.error}`, 0, 'precondition');
    const runner = this.runners[v.spec.kind];
    if ('unavailable' in runner) return refused(v.rendered, `${v.command.name}: ${runner.unavailable}`, 0, 'not-supported');
    return runner.execute(invocation, ctx);
  }
}

export const SQL_NOT_CONFIGURED =
  'SQL is not configured on this worker: set LYNCDR_SQL_USER and LYNCDR_SQL_PASSWORD (LYNCDR_SQL_DOMAIN for Windows/NTLM logins), or LYNCDR_SQL_CONFIG to a JSON file of mssql options';

/**
 * The mssql base configuration (authentication, TLS, port; server / instance / database come from
 * each command). LYNCDR_SQL_CONFIG names a JSON file of mssql options; otherwise LYNCDR_SQL_USER,
 * LYNCDR_SQL_PASSWORD, LYNCDR_SQL_DOMAIN (NTLM), LYNCDR_SQL_PORT, LYNCDR_SQL_ENCRYPT (default true),
 * LYNCDR_SQL_TRUST_SERVER_CERTIFICATE (default false). Undefined when none of these is set.
 */
export async function sqlConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<Record<string, unknown> | undefined> {
  if (env.LYNCDR_SQL_CONFIG) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(env.LYNCDR_SQL_CONFIG, 'utf8'));
    } catch (err) {
      throw new Error(`LYNCDR_SQL_CONFIG ${env.LYNCDR_SQL_CONFIG}: ${(err as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`LYNCDR_SQL_CONFIG ${env.LYNCDR_SQL_CONFIG}: must hold a JSON object`);
    for (const k of ['server', 'database']) {
      if (k in parsed) throw new Error(`LYNCDR_SQL_CONFIG: "${k}" comes from each command and must not be set`);
    }
    return parsed as Record<string, unknown>;
  }
  if (!env.LYNCDR_SQL_USER) return undefined;
  if (!env.LYNCDR_SQL_PASSWORD) throw new Error('LYNCDR_SQL_USER is set but LYNCDR_SQL_PASSWORD is not');
  const bool = (name: string, dflt: boolean) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return dflt;
    if (!/^(true|false|1|0)$/i.test(raw)) throw new Error(`${name} must be true or false`);
    return /^(true|1)$/i.test(raw);
  };
  const port = env.LYNCDR_SQL_PORT ? Number(env.LYNCDR_SQL_PORT) : undefined;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) throw new Error('LYNCDR_SQL_PORT must be a TCP port');
  return {
    user: env.LYNCDR_SQL_USER,
    password: env.LYNCDR_SQL_PASSWORD,
    ...(env.LYNCDR_SQL_DOMAIN ? { domain: env.LYNCDR_SQL_DOMAIN } : {}),
    ...(port ? { port } : {}),
    options: { encrypt: bool('LYNCDR_SQL_ENCRYPT', true), trustServerCertificate: bool('LYNCDR_SQL_TRUST_SERVER_CERTIFICATE', false) },
  };
}

/** `--executor powershell`: the runners of a real estate, configured from the environment. */
export async function realEstateExecutor(env: NodeJS.ProcessEnv = process.env): Promise<CompositeExecutor> {
  const sqlConfig = await sqlConfigFromEnv(env);
  let sql: CommandExecutor | { unavailable: string } = { unavailable: SQL_NOT_CONFIGURED };
  if (sqlConfig) {
    const connector = mssqlConnector(sqlConfig);
    sql = new SqlExecutor({ connect: connector.connect, types: await connector.types() });
  }
  const pathMap = pathMapFromEnv(env);
  const vault = env.LYNCDR_SECRET_VAULT;
  if (vault !== undefined && vault !== '' && !SECRET_NAME_PATTERN.test(vault)) {
    throw new Error(`LYNCDR_SECRET_VAULT must be a SecretManagement vault name (letters, digits, dot, underscore, hyphen), got "${vault}"`);
  }
  return new CompositeExecutor({
    powershell: new PowerShellExecutor({
      ...(env.LYNCDR_POWERSHELL ? { executable: env.LYNCDR_POWERSHELL } : {}),
      ...(vault ? { secretVault: vault } : {}),
    }),
    sql,
    file: new FileExecutor(pathMap ? { pathMap } : {}),
    exe: new DbImpExpExecutor(env.LYNCDR_DBIMPEXP_PATH ? { executable: env.LYNCDR_DBIMPEXP_PATH } : {}),
  });
}
