// Hostile values in every string parameter of every command: each is either refused by
// validation with an error naming the field, or travels as inert data (never as script or
// SQL text).
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalog, validateInvocation, type ExecutionSpec } from '../../shared/commands/index.js';
import { buildSqlStatement, SqlStatementError } from '../../worker/executors/sql-statement.js';
import { runPowerShell, POWERSHELL_ARGS } from '../../worker/executors/powershell.js';
import { HOSTILE_VALUES } from './support/hostile.js';
import { installFakePwsh, type FakePwsh } from './support/fake-pwsh.js';

type Path = Array<string | number>;

function stringLeaves(value: unknown, path: Path = []): Path[] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
  return [];
}

function withValue(obj: unknown, path: Path, value: string): unknown {
  const copy = structuredClone(obj) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path[path.length - 1]] = value;
  return copy;
}

const fieldName = (path: Path): string => path.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : `${acc}.${s}`), 'params');

/** Where a value may legitimately appear: as bound data, never in the text that is executed. */
function assertInert(spec: ExecutionSpec, value: string): void {
  switch (spec.kind) {
    case 'powershell':
      expect(spec.cmdlet).toMatch(/^[A-Za-z]+-[A-Za-z]+$/);
      for (const a of spec.arguments) expect(a.name).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
      return;
    case 'sql': {
      const stmt = buildSqlStatement(spec);
      expect(stmt.text).not.toContain(value);
      return;
    }
    case 'file':
    case 'exe':
      return; // argv / fs calls, no shell involved
  }
}

const cases = Object.values(catalog).flatMap((c) => stringLeaves(c.example).map((path) => ({ c, path })));

describe('hostile values in every string parameter', () => {
  it('covers every command that has a string parameter', () => {
    expect(new Set(cases.map((x) => x.c.name)).size).toBeGreaterThan(45);
  });

  it.each(cases.map((x) => [`${x.c.name} ${fieldName(x.path)}`, x] as const))('%s', (_label, { c, path }) => {
    for (const hostile of HOSTILE_VALUES) {
      const r = validateInvocation({ name: c.name, params: withValue(c.example, path, hostile) });
      if (!r.ok) {
        expect(r.error, `${JSON.stringify(hostile)} refused without naming the field`).toContain(fieldName(path));
        continue;
      }
      assertInert(r.spec, hostile);
    }
  });

  it('refuses unknown commands and extra parameters by name', () => {
    const unknown = validateInvocation({ name: 'Invoke-Expression', params: {} });
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error).toContain('name: unknown command');
    const extra = validateInvocation({ name: 'pool.failover', params: { poolFqdn: 'eepool1.contoso.com', Command: 'calc' } });
    expect(extra.ok).toBe(false);
    if (!extra.ok) expect(extra.error).toMatch(/Command/);
  });
});

describe('inert data below validation', () => {
  let fake: FakePwsh;
  beforeAll(() => { fake = installFakePwsh(); });
  afterAll(() => rmSync(fake.dir, { recursive: true, force: true }));

  it('reaches the PowerShell process only as JSON on stdin, byte for byte', async () => {
    for (const hostile of HOSTILE_VALUES) {
      const r = await runPowerShell(
        { kind: 'powershell', cmdlet: 'Get-CsUser', arguments: [{ kind: 'value', name: 'Identity', value: hostile }], pipeline: { parameter: 'Identity', values: [hostile] } },
        { timeoutMs: 10_000, env: fake.env('ok') },
      );
      expect(r.exitCode).toBe(0);
      const rec = JSON.parse(readFileSync(fake.record, 'utf8'));
      expect(rec.argv).toEqual([...POWERSHELL_ARGS]);
      const req = JSON.parse(rec.stdin);
      expect(req.arguments[0].value).toBe(hostile);
      expect(req.pipeline.values[0]).toBe(hostile);
    }
  });

  it('reaches SQL Server only as bound parameters; identifiers outside the allow-list are refused', () => {
    const base = catalog['sql.restoreLog'];
    const spec = base.build(base.params.parse(base.example));
    if (spec.kind !== 'sql') throw new Error('expected sql');
    for (const hostile of HOSTILE_VALUES) {
      const stmt = buildSqlStatement({ ...spec, parameters: spec.parameters.map((p) => (p.name === 'path' ? { ...p, value: hostile } : p)) });
      expect(stmt.text).toBe('RESTORE LOG @database FROM DISK = @path WITH NORECOVERY;');
      expect(stmt.inputs).toContainEqual({ name: 'path', type: 'nvarchar', value: hostile });
    }
    const alter = catalog['sql.setSingleUser'];
    const aspec = alter.build(alter.params.parse(alter.example));
    if (aspec.kind !== 'sql') throw new Error('expected sql');
    expect(buildSqlStatement(aspec).text).toBe('ALTER DATABASE [mgc] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;');
    expect(() => buildSqlStatement({ ...aspec, identifiers: { database: 'mgc]; DROP DATABASE master; --' as 'mgc' } })).toThrow(SqlStatementError);
  });
});
