// Request data never becomes code, checked at the far end of every runner (PowerShell, SQL, file,
// exe). The runners are the real adapters of a worker on a real estate (CompositeExecutor); only
// what cannot exist here is replaced, where the adapter hands over: a fake pwsh and a fake
// DBImpExp.exe that record the argv and stdin the operating system gave them, and an SQL driver
// that records the statement text and the bound inputs. Files are real, in mapped folders.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { catalog, validateInvocation, type CommandDefinition } from '../../shared/commands/index.js';
import { SQL_IDENTIFIERS } from '../../shared/commands/values.js';
import { CompositeExecutor } from '../../worker/executors/composite.js';
import { DbImpExpExecutor } from '../../worker/executors/exe.js';
import { FileExecutor } from '../../worker/executors/file.js';
import { POWERSHELL_ARGS, PowerShellExecutor, runPowerShell } from '../../worker/executors/powershell.js';
import { runProcess } from '../../worker/executors/process.js';
import { buildSqlStatement, SqlStatementError } from '../../worker/executors/sql-statement.js';
import { SqlExecutor, type SqlConnectionLike, type SqlTarget } from '../../worker/executors/sql.js';
import type { PowerShellSpec, SqlSpec } from '../../shared/commands/spec.js';
import { installFakeExe, type FakeExe } from './support/fake-exe.js';
import { installFakePwsh, type FakePwsh } from './support/fake-pwsh.js';
import { HOSTILE_VALUES } from './support/hostile.js';

type Path = Array<string | number>;

function stringLeaves(value: unknown, p: Path = []): Path[] {
  if (typeof value === 'string') return [p];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...p, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...p, k]));
  return [];
}
const leafValue = (obj: unknown, p: Path): string => p.reduce<any>((at, k) => at[k], obj);
const allStrings = (value: unknown): string[] => stringLeaves(value).map((p) => leafValue(value, p));

function withValue(obj: unknown, p: Path, value: string): unknown {
  const copy = structuredClone(obj) as Record<string | number, unknown>;
  let at = copy;
  for (const key of p.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[p[p.length - 1]] = value;
  return copy;
}

const fieldName = (p: Path): string => p.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : `${acc}.${s}`), 'params');

interface SqlSent { target: SqlTarget; inputs: Array<{ name: string; value: unknown }>; text: string }

let pwsh: FakePwsh;
let exe: FakeExe;
let files: string;
const sqlSent: SqlSent[] = [];
let executor: CompositeExecutor;
const ctx = { commandId: 'run-1/step-1', timeoutMs: 20_000, whatIf: false };

/** The SQL driver boundary: what mssql would have sent to the server. */
async function recordingConnect(target: SqlTarget): Promise<SqlConnectionLike> {
  const sent: SqlSent = { target, inputs: [], text: '' };
  sqlSent.push(sent);
  const request = {
    input(name: string, _type: unknown, value: unknown) { sent.inputs.push({ name, value }); return request; },
    query(text: string) { sent.text = text; return Promise.resolve({ recordsets: [], rowsAffected: [0] }); },
    cancel() { /* answers at once */ },
  };
  return { request: () => request, close: async () => undefined };
}

const recorded = (file: string): any => JSON.parse(readFileSync(file, 'utf8'));
const filesUnder = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();

beforeAll(() => {
  pwsh = installFakePwsh();
  exe = installFakeExe();
  files = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-injection-files-'));
  mkdirSync(path.join(files, 'share'));
  mkdirSync(path.join(files, 'd', 'mgc'), { recursive: true });
  writeFileSync(path.join(files, 'share', 'mgc_20240101120000.trn'), 'log backup');
  executor = new CompositeExecutor({
    powershell: new PowerShellExecutor({ env: pwsh.env('ok'), secretVault: 'LyncDR' }),
    sql: new SqlExecutor({ connect: recordingConnect, types: (t) => t }),
    file: new FileExecutor({ pathMap: { '\\\\fs-east.contoso.com\\pchat-logship': path.join(files, 'share'), 'D:\\LogShipping': path.join(files, 'd') } }),
    exe: new DbImpExpExecutor({ executable: exe.executable, env: exe.env }),
  });
});
afterAll(() => { for (const d of [pwsh.dir, exe.dir, files]) rmSync(d, { recursive: true, force: true }); });
beforeEach(() => {
  rmSync(pwsh.record, { force: true });
  rmSync(exe.record, { force: true });
  sqlSent.length = 0;
});

const commands = Object.values(catalog) as CommandDefinition[];
const cases = commands.flatMap((c) => stringLeaves(c.example).map((p) => ({ c, p })));

