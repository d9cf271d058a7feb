// The audit trail against a real Azurite: chain integrity, tampering detection, idempotency,
// concurrency and Azure's entity limits.
import { describe, it, expect } from 'vitest';
import {
  AuditConfigError, AuditConflictError, AuditInputError, AuditRunNotFoundError,
  GENESIS_HASH, MAX_STRING_CHARS, chainHasher, encodeEntry, entryRowKey, keyRowKey, type AuditEntry,
} from '../../shared/audit/index.js';
import { HMAC_KEY, at, freshTrail, rawTable, runEntries, seedRun } from './helpers.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { createAuditTrail } from '../../shared/audit/index.js';
import { payloadOf } from '../../shared/audit/payloads.js';
import { blobService } from '../../shared/storage/connection.js';

const RUN = 'run-2025-03-01-failover';
type Row = Record<string, unknown> & { partitionKey: string; rowKey: string };

async function row(trail: ReturnType<typeof freshTrail>, rk: string): Promise<Row> {
  const { etag: _etag, timestamp: _ts, ...rest } = await rawTable(trail).getEntity<Record<string, unknown>>(RUN, rk);
  return rest as Row;
}

describe('audit trail: a clean run', () => {
  it('chains 20 entries in order, verifies, and exports them as JSON lines', async () => {
    const trail = freshTrail();
    await seedRun(trail, RUN, 20);
    const entries = await trail.readRun(RUN);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(entries[0].prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < entries.length; i++) expect(entries[i].prevHash).toBe(entries[i - 1].hash);
    expect(entries.map((e) => e.key)).toEqual(runEntries(20).map((e) => e.key));

    const report = await trail.verify(RUN);
    expect(report).toMatchObject({ ok: true, entries: 20, problems: [], head: { count: 20, lastHash: entries[19].hash, alg: 'sha256' } });

    const lines = (await trail.exportRun(RUN)).trimEnd().split('\n');
    expect(lines).toHaveLength(20);
    expect(lines.map((l) => JSON.parse(l) as AuditEntry)).toEqual(entries);
  });

  it('keeps runs apart: each partition has its own chain', async () => {
    const trail = freshTrail();
    await trail.append('run-a', 'run', runEntries(1)[0].entry);
    await trail.append('run-b', 'run', runEntries(1)[0].entry);
    const [a, b] = [await trail.readRun('run-a'), await trail.readRun('run-b')];
    expect(a[0].seq).toBe(1);
    expect(b[0].seq).toBe(1);
    expect(a[0].hash).not.toBe(b[0].hash); // runId is hashed: an entry cannot be moved between runs
  });

  it('reports an unknown run as such, not as an empty intact chain', async () => {
    const trail = freshTrail();
    await seedRun(trail, RUN, 2);
    await expect(trail.verify('no-such-run')).rejects.toBeInstanceOf(AuditRunNotFoundError);
    await expect(trail.readRun('no-such-run')).rejects.toBeInstanceOf(AuditRunNotFoundError);
  });
});

