// Pure parts of the audit trail: canonical form, hashing, splitting, sizing, configuration.
import { describe, it, expect } from 'vitest';
import {
  AuditConfigError, AuditDataError, AuditLimitError, DATA_CHUNK_CHARS, DEFAULT_AUDIT_TABLE, GENESIS_HASH,
  auditConfigFromEnv, auditConnectionString, canonicalStringify, chainHasher, decodeEntry, encodeEntry,
  entitySizeBytes, hashedText, splitText, verifyRows, type AuditEntry, type RawRow,
} from '../../shared/audit/index.js';

describe('canonical serialisation', () => {
  it('sorts keys by code unit at every depth, integer-like keys included', () => {
    expect(canonicalStringify({ b: 1, 10: 'x', 2: 'y', a: { z: [3, { d: 1, c: 2 }], y: null } }))
      .toBe('{"10":"x","2":"y","a":{"y":null,"z":[3,{"c":2,"d":1}]},"b":1}');
  });

  it('drops undefined properties, normalises -0, and keeps a parsed "__proto__" key as data', () => {
    expect(canonicalStringify({ a: undefined, b: -0 })).toBe('{"b":0}');
    expect(canonicalStringify(JSON.parse('{"__proto__":{"x":1}}'))).toBe('{"__proto__":{"x":1}}');
  });

  it('refuses what JSON cannot carry faithfully, naming the path', () => {
    expect(() => canonicalStringify({ a: [1, Infinity] })).toThrow(/\$\.a\[1\]: Infinity/);
    expect(() => canonicalStringify({ d: new Date(0) })).toThrow(/\$\.d: a Date/);
    expect(() => canonicalStringify({ n: 1n })).toThrow(AuditDataError);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalStringify(loop)).toThrow(/circular/);
  });
});

const base = { runId: 'r1', seq: 1, key: 'k', kind: 'plan', actor: 'system:executor', at: '2025-03-01T02:00:00.000Z', data: { x: 1 }, prevHash: GENESIS_HASH };

describe('chain hashing', () => {
  it('hashes exactly the brief\'s fields, canonically', () => {
    expect(hashedText(base)).toBe(`{"actor":"system:executor","at":"2025-03-01T02:00:00.000Z","data":{"x":1},"key":"k","kind":"plan","prevHash":"${GENESIS_HASH}","runId":"r1","seq":1}`);
    const h = chainHasher();
    for (const field of ['runId', 'key', 'kind', 'actor', 'at', 'prevHash'] as const) {
      expect(h.hash({ ...base, [field]: `${base[field]}x` })).not.toBe(h.hash(base));
    }
    expect(h.hash({ ...base, seq: 2 })).not.toBe(h.hash(base));
    expect(h.hash({ ...base, data: { x: 2 } })).not.toBe(h.hash(base));
  });

  it('HMAC depends on the key; plain SHA-256 does not have one', () => {
    expect(chainHasher('a'.repeat(32)).hash(base)).not.toBe(chainHasher('b'.repeat(32)).hash(base));
    expect(chainHasher('a'.repeat(32)).hash(base)).not.toBe(chainHasher().hash(base));
  });
});

describe('entity limits', () => {
  it('splits text without separating a surrogate pair', () => {
    const text = 'a'.repeat(DATA_CHUNK_CHARS - 1) + '🙂' + 'b';
    const parts = splitText(text);
    expect(parts.join('')).toBe(text);
    expect(parts[0]).toHaveLength(DATA_CHUNK_CHARS - 1);
    expect(parts[1].startsWith('🙂')).toBe(true);
  });

  it('sizes entities as Azure documents it', () => {
    // 4 + Timestamp (8 + 18 + 8) + 2*(1+1) + name "s" (8 + 2) + string (4 + 2*3) + name "n" (8 + 2) + 8
    expect(entitySizeBytes({ partitionKey: 'p', rowKey: 'r', s: 'abc', n: 1 })).toBe(4 + 34 + 4 + 10 + 10 + 10 + 8);
  });

  it('round-trips an entry through its entity, and refuses one over 1 MiB', () => {
    const entry: AuditEntry = { ...base, data: { big: 'x'.repeat(70_000) }, hash: chainHasher().hash(base), alg: 'sha256' };
    const entity = encodeEntry(entry);
    expect(entity.dataParts).toBe(3);
    expect(decodeEntry(entity)).toEqual({ ok: true, entry });
    expect(() => encodeEntry({ ...entry, data: 'y'.repeat(530_000) })).toThrow(AuditLimitError);
  });
});

