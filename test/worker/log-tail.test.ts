// Issue 12 §2, §7: the worker finds mgc's unapplied log backups itself and restores the list it
// kept, in order WITH NORECOVERY, against the stateful simulator; a resumed restore skips the
// files restore history shows applied. A share in the lost site is not listed.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Simulator } from '../../worker/simulator/simulator.js';
import { runLogTail } from '../../worker/log-tail.js';
import { loadTopologyFile, parseTopology, type Topology } from '../../shared/topology/index.js';

const SERVER = { sqlServerFqdn: 'pchatsql-west.contoso.com', sqlInstanceName: 'PCHAT' };
const COPY = 'D:\\LogShipping\\mgc';
const SHARE = '\\\\fs-east.contoso.com\\pchat-logship';

async function topology(shareSite?: string): Promise<Topology> {
  const r = await loadTopologyFile(path.resolve(import.meta.dirname, '../../examples/estate.sample.yaml'));
  if (!r.ok) throw new Error('sample topology invalid');
  const t = r.topology;
  const p = parseTopology({ ...t, persistentChat: { ...t.persistentChat!, sql: { ...t.persistentChat!.sql, ...(shareSite ? { backupShareSite: shareSite } : {}) } } });
  if (!p.ok) throw new Error(JSON.stringify(p.problems));
  return p.topology;
}

let n = 0;
async function setup(shareSite?: string) {
  const sim = new Simulator({ dir: mkdtempSync(path.join(os.tmpdir(), 'lyncdr-logtail-')), timeFactor: 0, topology: await topology(shareSite) });
  const kept: Record<string, unknown[]> = {};
  const run = async (name: string, params: Record<string, unknown>) => {
    const r = await runLogTail(sim, { name, params }, { commandId: `lt${++n}`, timeoutMs: 60_000, whatIf: false }, async (k) => kept[k]);
    return r;
  };
  return { sim, kept, run };
}
const names = (out: unknown) => (out as Array<{ Name: string }>).map((f) => f.Name);

describe('the log tail from recorded results', () => {
  it('lists the copy folder and the reachable share after the last restored file, then restores them in order; again, it skips them', async () => {
    const { sim, kept, run } = await setup();
    const all = (await sim.state()).pchatSql!.backupShare.files.map((f) => f.name); // 1-5 restored, 6 copied, 7-8 on the share
    const listed = await run('sql.listUnappliedLogs', { ...SERVER, copyFolder: COPY, backupShare: SHARE });
    expect(listed.status).toBe('succeeded');
    expect(names(listed.output)).toEqual(all.slice(5));
    expect((listed.output as Array<{ Folder: string }>).map((f) => f.Folder)).toEqual([COPY, SHARE, SHARE]);
    kept['pchat.unappliedLogs'] = listed.output as unknown[];

    const restored = await run('sql.restoreRecordedLogs', { ...SERVER, copyFolder: COPY, recorded: 'pchat.unappliedLogs' });
    expect(restored.stderr).toBe('');
    expect(restored.output).toMatchObject(all.slice(5).map((Name) => ({ Name, Restored: 'now' })));
    const sec = (await sim.state()).pchatSql!.secondary;
    expect(sec).toMatchObject({ lastRestoredSeq: 8, mgc: 'RESTORING', recovered: false });

    // Resumed after a crash: restore history shows every file applied; nothing is restored twice.
    const again = await run('sql.restoreRecordedLogs', { ...SERVER, copyFolder: COPY, recorded: 'pchat.unappliedLogs' });
    expect(again.status).toBe('succeeded');
    expect(again.output).toMatchObject(all.slice(5).map((Name) => ({ Name, Restored: 'already' })));
    expect(names((await run('sql.listUnappliedLogs', { ...SERVER, copyFolder: COPY, backupShare: SHARE })).output)).toEqual([]);
  });

  it('East lost with the share in East: the copy folder alone gives the tail; listing the lost share is refused', async () => {
    const { sim, kept, run } = await setup('East');
    await sim.disaster('east');
    const all = (await sim.state()).pchatSql!.backupShare.files.map((f) => f.name);
    const onLost = await run('sql.listUnappliedLogs', { ...SERVER, copyFolder: COPY, backupShare: SHARE });
    expect(onLost.status).toBe('failed');
    expect(onLost.stderr).toMatch(/network path .*fs-east.* was not found/);
    const listed = await run('sql.listUnappliedLogs', { ...SERVER, copyFolder: COPY });
    expect(names(listed.output)).toEqual([all[5]]);
    kept['pchat.unappliedLogs'] = listed.output as unknown[];
    const restored = await run('sql.restoreRecordedLogs', { ...SERVER, copyFolder: COPY, recorded: 'pchat.unappliedLogs' });
    expect(restored.output).toMatchObject([{ Name: all[5], Restored: 'now' }]);
    expect((await sim.state()).pchatSql!.secondary.lastRestoredSeq).toBe(6);
  });

  it('a restore with no kept list is refused', async () => {
    const { run } = await setup();
    const r = await run('sql.restoreRecordedLogs', { ...SERVER, copyFolder: COPY, recorded: 'pchat.unappliedLogs' });
    expect(r.status).toBe('failed');
    expect(r.stderr).toMatch(/kept no list pchat.unappliedLogs/);
  });
});
