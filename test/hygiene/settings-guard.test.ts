// Issue 14 §3: a test run during which the checkout's local.settings.json changed, appeared or
// disappeared fails, saying so. The nested vitest runs the suite's guard over a stand-in file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileState, settingsChange } from '../support/settings-guard.js';
import { runVitest } from './support.js';

const guarded = (action: string, existing?: string) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-guard-'));
  const file = path.join(dir, 'local.settings.json');
  if (existing !== undefined) writeFileSync(file, existing);
  return { file, run: () => runVitest('settings.vitest.config.ts', { ...process.env, GUARDED_FILE: file, GUARD_ACTION: action }) };
};

describe('the local.settings.json guard', () => {
  it('a test that writes the settings makes the run fail, naming the file; the same run untouched passes', async () => {
    const touched = guarded('write', '{"Values":{}}');
    const bad = await touched.run();
    expect(bad.code, bad.out).toBe(1);
    expect(bad.out).toContain(`${touched.file} was changed while the tests ran`);
    expect(bad.out).toContain('1 passed');

    const untouched = guarded('nothing', '{"Values":{}}');
    const good = await untouched.run();
    expect(good.code, good.out).toBe(0);
    expect(good.out).not.toContain('while the tests ran');
  }, 60_000);

  it('one that creates them (npm start does, on first run) or deletes them fails too', async () => {
    const created = guarded('write');
    const c = await created.run();
    expect(c.code, c.out).toBe(1);
    expect(c.out).toContain(`${created.file} appeared while the tests ran`);
    const deleted = guarded('delete', '{"Values":{}}');
    const d = await deleted.run();
    expect(d.code, d.out).toBe(1);
    expect(d.out).toContain(`${deleted.file} disappeared while the tests ran`);
  }, 60_000);

  it('a rewrite with the same bytes counts (a stack rewrote them), an untouched file does not', () => {
    const { file } = guarded('nothing', '{"Values":{}}');
    const before = fileState(file);
    expect(settingsChange(file, before, fileState(file))).toBeUndefined();
    expect(settingsChange(file, before, { ...before, mtimeMs: before.mtimeMs! + 1000 })).toMatch(/rewritten \(same content, new mtime\)/);
    expect(settingsChange(file, { exists: false }, { exists: false })).toBeUndefined();
  });
});