describe('hostile values in every string parameter, through the runner of its kind', () => {
  it('covers every command that has a string parameter, of every kind', () => {
    expect(new Set(cases.map((x) => x.c.name)).size).toBeGreaterThan(45);
    expect(new Set(cases.map((x) => x.c.kind))).toEqual(new Set(['powershell', 'sql', 'file', 'exe']));
  });

  it.each(cases.map((x) => [`${x.c.name} ${fieldName(x.p)}`, x] as const))('%s', async (_label, { c, p }) => {
    const before = filesUnder(files);
    for (const hostile of HOSTILE_VALUES) {
      const params = withValue(c.example, p, hostile) as Record<string, unknown>;
      const v = validateInvocation({ name: c.name, params });
      expect(v.ok, `${JSON.stringify(hostile.slice(0, 40))} accepted`).toBe(false);
      const r = await executor.execute({ name: c.name, params }, ctx);
      expect(r, JSON.stringify(hostile.slice(0, 40))).toMatchObject({ status: 'failed', errorKind: 'precondition', exitCode: null });
      expect(r.stderr).toContain(fieldName(p));
      expect(r.stderr.length, 'the refusal quotes at most a short prefix').toBeLessThan(1_000);
    }
    // Refused before anything ran: no process started, no statement sent, no file touched.
    expect(existsSync(pwsh.record)).toBe(false);
    expect(existsSync(exe.record)).toBe(false);
    expect(sqlSent).toEqual([]);
    expect(filesUnder(files)).toEqual(before);
  });

  it('refuses unknown commands and extra parameters by name', async () => {
    expect(await executor.execute({ name: 'Invoke-Expression', params: {} }, ctx)).toMatchObject({ status: 'failed', stderr: expect.stringContaining('name: unknown command') });
    const extra = await executor.execute({ name: 'pool.failover', params: { poolFqdn: 'eepool1.contoso.com', Command: 'calc' } }, ctx);
    expect(extra).toMatchObject({ status: 'failed', stderr: expect.stringMatching(/Command/) });
    expect(existsSync(pwsh.record)).toBe(false);
  });
});

describe('every parameter of every command reaches its runner as data', () => {
  const byKind = (kind: string) => commands.filter((c) => c.kind === kind && allStrings(c.example).length > 0).map((c) => [c.name, c] as const);

  it.each(byKind('powershell'))('%s: only in the values piped to the fixed script', async (_name, c) => {
    const r = await executor.execute({ name: c.name, params: c.example as Record<string, unknown> }, ctx);
    expect(r.status).toBe('succeeded');
    const rec = recorded(pwsh.record);
    expect(rec.argv).toEqual([...POWERSHELL_ARGS]);
    const req = JSON.parse(rec.stdin);
    const code = [req.cmdlet, ...req.arguments.map((a: { name: string }) => a.name), req.pipeline?.parameter].filter(Boolean);
    const data = allStrings([req.arguments.map((a: { value?: unknown; secret?: string }) => a.value ?? a.secret), req.pipeline?.values ?? []]);
    for (const value of allStrings(c.example)) {
      expect(code, value).not.toContain(value);
      expect(data.some((d) => d.includes(value)), `${value} is among the values`).toBe(true);
    }
  });

  it.each(byKind('sql'))('%s: only as bound inputs, connection targets or allow-listed identifiers', async (_name, c) => {
    const r = await executor.execute({ name: c.name, params: c.example as Record<string, unknown> }, ctx);
    expect(r.status).toBe('succeeded');
    expect(sqlSent).toHaveLength(1);
    const [sent] = sqlSent;
    // What is left of the statement once the allow-listed, bracketed identifiers are taken out.
    const text = SQL_IDENTIFIERS.reduce<string>((t, id) => t.split(`[${id}]`).join('[]'), sent.text);
    const data = allStrings([sent.inputs.map((i) => i.value), sent.target.server, sent.target.instance ?? '']);
    for (const value of allStrings(c.example)) {
      expect(text, value).not.toContain(value);
      const asIdentifier = (SQL_IDENTIFIERS as readonly string[]).includes(value) && sent.text.includes(`[${value}]`);
      expect(asIdentifier || data.some((d) => d.includes(value)), `${value} is bound, a target or an identifier`).toBe(true);
    }
  });

  it.each(byKind('exe'))('%s: only inside one argv element, after its switch', async (_name, c) => {
    const r = await executor.execute({ name: c.name, params: c.example as Record<string, unknown> }, ctx);
    expect(r.status).toBe('succeeded');
    const v = validateInvocation({ name: c.name, params: c.example as Record<string, unknown> });
    if (!v.ok || v.spec.kind !== 'exe') throw new Error(`${c.name} is an exe command`);
    const { argv } = recorded(exe.record) as { argv: string[] };
    expect(argv).toEqual(v.spec.args);
    for (const value of allStrings(c.example)) {
      const carrying = argv.filter((a) => a.includes(value));
      expect(carrying.length, value).toBeGreaterThan(0);
      for (const a of carrying) expect(a.slice(a.indexOf(':') + 1), `${value} in ${a}`).toContain(value);
    }
  });

  it('file commands: folders resolve through the path map, names stay names', async () => {
    const list = await executor.execute({ name: 'file.listLogBackups', params: catalog['file.listLogBackups'].example as Record<string, unknown> }, ctx);
    expect(list).toMatchObject({ status: 'succeeded', output: [{ Name: 'mgc_20240101120000.trn', FullName: '\\\\fs-east.contoso.com\\pchat-logship\\mgc_20240101120000.trn' }] });
    const copy = await executor.execute({ name: 'file.copyLogBackups', params: catalog['file.copyLogBackups'].example as Record<string, unknown> }, ctx);
    expect(copy.status).toBe('succeeded');
    expect(filesUnder(path.join(files, 'd', 'mgc'))).toEqual(['mgc_20240101120000.trn']);
    expect(readFileSync(path.join(files, 'd', 'mgc', 'mgc_20240101120000.trn'), 'utf8')).toBe('log backup');
  });
});

