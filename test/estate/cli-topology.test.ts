// The real binary as a child process: build once, then run `node dist/cli/lyncdr.js`.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(root, 'dist/cli/lyncdr.js');
const sample = path.join(root, 'examples/estate.sample.yaml');
let dir: string;

function lyncdr(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

beforeAll(() => {
  if (!existsSync(bin)) throw new Error('build did not produce dist/cli/lyncdr.js');
  dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-cli-'));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lyncdr topology validate', () => {
  it('has a node shebang', () => {
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('prints a summary and exits 0 for a valid estate', async () => {
    const r = await lyncdr('topology', 'validate', sample);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid');
    expect(r.stdout).toContain('pool eepool1.contoso.com [Enterprise] in East');
  });

  it('--json prints the summary as JSON', async () => {
    const r = await lyncdr('topology', 'validate', sample, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, summary: { version: 'lync2013', persistentChat: { capacity: 80_000 } } });
  });

  it('lists every problem with its path and exits 1', async () => {
    const t = parse(readFileSync(sample, 'utf8'));
    t.frontEndPools[1].site = 'East';
    t.edgePools[0].nextHop = 'gone.contoso.com';
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(file, stringify(t));
    const r = await lyncdr('topology', 'validate', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('frontEndPools[0].backupPool: the backup pool must be in another site');
    expect(r.stdout).toContain('edgePools[0].nextHop: unknown Front End pool gone.contoso.com');
    const j = await lyncdr('topology', 'validate', file, '--json');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout).problems.map((p: { path: string }) => p.path)).toEqual(expect.arrayContaining(['frontEndPools[0].backupPool', 'edgePools[0].nextHop']));
  });

  it('exits 2 with a clear error for a missing or unparseable file', async () => {
    const missing = await lyncdr('topology', 'validate', path.join(dir, 'nope.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.yaml: ENOENT/);
    const garbled = path.join(dir, 'garbled.json');
    writeFileSync(garbled, '{ "version": ');
    const bad = await lyncdr('topology', 'validate', garbled);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/cannot parse .*garbled\.json/);
  });
});