describe('audit trail: tampering done directly in the table is detected and named', () => {
  async function tampered(tamper: (trail: ReturnType<typeof freshTrail>) => Promise<void>, opts: { hmacKey?: string } = {}) {
    const trail = freshTrail(opts);
    await seedRun(trail, RUN, 20);
    expect((await trail.verify(RUN)).ok).toBe(true);
    await tamper(trail);
    return trail.verify(RUN);
  }

  it('an altered data field: altered, at that seq only', async () => {
    const report = await tampered(async (trail) => {
      const r = await row(trail, entryRowKey(5));
      await rawTable(trail).updateEntity({ ...r, data: String(r.data).replace('"approve"', '"reject"') }, 'Replace');
    });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ type: 'altered', seq: 5 })]);
    expect(report.problems[0].message).toMatch(/does not match its hash/);
  });

  it('an altered entry whose hash was recomputed: altered, because its successor remembers the old hash', async () => {
    const report = await tampered(async (trail) => {
      const r = await row(trail, entryRowKey(5));
      const e = { ...(await trail.readRun(RUN))[4], actor: 'user:mallory@contoso.com' };
      const hash = chainHasher().hash(e);
      await rawTable(trail).updateEntity({ ...r, actor: e.actor, hash }, 'Replace');
    });
    expect(report.problems).toEqual([expect.objectContaining({ type: 'altered', seq: 5 })]);
    expect(report.problems[0].message).toMatch(/re-hashed: entry 6 records a different hash/);
  });

  it('a deleted entry: deleted, at that seq (a gap)', async () => {
    const report = await tampered(async (trail) => { await rawTable(trail).deleteEntity(RUN, entryRowKey(8)); });
    expect(report.problems).toEqual([expect.objectContaining({ type: 'deleted', seq: 8 })]);
    expect(report.entries).toBe(19);
  });

  it('a deleted last entry: deleted, because the head still counts it', async () => {
    const report = await tampered(async (trail) => { await rawTable(trail).deleteEntity(RUN, entryRowKey(20)); });
    expect(report.problems).toEqual([expect.objectContaining({ type: 'deleted', seq: 20 })]);
    expect(report.problems[0].message).toMatch(/head records 20/);
  });

  it('a forged entry with a correctly computed hash and key row: inserted, beyond the head', async () => {
    const report = await tampered(async (trail) => {
      const last = (await trail.readRun(RUN))[19];
      const forged = { runId: RUN, seq: 21, key: 'manual:confirm', kind: 'manual-confirmed', actor: 'user:mallory@contoso.com', at: at(62), data: { ok: true }, prevHash: last.hash };
      const entry = { ...forged, hash: chainHasher().hash(forged), alg: 'sha256' as const };
      await rawTable(trail).createEntity(encodeEntry(entry));
      await rawTable(trail).createEntity({ partitionKey: RUN, rowKey: keyRowKey(entry.key), seq: 21, hash: entry.hash });
    });
    expect(report.problems).toEqual([expect.objectContaining({ type: 'inserted', seq: 21 })]);
    expect(report.problems[0].message).toMatch(/beyond the head/);
  });

  it('a row outside the layout: inserted', async () => {
    const report = await tampered(async (trail) => {
      await rawTable(trail).createEntity({ ...(await row(trail, entryRowKey(7))), rowKey: '0000000007b' });
    });
    expect(report.problems).toEqual([expect.objectContaining({ type: 'inserted', rowKey: '0000000007b' })]);
  });

  it('two entries swapped wholesale: reordered, at both seqs and nowhere else', async () => {
    const report = await tampered(async (trail) => {
      const [a, b] = [await row(trail, entryRowKey(3)), await row(trail, entryRowKey(7))];
      await rawTable(trail).updateEntity({ ...b, rowKey: a.rowKey }, 'Replace');
      await rawTable(trail).updateEntity({ ...a, rowKey: b.rowKey }, 'Replace');
    });
    expect(report.problems).toEqual([
      expect.objectContaining({ type: 'reordered', seq: 3, message: expect.stringMatching(/row 3 holds entry 7/) }),
      expect.objectContaining({ type: 'reordered', seq: 7, message: expect.stringMatching(/row 7 holds entry 3/) }),
    ]);
  });

  it('two entries\' contents swapped with the seq left in place: still reordered, not merely altered', async () => {
    const report = await tampered(async (trail) => {
      const [a, b] = [await row(trail, entryRowKey(3)), await row(trail, entryRowKey(7))];
      await rawTable(trail).updateEntity({ ...b, rowKey: a.rowKey, seq: 3 }, 'Replace');
      await rawTable(trail).updateEntity({ ...a, rowKey: b.rowKey, seq: 7 }, 'Replace');
    });
    expect(report.problems).toEqual([
      expect.objectContaining({ type: 'reordered', seq: 3, message: expect.stringMatching(/content of entry 7/) }),
      expect.objectContaining({ type: 'reordered', seq: 7, message: expect.stringMatching(/content of entry 3/) }),
    ]);
  });

  it('a deleted key index row: deleted, naming the key', async () => {
    const report = await tampered(async (trail) => { await rawTable(trail).deleteEntity(RUN, keyRowKey('gate:main:vote:bob')); });
    expect(report.problems).toEqual([expect.objectContaining({ type: 'deleted', seq: 5, rowKey: 'key:gate:main:vote:bob' })]);
  });

  it('a whitespace-only edit of the data: altered (the stored text must stay canonical)', async () => {
    const report = await tampered(async (trail) => {
      const r = await row(trail, entryRowKey(2));
      await rawTable(trail).updateEntity({ ...r, data: ` ${String(r.data)}` }, 'Replace');
    });
    expect(report.problems).toEqual([expect.objectContaining({ type: 'altered', seq: 2 })]);
  });

  // Without a key, whoever can write the table can also recompute every hash and the head: the
  // chain alone cannot tell. Added after the run's end, the anchor outside the table catches it
  // (anchor.test.ts pins what it cannot catch); the HMAC catches it in the chain itself.
  async function completeForgery(trail: ReturnType<typeof freshTrail>) {
    const head = await rawTable(trail).getEntity<Record<string, unknown>>(RUN, 'head');
    const last = (await trail.readRun(RUN))[19];
    const forged = { runId: RUN, seq: 21, key: 'manual:confirm', kind: 'manual-confirmed', actor: 'user:mallory@contoso.com', at: at(62), data: { ok: true }, prevHash: last.hash };
    const entry = { ...forged, hash: chainHasher().hash(forged), alg: last.alg };
    await rawTable(trail).createEntity(encodeEntry(entry));
    await rawTable(trail).createEntity({ partitionKey: RUN, rowKey: keyRowKey(entry.key), seq: 21, hash: entry.hash });
    await rawTable(trail).updateEntity({ partitionKey: RUN, rowKey: 'head', count: 21, lastHash: entry.hash, alg: head.alg as string }, 'Replace');
  }

  it('plain SHA-256 chain: a forgery that rewrites entry, key row and head passes the chain, and only the anchored run end shows it', async () => {
    const report = await tampered(completeForgery);
    expect(report.problems).toEqual([expect.objectContaining({ type: 'inserted', seq: 21, message: expect.stringMatching(/comes after the run's end, and the app writes nothing there but lock releases: the anchor holds entry 20/) })]);
  });

  it('HMAC chain: the same complete forgery is detected, because the forger lacks the key', async () => {
    const report = await tampered(completeForgery, { hmacKey: HMAC_KEY });
    expect(report.problems).toEqual([expect.objectContaining({ type: 'altered', seq: 21, message: expect.stringMatching(/HMAC/) })]);
  });

  it('HMAC chain: a verifier without the key refuses to judge instead of reporting tampering', async () => {
    const keyed = freshTrail({ hmacKey: HMAC_KEY });
    await seedRun(keyed, RUN, 3);
    const unkeyed = freshTrail({ tableName: keyed.tableName });
    await expect(unkeyed.verify(RUN)).rejects.toBeInstanceOf(AuditConfigError);
    await expect(unkeyed.append(RUN, 'x', runEntries(1)[0].entry)).rejects.toBeInstanceOf(AuditConfigError);
  });
});

describe('audit trail: idempotent append', () => {
  it('the same key appended twice yields one entry, and the second call returns it', async () => {
    const trail = freshTrail();
    const [first] = runEntries(1);
    const a = await trail.append(RUN, first.key, first.entry);
    // Key order and an explicit undefined do not make the content different.
    const b = await trail.append(RUN, first.key, { ...first.entry, data: { to: 'pool02.contoso.com', from: 'pool01.contoso.com', scenario: 'pool-failover', note: undefined } });
    expect(b).toEqual(a);
    expect(await trail.readRun(RUN)).toHaveLength(1);
  });

  it('the same key with different content is an error, and nothing is written', async () => {
    const trail = freshTrail();
    const [first, second] = runEntries(2);
    await trail.append(RUN, first.key, first.entry);
    await trail.append(RUN, second.key, second.entry);
    const err = await trail.append(RUN, first.key, { ...first.entry, data: { scenario: 'site-failover' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditConflictError);
    expect((err as AuditConflictError).differences).toEqual(['data']);
    expect((err as Error).message).toMatch(/already audited as entry 1/);
    await expect(trail.append(RUN, first.key, { ...first.entry, actor: 'user:other@contoso.com' })).rejects.toThrow(/different actor/);
    expect(await trail.readRun(RUN)).toHaveLength(2);
    expect((await trail.verify(RUN)).ok).toBe(true);
  });
});

describe('audit trail: concurrent appenders', () => {
  it('10 concurrent appenders to one run produce one unbroken chain', async () => {
    const trail = freshTrail();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      trail.append(RUN, `step:s${i}:attempt:1:result`, { kind: 'step-result', actor: `worker:w${i}`, at: at(i), data: { i } })));
    expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const entries = await trail.readRun(RUN);
    for (let i = 1; i < entries.length; i++) expect(entries[i].prevHash).toBe(entries[i - 1].hash);
    expect(await trail.verify(RUN)).toMatchObject({ ok: true, entries: 10, head: { count: 10 } });
  });

  it('10 concurrent redeliveries of one key write it once and all return the same entry', async () => {
    const trail = freshTrail();
    const [first] = runEntries(1);
    const results = await Promise.all(Array.from({ length: 10 }, () => trail.append(RUN, first.key, first.entry)));
    expect(new Set(results.map((r) => r.hash)).size).toBe(1);
    expect(await trail.readRun(RUN)).toHaveLength(1);
  });
});

describe('audit trail: Azure entity limits and input checks', () => {
  it('splits large data so that no string property exceeds 32K characters, and reads it back intact', async () => {
    const trail = freshTrail();
    const output = 'Get-CsPool output line 🙂\n'.repeat(4_000); // ~100K code units, with surrogate pairs
    const e = await trail.append(RUN, 'step:s1:attempt:1:result', { kind: 'step-result', actor: 'worker:dr-01', at: at(1), data: { output } });
    const raw = await row(trail, entryRowKey(e.seq));
    expect(raw.dataParts).toBeGreaterThan(3);
    const lengths = Object.values(raw).filter((v): v is string => typeof v === 'string').map((v) => v.length);
    expect(lengths.length).toBeGreaterThan(3);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(MAX_STRING_CHARS);
    expect((await trail.readRun(RUN))[0].data).toEqual({ output });
    expect((await trail.verify(RUN)).ok).toBe(true);
  });

  it('keeps data too large for one 1 MiB entity in a blob, bound to the chain by its SHA-256, and verify checks the blob', async () => {
    const trail = freshTrail();
    const big = { output: 'x'.repeat(600_000) };
    const entry = await trail.append(RUN, 'step:s1:attempt:1:result', { kind: 'step-result', actor: 'worker:dr-01', at: at(1), data: big });
    const ref = payloadOf(entry.data);
    expect(ref, JSON.stringify(entry.data).slice(0, 200)).toMatchObject({ container: 'lyncdr-audit', chars: JSON.stringify(big).length });
    expect(ref!.sha256).toMatch(/^[0-9a-f]{64}$/);
    // A repeat of the same append is the same entry (content-addressed blob, same reference).
    expect((await trail.append(RUN, 'step:s1:attempt:1:result', { kind: 'step-result', actor: 'worker:dr-01', at: at(1), data: big })).seq).toBe(entry.seq);
    expect(await trail.readPayload(ref!)).toEqual(big);
    expect((await trail.verify(RUN)).ok).toBe(true);
    // Tampering with the blob is found by verify, and the payload is refused when read.
    const blob = blobService(azurite()).getContainerClient(ref!.container).getBlockBlobClient(ref!.blob);
    const altered = JSON.stringify({ output: 'y'.repeat(600_000) });
    await blob.upload(altered, altered.length);
    const report = await trail.verify(RUN);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.message).join('; ')).toMatch(/payload blob .* was altered/);
    await expect(trail.readPayload(ref!)).rejects.toThrow(/altered/);
    await blob.delete();
    expect((await trail.verify(RUN)).problems.map((p) => p.message).join('; ')).toMatch(/payload blob .* is missing/);
  });

  it('rejects keys, run ids, kinds and data that cannot be stored faithfully', async () => {
    const trail = freshTrail();
    const ok = runEntries(1)[0].entry;
    await expect(trail.append(RUN, 'step/1', ok)).rejects.toThrow(/entry key/);
    await expect(trail.append('run#1', 'k', ok)).rejects.toThrow(/run id/);
    await expect(trail.append(RUN, 'k'.repeat(401), ok)).rejects.toBeInstanceOf(AuditInputError);
    await expect(trail.append(RUN, 'k', { ...ok, kind: 'made-up' as never })).rejects.toThrow(/kind/);
    await expect(trail.append(RUN, 'k', { ...ok, at: 'yesterday' })).rejects.toThrow(/at/);
    await expect(trail.append(RUN, 'k', { ...ok, data: { rto: NaN } })).rejects.toThrow(/\$\.rto: NaN/);
    await expect(trail.append(RUN, 'k', { ...ok, data: { when: new Date() } })).rejects.toThrow(/Date/);
    await expect(trail.readRun(RUN)).rejects.toBeInstanceOf(AuditRunNotFoundError);
  });
});

describe('audit trail: the head a writer remembers', () => {
  it('two writers taking turns on one run (each holding a stale head) keep one unbroken chain', async () => {
    const a = freshTrail();
    const b = freshTrail({ tableName: a.tableName });
    const writers = [a, b, a, a, b, b, a, b];
    for (const [i, w] of writers.entries()) await w.append(RUN, `step:s${i}:attempt:1:result`, { kind: 'step-result', actor: 'worker:w', at: at(i), data: { i } });
    // A repeat through the writer whose head is stale still finds the entry it wrote.
    const again = await a.append(RUN, 'step:s1:attempt:1:result', { kind: 'step-result', actor: 'worker:w', at: at(1), data: { i: 1 } });
    expect(again.seq).toBe(2);
    const entries = await a.readRun(RUN);
    expect(entries.map((e) => e.data)).toEqual(writers.map((_, i) => ({ i })));
    expect(await b.verify(RUN)).toMatchObject({ ok: true, entries: writers.length, head: { count: writers.length } });
  });

  it('a writer that appended last goes straight to the transaction: one request per append', async () => {
    const { proxyTo } = await import('./counting-proxy.js');
    const proxy = await proxyTo(azurite());
    try {
      const trail = createAuditTrail({ connectionString: proxy.connectionString, tableName: uniqueName('audit') });
      await trail.append(RUN, 'first', runEntries(1)[0].entry); // creates the table, reads, commits
      const before = proxy.requests();
      for (let i = 0; i < 5; i++) await trail.append(RUN, `step:s${i}:attempt:1:result`, { kind: 'step-result', actor: 'worker:w', at: at(i), data: { i } });
      expect(proxy.requests() - before).toBe(5);
      expect((await trail.verify(RUN)).ok).toBe(true);
      // Someone else moved the head: the next append pays one failed transaction and a re-read, and forks nothing.
      const other = createAuditTrail({ connectionString: azurite(), tableName: trail.tableName });
      await other.append(RUN, 'other', { kind: 'step-result', actor: 'worker:x', at: at(9), data: {} });
      const mid = proxy.requests();
      const e = await trail.append(RUN, 'after', { kind: 'step-result', actor: 'worker:w', at: at(10), data: {} });
      expect(e.seq).toBe(8);
      expect(proxy.requests() - mid).toBe(4);
      expect(await trail.verify(RUN)).toMatchObject({ ok: true, entries: 8 });
    } finally {
      await proxy.close();
    }
  });
});
