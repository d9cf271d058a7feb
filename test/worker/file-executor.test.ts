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