describe('verifyRows (pure)', () => {
  function chain(n: number, hmacKey?: string): RawRow[] {
    const h = chainHasher(hmacKey);
    const rows: RawRow[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= n; seq++) {
      const f = { ...base, seq, key: `k${seq}`, prevHash: prev };
      const entry: AuditEntry = { ...f, hash: h.hash(f), alg: h.alg };
      rows.push(encodeEntry(entry), { partitionKey: 'r1', rowKey: `key:k${seq}`, seq, hash: entry.hash });
      prev = entry.hash;
    }
    rows.push({ partitionKey: 'r1', rowKey: 'head', count: n, lastHash: prev, alg: h.alg });
    return rows;
  }

  it('accepts an intact chain', () => {
    expect(verifyRows('r1', chain(5), chainHasher())).toMatchObject({ ok: true, entries: 5, problems: [] });
  });

  it('reports a missing head row', () => {
    const report = verifyRows('r1', chain(3).filter((r) => r.rowKey !== 'head'), chainHasher());
    expect(report.problems).toEqual([expect.objectContaining({ type: 'deleted', rowKey: 'head' })]);
  });

  it('reports an unreadable entry as altered', () => {
    const rows = chain(3).map((r) => (r.rowKey === '0000000002' ? { ...r, dataParts: 2 } : r));
    expect(verifyRows('r1', rows, chainHasher()).problems).toEqual([expect.objectContaining({ type: 'altered', seq: 2, message: expect.stringMatching(/data1 is missing/) })]);
  });

  it('flags a plain chain when HMAC is required, and refuses to judge an HMAC chain without the key', () => {
    expect(verifyRows('r1', chain(2), chainHasher('k'.repeat(32))).problems).toEqual([expect.objectContaining({ type: 'altered', rowKey: 'head', message: expect.stringMatching(/HMAC is required/) })]);
    expect(() => verifyRows('r1', chain(2, 'k'.repeat(32)), chainHasher())).toThrow(AuditConfigError);
  });
});

describe('audit configuration', () => {
  it('falls back to Azurite\'s development account when AzureWebJobsStorage is unset', () => {
    expect(auditConnectionString({})).toMatch(/AccountName=devstoreaccount1;.*TableEndpoint=http:\/\/127\.0\.0\.1:10002\/devstoreaccount1/);
    expect(auditConnectionString({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' })).toBe(auditConnectionString({}));
    expect(auditConnectionString({ AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=prod' })).toBe('DefaultEndpointsProtocol=https;AccountName=prod');
  });

  it('reads table and HMAC key from the environment and refuses weak settings', () => {
    expect(auditConfigFromEnv({})).toMatchObject({ tableName: DEFAULT_AUDIT_TABLE, hmacKey: undefined });
    expect(auditConfigFromEnv({ LYNCDR_AUDIT_TABLE: 'DrillAudit', LYNCDR_AUDIT_HMAC_KEY: 'k'.repeat(32) })).toMatchObject({ tableName: 'DrillAudit', hmacKey: 'k'.repeat(32) });
    expect(() => auditConfigFromEnv({ LYNCDR_AUDIT_HMAC_KEY: 'short' })).toThrow(/at least 32/);
    expect(() => auditConfigFromEnv({ LYNCDR_AUDIT_TABLE: 'bad-name' })).toThrow(/table name/);
  });
});
