// The trail's anchor (issue 10 §4) against a real Azurite: the table and the append blob outside
// it. Each tamper class a writer with table access can try, and what verify says of it; and what
// the anchor cannot catch, pinned so nobody overstates it.
import { describe, it, expect } from 'vitest';
import { odata } from '@azure/data-tables';
import {
  DEFAULT_ANCHOR_CONTAINER, chainHasher, encodeEntry, entryRowKey, keyRowKey, type AuditEntry,
} from '../../shared/audit/index.js';
import { blobService } from '../../shared/storage/connection.js';
import { azurite } from '../support/azurite.js';
import { HMAC_KEY, at, freshTrail, rawTable, runEntries, seedRun } from './helpers.js';

const RUN = 'run-2025-03-01-anchored';
type Trail = ReturnType<typeof freshTrail>;

const anchorBlob = (trail: Trail, runId = RUN) =>
  blobService(azurite()).getContainerClient(DEFAULT_ANCHOR_CONTAINER).getAppendBlobClient(`${trail.tableName}/${runId}.jsonl`);
const anchorLines = async (trail: Trail) => (await anchorBlob(trail).downloadToBuffer()).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l));

/** Cuts the trail after entry `keep` and writes a head that matches what is left (what a tamperer does). */
async function truncate(trail: Trail, keep: number, hmacKey?: string): Promise<void> {
  const entries = await trail.readRun(RUN);
  for (const e of entries.filter((x) => x.seq > keep)) {
    await rawTable(trail).deleteEntity(RUN, entryRowKey(e.seq));
    await rawTable(trail).deleteEntity(RUN, keyRowKey(e.key));
  }
  const last = entries[keep - 1];
  await rawTable(trail).updateEntity({ partitionKey: RUN, rowKey: 'head', count: keep, lastHash: last.hash, alg: hmacKey ? 'hmac-sha256' : 'sha256' }, 'Replace');
}

/** Rewrites entry `seq` and re-hashes it, every later entry and the head: a complete forgery of a plain chain. */
async function rewriteFrom(trail: Trail, seq: number, change: (e: AuditEntry) => AuditEntry): Promise<void> {
  const entries = await trail.readRun(RUN);
  const hasher = chainHasher();
  let prev = entries[seq - 2]?.hash;
  for (const e of entries.filter((x) => x.seq >= seq)) {
    const base = e.seq === seq ? change(e) : e;
    const unsigned = { ...base, prevHash: prev ?? base.prevHash };
    const next = { ...unsigned, hash: hasher.hash(unsigned), alg: 'sha256' as const };
    await rawTable(trail).updateEntity(encodeEntry(next), 'Replace');
    await rawTable(trail).updateEntity({ partitionKey: RUN, rowKey: keyRowKey(next.key), seq: next.seq, hash: next.hash }, 'Replace');
    prev = next.hash;
  }
  await rawTable(trail).updateEntity({ partitionKey: RUN, rowKey: 'head', count: entries.length, lastHash: prev!, alg: 'sha256' }, 'Replace');
}

describe('the anchor: written at the run declared, each gate decided and the run end', () => {
  it('anchors exactly those entries, with their position and hash; a clean run verifies against it', async () => {
    const trail = freshTrail();
    await seedRun(trail, RUN, 20);
    const entries = await trail.readRun(RUN);
    const lines = await anchorLines(trail);
    expect(lines.map((l) => [l.seq, l.kind, l.hash])).toEqual(
      entries.filter((e) => ['run-declared', 'gate-decided', 'run-completed'].includes(e.kind)).map((e) => [e.seq, e.kind, e.hash]));
    expect(lines.map((l) => l.seq)).toEqual([1, 6, 20]);
    const report = await trail.verify(RUN);
    expect(report).toMatchObject({ ok: true, problems: [], anchor: { lines: 3, ended: true, last: { seq: 20, kind: 'run-completed' } } });
  });

  it('a repeated append (a retried activity) anchors again with an equal line, and verify still passes', async () => {
    const trail = freshTrail();
    await seedRun(trail, RUN, 6);
    const again = runEntries(6)[5];
    await trail.append(RUN, again.key, again.entry);
    const lines = await anchorLines(trail);
    expect(lines.map((l) => l.seq)).toEqual([1, 6, 6]);
    expect(lines[1]).toEqual(lines[2]);
    expect(await trail.verify(RUN)).toMatchObject({ ok: true, anchor: { lines: 3, ended: false, last: { seq: 6 } } });
  });
});