// Below validation: were a hostile value to get past it, each runner's hand-over still keeps it data.
describe('inert data below validation', () => {
  it('PowerShell: the argv is the fixed script; the value is on stdin, byte for byte, in every position', async () => {
    for (const hostile of HOSTILE_VALUES) {
      const spec: PowerShellSpec = {
        kind: 'powershell', cmdlet: 'Set-CsUser',
        arguments: [
          { kind: 'value', name: 'Identity', value: hostile }, { kind: 'value', name: 'Members', value: ['a', hostile] }, { kind: 'listAdd', name: 'ProxyAddresses', value: [hostile] },
          { kind: 'credential', name: 'UserCredential', secret: hostile },
        ],
        pipeline: { parameter: 'Identity', values: [hostile] },
      };
      rmSync(pwsh.record, { force: true });
      const r = await runPowerShell(spec, { timeoutMs: 20_000, env: pwsh.env('ok'), secretVault: hostile });
      expect(r.exitCode).toBe(0);
      const rec = recorded(pwsh.record);
      expect(rec.argv).toEqual([...POWERSHELL_ARGS]);
      expect(JSON.parse(rec.stdin)).toEqual({ cmdlet: spec.cmdlet, arguments: spec.arguments, pipeline: spec.pipeline, secretVault: hostile });
    }
  });

  const sqlCommands = commands.filter((c) => c.kind === 'sql').map((c) => {
    const spec = c.build(c.params.parse(c.example)) as SqlSpec;
    return [c.name, spec] as const;
  }).filter(([, spec]) => spec.parameters.some((x) => typeof x.value === 'string'));

  it('has SQL commands with string parameters to try', () => expect(sqlCommands.length).toBeGreaterThan(3));

  it.each(sqlCommands)('SQL %s: the statement text is the same whatever a bound value holds', (_name, spec) => {
    const text = buildSqlStatement(spec).text;
    for (const param of spec.parameters.filter((x) => typeof x.value === 'string')) {
      for (const hostile of HOSTILE_VALUES) {
        const stmt = buildSqlStatement({ ...spec, parameters: spec.parameters.map((x) => (x.name === param.name ? { ...x, value: hostile } : x)) });
        expect(stmt.text).toBe(text);
        expect(stmt.inputs).toContainEqual({ name: param.name, type: param.type, value: hostile });
      }
    }
  });

  it('SQL: identifiers outside the allow-list are refused', () => {
    const alter = catalog['sql.setSingleUser'];
    const aspec = alter.build(alter.params.parse(alter.example)) as SqlSpec;
    expect(buildSqlStatement(aspec).text).toBe('ALTER DATABASE [mgc] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;');
    for (const hostile of HOSTILE_VALUES) {
      expect(() => buildSqlStatement({ ...aspec, identifiers: { database: hostile as 'mgc' } })).toThrow(SqlStatementError);
    }
  });

  it('exe: each argument reaches the program as one argv element, no shell splits or expands it', async () => {
    for (const hostile of HOSTILE_VALUES.filter((h) => !h.includes('\0'))) {
      const args = [`/hrxmlfile:${hostile}`, hostile, '/restype:user'];
      rmSync(exe.record, { force: true });
      const r = await runProcess({ executable: exe.executable, args, timeoutMs: 20_000, maxOutputBytes: 1024, env: exe.env });
      expect(r.exitCode).toBe(0);
      expect(recorded(exe.record).argv).toEqual(args);
    }
  });

  it('file: a hostile folder is refused, never resolved outside its mapped directory', () => {
    const root = path.join(files, 'share');
    const runner = new FileExecutor({ pathMap: { '\\\\fs-east.contoso.com\\pchat-logship': root }, platform: 'linux' });
    for (const hostile of HOSTILE_VALUES) {
      for (const folder of [hostile, `\\\\fs-east.contoso.com\\pchat-logship\\${hostile}`]) {
        expect(() => runner.resolveFolder(folder), JSON.stringify(folder.slice(0, 60))).toThrow(/not a valid Windows folder path|not allowed|outside/);
      }
    }
  });
});
