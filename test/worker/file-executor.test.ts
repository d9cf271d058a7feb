// The file runner for real, on temp directories standing in for the backup share and the copy folder.
import { describe, it, expect, beforeEach } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileExecutor, pathMapFromEnv } from '../../worker/executors/file.js';
import type { ExecutionResult } from '../../worker/executors/types.js';

const SHARE = '\\\\fs-east.contoso.com\\pchat-logship';
const COPY = 'D:\\LogShipping\\mgc';
let root: string;
let share: string;
let copy: string;
let fx: FileExecutor;
let n = 0;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-files-'));
  share = path.join(root, 'share');
  mkdirSync(share);
  for (const f of ['mgc_20260101000000.trn', 'mgc_20260101001500.trn', 'mgc_20260101003000.trn', 'mgccomp_20260101000000.trn', 'notes.txt']) writeFileSync(path.join(share, f), `bytes of ${f}`);
  fx = new FileExecutor({ pathMap: { [SHARE]: share, 'D:\\LogShipping': path.join(root) }, platform: 'linux' });
  // D:\LogShipping\mgc resolves under the second mapping: <root>/mgc
  mkdirSync(path.join(root, 'mgc'));
  copy = path.join(root, 'mgc');
  writeFileSync(path.join(copy, 'mgc_20260101000000.trn'), 'bytes of mgc_20260101000000.trn');
});

function run(name: string, params: Record<string, unknown>, opts: { whatIf?: boolean; timeoutMs?: number } = {}): Promise<ExecutionResult> {
  return fx.execute({ name, params }, { commandId: `f${++n}`, timeoutMs: opts.timeoutMs ?? 10_000, whatIf: opts.whatIf ?? false });
}

describe('FileExecutor', () => {
  it('lists the log backups of mgc only, with sizes, in name order', async () => {
    const r = await run('file.listLogBackups', { folder: SHARE });
    expect(r.status).toBe('succeeded');
    expect((r.output as Array<{ Name: string }>).map((f) => f.Name)).toEqual(['mgc_20260101000000.trn', 'mgc_20260101001500.trn', 'mgc_20260101003000.trn']);
    expect(r.output).toEqual(expect.arrayContaining([expect.objectContaining({ FullName: `${SHARE}\\mgc_20260101001500.trn`, Length: 'bytes of mgc_20260101001500.trn'.length })]));
  });

  it('copies the files not yet copied, byte for byte, and leaves no temporary files', async () => {
    const files = ['mgc_20260101001500.trn', 'mgc_20260101003000.trn'];
    const r = await run('file.copyLogBackups', { backupShare: SHARE, copyFolder: COPY, files });
    expect(r.status).toBe('succeeded');
    expect(r.output).toEqual(files.map((f) => expect.objectContaining({ Name: f, Destination: `${COPY}\\${f}` })));
    for (const f of files) expect(readFileSync(path.join(copy, f), 'utf8')).toBe(`bytes of ${f}`);
    expect(readdirSync(copy).sort()).toEqual(['mgc_20260101000000.trn', ...files]);
    // Idempotent: copying again overwrites with the same bytes.
    expect((await run('file.copyLogBackups', { backupShare: SHARE, copyFolder: COPY, files })).status).toBe('succeeded');
  });

  it('a missing source file is a precondition failure', async () => {
    const r = await run('file.copyLogBackups', { backupShare: SHARE, copyFolder: COPY, files: ['mgc_20990101000000.trn'] });
    expect(r).toMatchObject({ status: 'failed', errorKind: 'precondition' });
    expect(r.stderr).toMatch(/cannot find path/);
  });

  it('refuses a symlink posing as a log backup', async () => {
    symlinkSync('/etc/passwd', path.join(share, 'mgc_20260101004500.trn'));
    const r = await run('file.copyLogBackups', { backupShare: SHARE, copyFolder: COPY, files: ['mgc_20260101004500.trn'] });
    expect(r).toMatchObject({ status: 'failed', errorKind: 'precondition' });
    expect(readdirSync(copy)).not.toContain('mgc_20260101004500.trn');
  });

  it('a folder with no mapping on a non-Windows worker is not supported', async () => {
    const r = await run('file.listLogBackups', { folder: '\\\\other.contoso.com\\share' });
    expect(r).toMatchObject({ status: 'failed', errorKind: 'not-supported' });
    expect(r.stderr).toMatch(/LYNCDR_FILE_PATH_MAP/);
  });

  it('paths the catalog refuses never reach the file system', async () => {
    const r = await run('file.copyLogBackups', { backupShare: SHARE, copyFolder: COPY, files: ['..\\..\\secret.trn'] });
    expect(r).toMatchObject({ status: 'failed', errorKind: 'precondition', exitCode: null });
    expect(() => fx.resolveFolder('D:\\LogShipping\\..\\x')).toThrow();
  });

  it('what-if lists but does not copy', async () => {
    expect((await run('file.listLogBackups', { folder: SHARE }, { whatIf: true })).status).toBe('succeeded');
    const r = await run('file.copyLogBackups', { backupShare: SHARE, copyFolder: COPY, files: ['mgc_20260101003000.trn'] }, { whatIf: true });
    expect(r.skipped).toBe(true);
    expect(readdirSync(copy)).toEqual(['mgc_20260101000000.trn']);
  });

  it('reads its path map from LYNCDR_FILE_PATH_MAP', () => {
    expect(pathMapFromEnv({ LYNCDR_FILE_PATH_MAP: JSON.stringify({ [SHARE]: '/mnt/share' }) })).toEqual({ [SHARE]: '/mnt/share' });
    expect(pathMapFromEnv({})).toBeUndefined();
    expect(() => pathMapFromEnv({ LYNCDR_FILE_PATH_MAP: '[1]' })).toThrow(/JSON object/);
  });
});