describe('the anchor: tampering the chain alone cannot show', () => {
  it('a finished run cut after entry 12, with its head rewritten: the chain looks whole, the anchor names entries 13 to 20 as missing', async () => {
    const trail = freshTrail();
    await seedRun(trail, RUN, 20);
    await truncate(trail, 12);
    const report = await trail.verify(RUN);
    expect(report.ok).toBe(false);
    expect(report.head).toMatchObject({ count: 12 });
    expect(report.problems).toEqual([expect.objectContaining({ type: 'deleted', seq: 13, message: expect.stringMatching(/entries 13 to 20 are missing: the table's trail ends at entry 12 and its head row says 12, but the anchor holds entry 20 \(run-completed, key completed\), anchored when it was written at /) })]);
  });

  it('the same cut with an HMAC chain (the tamperer has no key to forge entries, only to delete): detected the same way', async () => {
    const trail = freshTrail({ hmacKey: HMAC_KEY });
    await seedRun(trail, RUN, 20);
    await truncate(trail, 12, HMAC_KEY);
    const report = await trail.verify(RUN);
    expect(report.problems).toEqual([expect.objectContaining({ type: 'deleted', seq: 13 })]);
    expect((await anchorLines(trail)).every((l) => l.alg === 'hmac-sha256')).toBe(true);
  });

  it('the whole partition deleted: not "no such run" but the trail named as gone, with what the anchor holds', async () => {
    const trail = freshTrail();
    await seedRun(trail, RUN, 20);
    for await (const r of rawTable(trail).listEntities({ queryOptions: { filter: odata`PartitionKey eq ${RUN}` } })) {
      await rawTable(trail).deleteEntity(RUN, r.rowKey!);
    }
    const report = await trail.verify(RUN);
    expect(report).toMatchObject({ ok: false, entries: 0, head: null, anchor: { ended: true } });
    expect(report.problems).toEqual([expect.objectContaining({ type: 'deleted', message: expect.stringMatching(/whole trail is gone from the table: its anchor records 20 entries/) })]);
  });

  it('a plain chain rewritten from entry 3 on and re-hashed to the end (undetectable by the chain): the anchored entries 6 and 20 are not what the table holds', async () => {
    const trail = freshTrail();
    await seedRun(trail, RUN, 20);
    await rewriteFrom(trail, 3, (e) => ({ ...e, data: { required: 1 } }));
    const report = await trail.verify(RUN);
    expect(report.problems.map((p) => [p.type, p.seq])).toEqual([['altered', 6], ['altered', 20]]);
    expect(report.problems[0].message).toMatch(/entry 6 \(gate-decided, key gate:main:decided\), anchored when it was written at .*, is not the entry the table holds there/);
  });

  it('a complete forgery appended after the run ended (entry, key row and head): inserted after the anchored end', async () => {
    const trail = freshTrail();
    await seedRun(trail, RUN, 20);
    const last = (await trail.readRun(RUN))[19];
    const forged = { runId: RUN, seq: 21, key: 'manual:confirm', kind: 'manual-confirmed', actor: 'user:mallory@contoso.com', at: at(62), data: { ok: true }, prevHash: last.hash };
    const entry = { ...forged, hash: chainHasher().hash(forged), alg: 'sha256' as const };
    await rawTable(trail).createEntity(encodeEntry(entry));
    await rawTable(trail).createEntity({ partitionKey: RUN, rowKey: keyRowKey(entry.key), seq: 21, hash: entry.hash });
    await rawTable(trail).updateEntity({ partitionKey: RUN, rowKey: 'head', count: 21, lastHash: entry.hash, alg: 'sha256' }, 'Replace');
    const report = await trail.verify(RUN);
    expect(report.problems).toEqual([expect.objectContaining({ type: 'inserted', seq: 21, message: expect.stringMatching(/entry 21 comes after the run's end, and the app writes nothing there but lock releases/) })]);
  });

  it('an anchor line forged by someone without the HMAC key is named, and does not vouch for anything', async () => {
    const trail = freshTrail({ hmacKey: HMAC_KEY });
    await seedRun(trail, RUN, 6);
    const forged = JSON.stringify({ ...(await anchorLines(trail))[1], seq: 7, kind: 'run-completed' }) + '\n';
    await anchorBlob(trail).appendBlock(forged, Buffer.byteLength(forged));
    const report = await trail.verify(RUN);
    expect(report.problems).toEqual([expect.objectContaining({ type: 'altered', rowKey: 'anchor', message: expect.stringMatching(/anchor line 3 \(entry 7\) does not match its HMAC/) })]);
    expect(report.anchor).toMatchObject({ lines: 3, ended: false, last: { seq: 6 } });
  });

  // The limit, pinned: between anchors, a plain chain can still be rewritten by whoever writes the
  // table. A run still going (last anchored at its gate, entry 6) forged from entry 10 on verifies.
  it('limit: a plain chain rewritten after its last anchor, while the run has not ended, still verifies (only an HMAC key stops that)', async () => {
    const trail = freshTrail();
    for (const { key, entry } of runEntries(20).slice(0, 18)) await trail.append(RUN, key, entry);
    await rewriteFrom(trail, 10, (e) => ({ ...e, actor: 'user:mallory@contoso.com' }));
    expect(await trail.verify(RUN)).toMatchObject({ ok: true, anchor: { ended: false, last: { seq: 6 } } });
  });
});

describe('the anchor: what the app itself writes after a run ended', () => {
  it('a stale lock released by another run, recorded in the ended run\'s trail, is not tampering', async () => {
    const trail = freshTrail();
    await seedRun(trail, RUN, 20);
    await trail.append(RUN, 'lock:site:east:released-by:run-2', { kind: 'lock-released', actor: 'lyncdr', at: at(90), data: { lock: 'site:east' } });
    expect(await trail.verify(RUN)).toMatchObject({ ok: true, entries: 21, anchor: { ended: true, last: { seq: 20 } } });
  });
});
