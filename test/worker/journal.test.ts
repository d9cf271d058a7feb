import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileJournal, journalKey } from '../../worker/journal.js';
import type { CommandMessage, ResultMessage } from '../../shared/messages.js';

const SENT = new Date().toISOString();
const cmd = (commandId: string): CommandMessage => ({
  v: 1, commandId, runId: 'r', stepId: 's', site: 'west', invocation: { name: 'x', params: {} },
  mode: 'drill', timeoutMs: 1000, sentAt: SENT,
});
const result = (commandId: string): ResultMessage => ({
  v: 1, commandId, runId: 'r', stepId: 's', site: 'west', workerId: 'w', status: 'succeeded',
  finishedAt: SENT, duplicate: false, output: { ok: true },
});
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'lyncdr-journal-'));

describe('FileJournal', () => {
  it('claims a command once; the second claim sees it started', async () => {
    const j = await FileJournal.open(tmp());
    expect(await j.claim(cmd('a'), 'w')).toEqual({ claimed: true });
    const second = await j.claim(cmd('a'), 'w2');
    expect(second).toEqual({
      claimed: false,
      existing: { state: 'started', started: { commandId: 'a', startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), workerId: 'w', pid: process.pid, command: cmd('a') } },
    });
  });

  it('concurrent claims of one command: exactly one wins', async () => {
    const j = await FileJournal.open(tmp());
    const claims = await Promise.all(Array.from({ length: 10 }, () => j.claim(cmd('race'), 'w')));
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
  });

  it('a recorded result survives reopening the journal (a worker restart)', async () => {
    const dir = tmp();
    const j = await FileJournal.open(dir);
    await j.claim(cmd('b'), 'w');
    await j.recordResult(result('b'));
    const reopened = await FileJournal.open(dir);
    const entry = await reopened.lookup('b');
    expect(entry).toMatchObject({ state: 'finished', result: { commandId: 'b', output: { ok: true } }, started: { commandId: 'b', workerId: 'w' } });
    expect(await reopened.lookup('unknown')).toBeUndefined();
  });

  it('a torn started file still counts as started, and stale temp files are removed', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, `${journalKey('torn')}.started.json`), '{"commandId":');
    writeFileSync(path.join(dir, `${journalKey('torn')}.result.json.123.tmp`), '{');
    const j = await FileJournal.open(dir);
    expect((await j.lookup('torn'))?.state).toBe('started');
    expect(readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
  });

  it('keys a command by the first 40 hex digits of the SHA-256 of its id', () => {
    expect(journalKey('cmd-1')).toBe(createHash('sha256').update('cmd-1').digest('hex').slice(0, 40));
    expect(journalKey('cmd-1')).toMatch(/^[0-9a-f]{40}$/);
  });

  it('writes the claim and the result as JSON files named by the key, leaving no temp file', async () => {
    const dir = tmp();
    const j = await FileJournal.open(path.join(dir, 'nested', 'journal'));
    expect(j.dir).toBe(path.join(dir, 'nested', 'journal'));
    await j.claim(cmd('c'), 'w');
    const key = journalKey('c');
    expect(JSON.parse(readFileSync(path.join(j.dir, `${key}.started.json`), 'utf8'))).toMatchObject({ commandId: 'c', workerId: 'w', pid: process.pid, command: cmd('c') });
    await j.recordResult(result('c'));
    expect(JSON.parse(readFileSync(path.join(j.dir, `${key}.result.json`), 'utf8'))).toEqual(result('c'));
    expect(readdirSync(j.dir).sort()).toEqual([`${key}.result.json`, `${key}.started.json`]);
  });

  it('a second claim of a finished command returns its result', async () => {
    const j = await FileJournal.open(tmp());
    await j.claim(cmd('d'), 'w');
    await j.recordResult(result('d'));
    expect(await j.claim(cmd('d'), 'w')).toMatchObject({ claimed: false, existing: { state: 'finished', result: result('d'), started: { commandId: 'd' } } });
  });

  it('a result without a started file is finished; a started file that is not a record is started with no record', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, `${journalKey('e')}.result.json`), JSON.stringify(result('e')));
    writeFileSync(path.join(dir, `${journalKey('f')}.started.json`), JSON.stringify({ commandId: 'f' }));
    const j = await FileJournal.open(dir);
    expect(await j.lookup('e')).toEqual({ state: 'finished', started: undefined, result: result('e') });
    expect(await j.lookup('f')).toEqual({ state: 'started', started: undefined });
  });

  it('opening removes only temp files', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, `${journalKey('g')}.started.json`), '{}');
    writeFileSync(path.join(dir, 'x.result.json.1.tmp'), '{');
    writeFileSync(path.join(dir, 'y.result.json.2.tmp'), '{');
    await FileJournal.open(dir);
    expect(readdirSync(dir)).toEqual([`${journalKey('g')}.started.json`]);
  });

  it('refuses a malformed result, and reports storage errors other than a missing file', async () => {
    const dir = tmp();
    const j = await FileJournal.open(dir);
    await expect(j.recordResult({ ...result('h'), status: 'fine' } as unknown as ResultMessage)).rejects.toThrow(/status/);
    await expect(j.lookup('h')).resolves.toBeUndefined();
    mkdirSync(path.join(dir, `${journalKey('i')}.started.json`));
    await expect(j.lookup('i')).rejects.toMatchObject({ code: 'EISDIR' });
    rmSync(dir, { recursive: true });
    await expect(j.claim(cmd('k'), 'w')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('closes every file and directory it opens: after a claim, a result and a second claim, no descriptor of this process points into the journal', async () => {
    const dir = realpathSync(tmp());
    // What this process holds open, from the kernel's table (Linux): the descriptors whose target lies in the journal folder.
    const openInJournal = () => readdirSync('/proc/self/fd').flatMap((fd) => {
      try { return [readlinkSync(`/proc/self/fd/${fd}`)]; } catch { return []; }
    }).filter((target) => target === dir || target.startsWith(`${dir}/`));
    const j = await FileJournal.open(dir);
    expect(await j.claim(cmd('fd'), 'w')).toEqual({ claimed: true });
    await j.recordResult(result('fd'));
    expect((await j.claim(cmd('fd'), 'w')).claimed).toBe(false);
    expect(openInJournal()).toEqual([]);
  });
});
