// Keeps docs/azure-conformance.md true: every test a row names must exist, and no row may be left
// without one (TODO(test) included). Also pins the Node row: Azure runs the Node major that CI
// tests, and package.json allows it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const TODO = 'TODO(test)';
const DOC = 'docs/azure-conformance.md';

export interface Row { line: number; feature: string; tests: string }

/** The rows of every table in the document whose header has a `test` column. */
export function parseRows(markdown: string): Row[] {
  const rows: Row[] = [];
  let testColumn = -1;
  let featureColumn = -1;
  const lines = markdown.split('\n');
  lines.forEach((text, i) => {
    if (!text.trim().startsWith('|')) { testColumn = -1; return; }
    const cells = text.trim().replace(/^\||\|$/g, '').split(/(?<!\\)\|/).map((c) => c.trim());
    if (testColumn < 0) {
      // A header row, then its separator.
      testColumn = cells.findIndex((c) => c.toLowerCase() === 'test');
      featureColumn = cells.findIndex((c) => c.toLowerCase() === 'feature');
      if (testColumn < 0) testColumn = -2; // a table without a test column: skip it whole
      return;
    }
    if (testColumn === -2 || cells.every((c) => /^:?-+:?$/.test(c))) return;
    rows.push({ line: i + 1, feature: cells[featureColumn] ?? '', tests: cells[testColumn] ?? '' });
  });
  return rows;
}

export interface Titles { describes: Set<string>; tests: Set<string> }