describe('FileExecutor prune (pchat-backup retention)', () => {
  const names = ['pchat-2026-10-31.zip', 'pchat-2026-11-07.zip', 'pchat-2026-11-08.zip', 'pchat-2026-11-21.zip', 'PCHAT-2026-01-01.ZIP',
    'pchat-2026-01-01.zip.bak', 'pchat-notes.zip', 'other-2020-01-01.zip', 'pchat-2020-01-01.txt'];
  beforeEach(() => { for (const f of names) writeFileSync(path.join(share, f), `bytes of ${f}`); });
  const prune = (before: string, keep = 'pchat-2026-11-21.zip') => run('file.pruneExports', { folder: SHARE, prefix: 'pchat-', extension: '.zip', before, keep });

  it('deletes only <prefix>YYYY-MM-DD<extension> dated before the date, lists them, and leaves every other file', async () => {
    const r = await prune('2026-11-08');
    expect(r.status).toBe('succeeded');
    expect(r.output).toEqual([
      { Name: 'PCHAT-2026-01-01.ZIP', FullName: `${SHARE}\\PCHAT-2026-01-01.ZIP`, Date: '2026-01-01' },
      { Name: 'pchat-2026-10-31.zip', FullName: `${SHARE}\\pchat-2026-10-31.zip`, Date: '2026-10-31' },
      { Name: 'pchat-2026-11-07.zip', FullName: `${SHARE}\\pchat-2026-11-07.zip`, Date: '2026-11-07' },
    ]);
    expect(readdirSync(share).filter((f) => !f.endsWith('.trn')).sort()).toEqual(
      ['notes.txt', 'other-2020-01-01.zip', 'pchat-2020-01-01.txt', 'pchat-2026-01-01.zip.bak', 'pchat-2026-11-08.zip', 'pchat-2026-11-21.zip', 'pchat-notes.zip']);
    // Again: nothing more to delete.
    expect(await prune('2026-11-08')).toMatchObject({ status: 'succeeded', output: [] });
  });

  it('leaves a symlink and a folder named like an export', async () => {
    symlinkSync('/etc/hostname', path.join(share, 'pchat-2000-01-01.zip'));
    mkdirSync(path.join(share, 'pchat-2000-01-02.zip'));
    const r = await prune('2001-01-01', 'pchat-2026-11-21.zip');
    expect(r).toMatchObject({ status: 'succeeded', output: [] });
    expect(readdirSync(share)).toEqual(expect.arrayContaining(['pchat-2000-01-01.zip', 'pchat-2000-01-02.zip']));
  });

  it('is skipped in what-if, and refuses a folder no directory is mapped for', async () => {
    expect(await run('file.pruneExports', { folder: SHARE, prefix: 'pchat-', extension: '.zip', before: '2030-01-01', keep: 'pchat-2026-11-21.zip' }, { whatIf: true })).toMatchObject({ status: 'succeeded', skipped: true });
    expect(readdirSync(share)).toEqual(expect.arrayContaining(['pchat-2026-10-31.zip']));
    expect(await run('file.pruneExports', { folder: '\\\\fs-west.contoso.com\\other', prefix: 'pchat-', extension: '.zip', before: '2030-01-01', keep: 'pchat-2026-11-21.zip' }))
      .toMatchObject({ status: 'failed', errorKind: 'not-supported' });
  });

  it('without the night\'s export (it failed and was skipped) nothing is deleted; the export named keep never is', async () => {
    const r = await prune('2030-01-01', 'pchat-2030-01-01.zip');
    expect(r).toMatchObject({ status: 'failed', errorKind: 'precondition', output: null });
    expect(r.stderr).toBe(`${SHARE}\\pchat-2030-01-01.zip is not there: the exports are kept until a new one is`);
    expect(readdirSync(share)).toEqual(expect.arrayContaining(['pchat-2026-10-31.zip', 'pchat-2026-11-21.zip']));
    // keep dated inside what would go (a re-run for an older night) stays; the rest before the date go.
    const again = await prune('2030-01-01', 'pchat-2026-11-08.zip');
    expect((again.output as Array<{ Name: string }>).map((f) => f.Name)).toEqual(['PCHAT-2026-01-01.ZIP', 'pchat-2026-10-31.zip', 'pchat-2026-11-07.zip', 'pchat-2026-11-21.zip']);
    expect(readdirSync(share)).toContain('pchat-2026-11-08.zip');
  });

  it('another prefix or extension is refused before anything is deleted', async () => {
    expect(await run('file.pruneExports', { folder: SHARE, prefix: 'mgc_', extension: '.zip', before: '2030-01-01', keep: 'pchat-2026-11-21.zip' })).toMatchObject({ status: 'failed', errorKind: 'precondition' });
    expect(await run('file.pruneExports', { folder: SHARE, prefix: 'pchat-', extension: '.trn', before: '2030-01-01', keep: 'pchat-2026-11-21.zip' })).toMatchObject({ status: 'failed', errorKind: 'precondition' });
    expect(readdirSync(share)).toEqual(expect.arrayContaining(['mgc_20260101000000.trn', 'pchat-2026-10-31.zip']));
  });
});
