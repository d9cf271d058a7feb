import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileJournal, journalKey } from '../../worker/journal.js';
import type { CommandMessage, ResultMessage } from '../../shared/messages.js';

const cmd = (commandId: string): CommandMessage => ({
  v: 1, commandId, runId: 'r', stepId: 's', site: 'west', invocation: { name: 'x', params: {} },
  mode: 'drill', timeoutMs: 1000, sentAt: new Date().toISOString(),
});
const result = (commandId: string): ResultMessage => ({
  v: 1, commandId, runId: 'r', stepId: 's', site: 'west', workerId: 'w', status: 'succeeded',
  finishedAt: new Date().toISOString(), duplicate: false, output: { ok: true },
});
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'lyncdr-journal-'));

describe('FileJournal', () => {
  it('claims a command once; the second claim sees it started', async () => {
    const j = await FileJournal.open(tmp());
    expect(await j.claim(cmd('a'), 'w')).toEqual({ claimed: true });
    const second = await j.claim(cmd('a'), 'w');
    expect(second.claimed).toBe(false);
    if (!second.claimed) expect(second.existing.state).toBe('started');
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
    expect(entry?.state).toBe('finished');
    if (entry?.state === 'finished') expect(entry.result.output).toEqual({ ok: true });
    expect(entry?.started?.command.commandId).toBe('b');
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
});