/** The describe titles and the it / test titles of a test file (string literals only). */
export function titlesIn(source: string): Titles {
  const out: Titles = { describes: new Set(), tests: new Set() };
  const re = /\b(describe|it|test)(?:\.(?:only|skip|todo|concurrent|sequential|fails))*\(\s*(['"`])((?:\\.|(?!\2)[^\\])*)\2/g;
  for (const m of source.matchAll(re)) {
    (m[1] === 'describe' ? out.describes : out.tests).add(m[3].replace(/\\(['"`\\])/g, '$1'));
  }
  return out;
}

/** `file` › title [› title]: the file and the titles (describe titles first) it names. */
export function parseReference(ref: string): { file: string; titles: string[] } | undefined {
  const m = /^`([^`]+\.test\.ts)`\s+›\s+(.+)$/.exec(ref.trim());
  if (!m) return undefined;
  return { file: m[1], titles: m[2].split(/\s+›\s+/).map((t) => t.trim()) };
}

/** What is wrong with the rows: references that name no existing test, rows that name none. */
export function problems(rows: Row[], read: (file: string) => string | undefined, opts: { allowTodo: boolean }): string[] {
  const out: string[] = [];
  const cache = new Map<string, Titles | undefined>();
  for (const row of rows) {
    const where = `line ${row.line} (${row.feature})`;
    const todo = row.tests.includes(TODO);
    if (todo && !opts.allowTodo) out.push(`${where}: still ${TODO}`);
    const refs = row.tests.split(/<br\s*\/?>/i).map((r) => r.trim()).filter((r) => r && r !== TODO);
    if (!refs.length && !todo) out.push(`${where}: names no test`);
    for (const ref of refs) {
      const parsed = parseReference(ref);
      if (!parsed) { out.push(`${where}: '${ref}' is not "\`file\` › test title"`); continue; }
      if (!cache.has(parsed.file)) {
        const source = read(parsed.file);
        cache.set(parsed.file, source === undefined ? undefined : titlesIn(source));
      }
      const titles = cache.get(parsed.file);
      if (!titles) { out.push(`${where}: ${parsed.file} does not exist`); continue; }
      const test = parsed.titles[parsed.titles.length - 1];
      for (const d of parsed.titles.slice(0, -1)) if (!titles.describes.has(d)) out.push(`${where}: ${parsed.file} has no describe titled '${d}'`);
      if (!titles.tests.has(test)) out.push(`${where}: ${parsed.file} has no test titled '${test}'`);
    }
  }
  return out;
}

const readRepoFile = (file: string): string | undefined => {
  try { return readFileSync(path.join(ROOT, file), 'utf8'); } catch { return undefined; }
};
const rows = parseRows(readFileSync(path.join(ROOT, DOC), 'utf8'));

describe('docs/azure-conformance.md', () => {
  it('has the rows the table is about', () => {
    expect(rows.length).toBeGreaterThanOrEqual(25);
    const features = rows.map((r) => r.feature.toLowerCase()).join('\n');
    for (const f of ['pending timers', 'custom status', 'status api', 'suspend', 'entities', 'system key', 'request body', 'large-message', 'table entity', 'table batches', 'queue message', 'retry', 'external events', 'continueasnew', 'sub-orchestrations', 'node.js']) {
      expect(features).toContain(f);
    }
  });

  it('every row names an existing test', () => {
    // Rows marked TODO(test) need not name a test yet, but any test they do name must exist.
    expect(problems(rows, readRepoFile, { allowTodo: true })).toEqual([]);
  });

  it('no row is left without a test', () => {
    expect(problems(rows, readRepoFile, { allowTodo: false })).toEqual([]);
  });

  it('the checker itself fails on a missing test, a missing file, a malformed reference, a describe named as a test and a bare row', () => {
    const fake: Row[] = [
      { line: 1, feature: 'ok', tests: '`test/docs/conformance-doc.test.ts` › docs/azure-conformance.md › every row names an existing test' },
      { line: 2, feature: 'missing test', tests: '`test/engine/conformance.test.ts` › a test nobody wrote' },
      { line: 3, feature: 'missing file', tests: '`test/nowhere.test.ts` › anything' },
      { line: 4, feature: 'malformed', tests: 'test/engine/conformance.test.ts: chains activities in order' },
      { line: 7, feature: 'a describe, not a test', tests: '`test/engine/conformance.test.ts` › durable engine conformance' },
      { line: 5, feature: 'bare', tests: '' },
      { line: 6, feature: 'todo', tests: TODO },
    ];
    const found = problems(fake, readRepoFile, { allowTodo: true });
    expect(found).toEqual([
      "line 2 (missing test): test/engine/conformance.test.ts has no test titled 'a test nobody wrote'",
      'line 3 (missing file): test/nowhere.test.ts does not exist',
      `line 4 (malformed): 'test/engine/conformance.test.ts: chains activities in order' is not "\`file\` › test title"`,
      "line 7 (a describe, not a test): test/engine/conformance.test.ts has no test titled 'durable engine conformance'",
      'line 5 (bare): names no test',
    ]);
    expect(problems(fake.filter((r) => r.feature === 'todo'), readRepoFile, { allowTodo: false })).toEqual([`line 6 (todo): still ${TODO}`]);
  });

  it('reads titles written with either quote, escaped quotes included', () => {
    const titles = titlesIn(`describe('a \\'quoted\\' one', () => { it("Azure's", () => {}); it.skip(\`tpl\`, () => {}); });`);
    expect([...titles.describes]).toEqual(["a 'quoted' one"]);
    expect([...titles.tests]).toEqual(["Azure's", 'tpl']);
  });
});

describe('Node version', () => {
  it('Azure runs the Node major that CI tests', () => {
    const bicep = readRepoFile('infra/modules/functionapp.bicep')!;
    const azure = /runtime:\s*\{\s*name:\s*'node',\s*version:\s*'(\d+)'\s*\}/.exec(bicep)?.[1];
    expect(azure).toBe('22');
    const ci = /^NODE22_VERSION=(\d+)\.(\d+)\.(\d+)$/m.exec(readRepoFile('.ci/run')!);
    expect(ci?.[1]).toBe(azure);
    const engines = (JSON.parse(readRepoFile('package.json')!) as { engines: { node: string } }).engines.node;
    // The range admits the Node 20 of the development box and the Node that Azure runs.
    expect(engines).toMatch(/\^20\.19\.0/);
    expect(engines).toMatch(new RegExp(`>=${azure}\\.0\\.0`));
  });
});
