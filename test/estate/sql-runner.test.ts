import { describe, expect, it } from 'vitest';
import { catalog } from '../../shared/commands/index.js';
import { buildSqlStatement } from '../../worker/executors/sql-statement.js';
import { SqlExecutor, type SqlConnectionLike, type SqlTarget } from '../../worker/executors/sql.js';

interface Sent { target: SqlTarget; inputs: Array<[string, unknown, unknown]>; text: string; closed: boolean }

function fakeServer(behaviour: 'ok' | 'error' | 'hang' = 'ok'): { sent: Sent[]; connect: (t: SqlTarget) => Promise<SqlConnectionLike> } {
  const sent: Sent[] = [];
  return {
    sent,
    connect: async (target) => {
      const s: Sent = { target, inputs: [], text: '', closed: false };
      sent.push(s);
      let cancel: (e: Error) => void = () => undefined;
      const request = {
        input(name: string, type: unknown, value: unknown) { s.inputs.push([name, type, value]); return request; },
        query(text: string) {
          s.text = text;
          if (behaviour === 'error') return Promise.reject(new Error("Exclusive access could not be obtained because the database is in use."));
          if (behaviour === 'hang') return new Promise<never>((_r, reject) => { cancel = reject; });
          return Promise.resolve({ recordsets: [[{ last_restored_file: 'mgc_1.trn' }]], rowsAffected: [1] });
        },
        cancel() { cancel(new Error('Canceled.')); },
      };
      return { request: () => request, close: async () => { s.closed = true; } };
    },
  };
}

const types = (t: string): string => `type:${t}`;
const ctx = { commandId: 'run-1/step-9', timeoutMs: 5_000, whatIf: false };

describe('SQL statement building', () => {
  it('keeps every value out of the statement text for every SQL command', () => {
    for (const c of Object.values(catalog).filter((x) => x.kind === 'sql')) {
      const spec = c.build(c.params.parse(c.example));
      if (spec.kind !== 'sql') throw new Error(c.name);
      const stmt = buildSqlStatement(spec);
      for (const input of stmt.inputs) {
        expect(stmt.text, c.name).not.toContain(`'${String(input.value)}'`);
        expect(stmt.text, c.name).toMatch(new RegExp(`@${input.name}\\b`));
      }
      expect(stmt.text, c.name).not.toMatch(/\{\{/);
    }
  });

  it('bracket-quotes allow-listed identifiers where T-SQL cannot take a variable', () => {
    const c = catalog['sql.removeMirroring'];
    const spec = c.build(c.params.parse({ sqlServerFqdn: 'pchatsql-west.contoso.com', database: 'mgccomp' }));
    if (spec.kind !== 'sql') throw new Error('sql');
    expect(buildSqlStatement(spec)).toEqual({ text: 'ALTER DATABASE [mgccomp] SET PARTNER OFF;', inputs: [] });
  });

  it('refuses a statement whose bound and used parameters disagree', () => {
    const c = catalog['sql.recoverDatabase'];
    const spec = c.build(c.params.parse(c.example));
    if (spec.kind !== 'sql') throw new Error('sql');
    expect(() => buildSqlStatement({ ...spec, parameters: [] })).toThrow(/no value is bound/);
    expect(() => buildSqlStatement({ ...spec, parameters: [...spec.parameters, { name: 'extra', type: 'int', value: 1 }] })).toThrow(/not used/);
  });
});

describe('SqlExecutor', () => {
  it('connects to the right instance and database and binds the values', async () => {
    const server = fakeServer();
    const exec = new SqlExecutor({ connect: server.connect, types });
    const r = await exec.execute({ name: 'sql.restoreLog', params: { sqlServerFqdn: 'pchatsql-west.contoso.com', sqlInstanceName: 'PCHAT', folder: 'D:\\LogShipping\\mgc', file: 'mgc_20240101120000.trn' } }, ctx);
    expect(r.status).toBe('succeeded');
    expect(r.rendered).toBe("RESTORE LOG [mgc] FROM DISK = N'D:\\LogShipping\\mgc\\mgc_20240101120000.trn' WITH NORECOVERY;");
    const [s] = server.sent;
    expect(s.target).toEqual({ server: 'pchatsql-west.contoso.com', instance: 'PCHAT', database: 'master', timeoutMs: 5_000 });
    expect(s.text).toBe('RESTORE LOG @database FROM DISK = @path WITH NORECOVERY;');
    expect(s.inputs).toEqual([['database', 'type:sysname', 'mgc'], ['path', 'type:nvarchar', 'D:\\LogShipping\\mgc\\mgc_20240101120000.trn']]);
    expect(s.closed).toBe(true);
  });

  it('returns recordsets of reads, and runs reads under what-if', async () => {
    const server = fakeServer();
    const r = await new SqlExecutor({ connect: server.connect, types }).execute({ name: 'sql.logShippingMonitor', params: { sqlServerFqdn: 'pchatsql-west.contoso.com' } }, { ...ctx, whatIf: true });
    expect(r.output).toEqual({ recordsets: [[{ last_restored_file: 'mgc_1.trn' }]], rowsAffected: [1] });
    expect(server.sent[0].target.database).toBe('msdb');
  });

  it('does not run a change under what-if', async () => {
    const server = fakeServer();
    const r = await new SqlExecutor({ connect: server.connect, types }).execute({ name: 'sql.recoverDatabase', params: { sqlServerFqdn: 'pchatsql-west.contoso.com' } }, { ...ctx, whatIf: true });
    expect(r).toMatchObject({ status: 'succeeded', skipped: true });
    expect(server.sent).toHaveLength(0);
  });

  it('reports server errors as failed and a hung statement as timeout, closing the connection', async () => {
    const failing = fakeServer('error');
    const r = await new SqlExecutor({ connect: failing.connect, types }).execute({ name: 'sql.setSingleUser', params: { sqlServerFqdn: 'pchatsql-east.contoso.com' } }, ctx);
    expect(r.status).toBe('failed');
    expect(r.stderr).toContain('Exclusive access');
    const hung = fakeServer('hang');
    const t = await new SqlExecutor({ connect: hung.connect, types }).execute({ name: 'sql.recoverDatabase', params: { sqlServerFqdn: 'pchatsql-west.contoso.com' } }, { ...ctx, timeoutMs: 200 });
    expect(t.status).toBe('timeout');
    expect(hung.sent[0].closed).toBe(true);
  });

  it('refuses PowerShell commands', async () => {
    const r = await new SqlExecutor({ connect: fakeServer().connect, types }).execute({ name: 'cms.locate', params: {} }, ctx);
    expect(r.stderr).toContain('not SQL');
  });
});
