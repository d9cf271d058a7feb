// The SQL runner: executes catalog SQL commands with mssql, values bound through
// request.input, identifiers only from the allow-list (see sql-statement.ts).
import { validateInvocation, type CommandInvocation } from '../../shared/commands/invocation.js';
import type { SqlSpec } from '../../shared/commands/spec.js';
import { buildSqlStatement, type BoundInput } from './sql-statement.js';
import { refused, type CommandExecutor, type ExecutionContext, type ExecutionResult } from './types.js';

/** The slice of mssql the runner uses; tests and other drivers can supply their own. */
export interface SqlRequestLike {
  input(name: string, type: unknown, value: unknown): SqlRequestLike;
  query(text: string): Promise<{ recordsets: unknown; rowsAffected: number[] }>;
  cancel(): void;
}
export interface SqlConnectionLike {
  request(): SqlRequestLike;
  close(): Promise<void>;
}
export interface SqlTarget {
  server: string;
  instance?: string;
  database: SqlSpec['database'];
  timeoutMs: number;
}
export type SqlConnector = (target: SqlTarget) => Promise<SqlConnectionLike>;
export type SqlTypeMapper = (type: BoundInput['type']) => unknown;

interface MssqlModule {
  ConnectionPool: new (config: Record<string, unknown>) => { connect(): Promise<SqlConnectionLike> };
  NVarChar(length: number): unknown;
  Int: unknown;
  BigInt: unknown;
  Decimal(precision: number, scale: number): unknown;
}

async function loadMssql(): Promise<MssqlModule> {
  // mssql ships no type declarations; the interface above states what we rely on.
  const specifier = 'mssql';
  const mod = (await import(specifier)) as { default?: MssqlModule } & MssqlModule;
  return mod.default ?? mod;
}

export function mssqlTypeMapper(sql: MssqlModule): SqlTypeMapper {
  return (type) => {
    switch (type) {
      case 'sysname':
        return sql.NVarChar(128);
      case 'nvarchar':
        return sql.NVarChar(4000);
      case 'int':
        return sql.Int;
      case 'bigint':
        return sql.BigInt;
      case 'decimal':
        return sql.Decimal(25, 0);
    }
  };
}

/** Connects with mssql; `baseConfig` carries authentication and TLS options from the worker's configuration. */
export function mssqlConnector(baseConfig: Record<string, unknown>): { connect: SqlConnector; types: () => Promise<SqlTypeMapper> } {
  return {
    connect: async (t) => {
      const sql = await loadMssql();
      const options = { ...((baseConfig.options as Record<string, unknown> | undefined) ?? {}), ...(t.instance ? { instanceName: t.instance } : {}) };
      const pool = new sql.ConnectionPool({ ...baseConfig, server: t.server, database: t.database, requestTimeout: t.timeoutMs, options });
      return pool.connect();
    },
    types: async () => mssqlTypeMapper(await loadMssql()),
  };
}

export interface SqlExecutorOptions {
  connect: SqlConnector;
  types: SqlTypeMapper;
}

export class SqlExecutor implements CommandExecutor {
  constructor(private readonly options: SqlExecutorOptions) {}

  async execute(invocation: CommandInvocation, ctx: ExecutionContext): Promise<ExecutionResult> {
    const v = validateInvocation(invocation);
    if (!v.ok) return refused('', `invalid invocation: ${v.error}`, 0, 'precondition');
    if (v.spec.kind !== 'sql') return refused(v.rendered, `${v.command.name} is a ${v.spec.kind} command, not SQL`);
    // T-SQL has no what-if: anything that changes state is not run.
    if (ctx.whatIf && v.command.effect !== 'read-only') {
      return { status: 'succeeded', exitCode: null, output: null, stderr: '', durationMs: 0, rendered: v.rendered, skipped: true };
    }
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    let statement;
    try {
      statement = buildSqlStatement(v.spec);
    } catch (err) {
      return refused(v.rendered, (err as Error).message);
    }
    let connection: SqlConnectionLike | undefined;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      connection = await this.options.connect({
        server: v.spec.server,
        ...(v.spec.instance ? { instance: v.spec.instance } : {}),
        database: v.spec.database,
        timeoutMs: ctx.timeoutMs,
      });
      const request = connection.request();
      for (const input of statement.inputs) request.input(input.name, this.options.types(input.type), input.value);
      timer = setTimeout(() => {
        timedOut = true;
        request.cancel();
      }, ctx.timeoutMs);
      const onAbort = (): void => request.cancel();
      ctx.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const result = await request.query(statement.text);
        return { status: 'succeeded', exitCode: null, output: { recordsets: result.recordsets, rowsAffected: result.rowsAffected }, stderr: '', durationMs: elapsed(), rendered: v.rendered };
      } finally {
        ctx.signal?.removeEventListener('abort', onAbort);
      }
    } catch (err) {
      return {
        status: timedOut ? 'timeout' : 'failed', exitCode: null, output: null, stderr: (err as Error).message ?? String(err), durationMs: elapsed(), rendered: v.rendered,
        errorKind: timedOut ? 'timeout' : 'execution',
      };
    } finally {
      clearTimeout(timer);
      await connection?.close().catch(() => undefined);
    }
  }
}
