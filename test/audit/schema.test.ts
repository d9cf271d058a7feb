// The audit trail's input and row schemas, configuration and error classes: what is refused and
// the message the caller sees. Pure: no storage.
import { describe, it, expect } from 'vitest';
import {
  AUDIT_KINDS, ActorSchema, AuditConfigSchema, AuditEntryInputSchema, AuditEntrySchema, AuditKindSchema, EntryKeySchema, HashSchema, RunIdSchema,
  AuditConfigError, AuditConflictError, AuditContentionError, AuditCorruptError, AuditInputError, AuditLimitError, AuditRunNotFoundError,
  AuditDataError, DEFAULT_AUDIT_TABLE, auditConfigFromEnv, auditConnectionString, toCanonicalJson,
} from '../../shared/audit/index.js';

const messages = (r: { success: boolean; error?: { issues: { message: string }[] } }): string[] => {
  expect(r.success).toBe(false);
  return r.error!.issues.map((i) => i.message);
};
const H = 'a'.repeat(64);

describe('audit keys and actors', () => {
  const runMsg = 'run id: letters, digits and . _ : @ = + , - only, starting with a letter or digit';
  const keyMsg = 'entry key: letters, digits and . _ : @ = + , - only, starting with a letter or digit';

  it('a run id is 1-200 safe characters starting with a letter or digit', () => {
    expect(RunIdSchema.parse('Run-1.a_b:c@d=e+f,g')).toBe('Run-1.a_b:c@d=e+f,g');
    expect(RunIdSchema.parse('r'.repeat(200))).toHaveLength(200);
    expect(RunIdSchema.safeParse('').success).toBe(false);
    expect(RunIdSchema.safeParse('r'.repeat(201)).success).toBe(false);
    for (const bad of ['-run', 'run/1', 'run 1', 'run#1', "run'1"]) expect(messages(RunIdSchema.safeParse(bad))).toEqual([runMsg]);
  });

  it('an entry key is 1-400 safe characters', () => {
    expect(EntryKeySchema.parse('k'.repeat(400))).toHaveLength(400);
    expect(EntryKeySchema.safeParse('').success).toBe(false);
    expect(EntryKeySchema.safeParse('k'.repeat(401)).success).toBe(false);
    for (const bad of ['.key', 'step/1', 'step?1']) expect(messages(EntryKeySchema.safeParse(bad))).toEqual([keyMsg]);
  });

  it('an actor is 1-256 characters with no control characters', () => {
    expect(ActorSchema.parse('user:Ålice Smith <alice@contoso.com>')).toBe('user:Ålice Smith <alice@contoso.com>');
    expect(ActorSchema.parse('a'.repeat(256))).toHaveLength(256);
    expect(ActorSchema.safeParse('').success).toBe(false);
    expect(ActorSchema.safeParse('a'.repeat(257)).success).toBe(false);
    for (const bad of ['user:\u001b[2Jmallory', '\u0000', 'x\u007f', 'x\u009f', 'line\nbreak']) expect(messages(ActorSchema.safeParse(bad))).toEqual(['actor: no control characters']);
    expect(ActorSchema.parse('x\u00a0y')).toBe('x\u00a0y');
  });

  it('a hash is 64 lowercase hex characters, the whole string', () => {
    expect(HashSchema.parse(H)).toBe(H);
    for (const bad of ['A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), 'g' + 'a'.repeat(63)]) expect(messages(HashSchema.safeParse(bad))).toEqual(['a lowercase hex SHA-256']);
  });
});

describe('audit entries', () => {
  it('an input names a known kind, an actor and a time with or without offset, and nothing else', () => {
    for (const kind of AUDIT_KINDS) expect(AuditKindSchema.parse(kind)).toBe(kind);
    expect(AUDIT_KINDS).toHaveLength(23);
    const input = { kind: 'vote', actor: 'user:a@x', at: '2025-03-01T03:00:00+01:00', data: { decision: 'approve' } };
    expect(AuditEntryInputSchema.parse(input)).toEqual(input);
    expect(AuditEntryInputSchema.safeParse({ ...input, kind: 'votes' }).error?.issues).toMatchObject([{ path: ['kind'] }]);
    expect(AuditEntryInputSchema.safeParse({ ...input, at: 'yesterday' }).error?.issues).toMatchObject([{ path: ['at'] }]);
    expect(AuditEntryInputSchema.safeParse({ ...input, seq: 3 }).error?.issues).toMatchObject([{ code: 'unrecognized_keys', keys: ['seq'] }]);
  });

  it('a stored row may carry a kind this build does not know, but every other field is checked', () => {
    const row = { runId: 'run-1', seq: 1, key: 'run', kind: 'kind-from-the-future', actor: 'system', at: 't', data: { a: [1, null] }, prevHash: H, hash: H, alg: 'hmac-sha256' };
    expect(AuditEntrySchema.parse(row)).toEqual(row);
    const bad = (over: Record<string, unknown>) => AuditEntrySchema.safeParse({ ...row, ...over }).error?.issues.map((i) => i.path);
    expect(bad({ seq: 0 })).toEqual([['seq']]);
    expect(bad({ seq: 1.5 })).toEqual([['seq']]);
    expect(bad({ kind: '' })).toEqual([['kind']]);
    expect(bad({ at: '' })).toEqual([['at']]);
    expect(bad({ alg: 'md5' })).toEqual([['alg']]);
    expect(bad({ extra: 1 })).toEqual([[]]);
  });
});

describe('audit configuration', () => {
  const cs = 'UseDevelopmentStorage=true';
  it('defaults the table, refuses bad table and container names and short keys, with their messages', () => {
    expect(DEFAULT_AUDIT_TABLE).toBe('LyncdrAudit');
    expect(AuditConfigSchema.parse({ connectionString: cs })).toEqual({ connectionString: cs, tableName: DEFAULT_AUDIT_TABLE });
    expect(AuditConfigSchema.parse({ connectionString: cs, tableName: 'Abc', containerName: 'a-b', hmacKey: 'k'.repeat(32) }))
      .toEqual({ connectionString: cs, tableName: 'Abc', containerName: 'a-b', hmacKey: 'k'.repeat(32) });
    expect(AuditConfigSchema.parse({ connectionString: cs, tableName: 'A' + 'b'.repeat(62) }).tableName).toHaveLength(63);
    expect(AuditConfigSchema.safeParse({ connectionString: '' }).success).toBe(false);
    for (const tableName of ['Ab', '1abc', 'A' + 'b'.repeat(63), 'ab-c', 'xabc!']) {
      expect(messages(AuditConfigSchema.safeParse({ connectionString: cs, tableName }))).toEqual(['table name: 3-63 letters and digits, starting with a letter']);
    }
    for (const containerName of ['ab', '-abc', 'abc-', 'a--b', 'ABC', 'a'.repeat(64), 'abc_d']) {
      expect(messages(AuditConfigSchema.safeParse({ connectionString: cs, containerName }))).toEqual(['container name: 3-63 lowercase letters, digits and single hyphens']);
    }
    expect(AuditConfigSchema.parse({ connectionString: cs, containerName: 'a'.repeat(63) }).containerName).toHaveLength(63);
    expect(messages(AuditConfigSchema.safeParse({ connectionString: cs, hmacKey: 'k'.repeat(31) }))).toEqual(['the audit HMAC key must be at least 32 characters']);
    expect(AuditConfigSchema.safeParse({ connectionString: cs, other: 1 }).success).toBe(false);
  });

  it('reads the environment, with Azurite as the default account and empty settings as unset', () => {
    expect(auditConnectionString({})).toContain('TableEndpoint=http://127.0.0.1:10002/devstoreaccount1');
    expect(auditConnectionString({ AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=x' })).toBe('DefaultEndpointsProtocol=https;AccountName=x');
    expect(auditConfigFromEnv({ AzureWebJobsStorage: 'X=1', LYNCDR_AUDIT_TABLE: '', LYNCDR_AUDIT_HMAC_KEY: '', LYNCDR_AUDIT_CONTAINER: 'drill-audit' }))
      .toEqual({ connectionString: 'X=1', tableName: DEFAULT_AUDIT_TABLE, containerName: 'drill-audit' });
  });
});

describe('audit errors', () => {
  it('say their name and whether a retry can help', () => {
    const errors = [
      new AuditInputError('m'), new AuditLimitError('m'), new AuditConflictError('m', 'run-1', 'k', ['data']), new AuditContentionError('m'),
      new AuditRunNotFoundError('run-1', 'LyncdrAudit'), new AuditCorruptError('m'), new AuditConfigError('m'),
    ];
    expect(errors.map((e) => [e.name, e.retryable])).toEqual([
      ['AuditInputError', false], ['AuditLimitError', false], ['AuditConflictError', false], ['AuditContentionError', true],
      ['AuditRunNotFoundError', false], ['AuditCorruptError', false], ['AuditConfigError', false],
    ]);
    expect(errors[4].message).toBe('no audit trail for run "run-1" in table LyncdrAudit');
    expect(errors[2]).toMatchObject({ message: 'm', runId: 'run-1', key: 'k', differences: ['data'] });
  });
});

describe('canonical JSON: what it refuses, by path', () => {
  it('names the path and the offending value', () => {
    expect(() => toCanonicalJson({ a: { b: NaN } })).toThrow('$.a.b: NaN is not representable in JSON');
    expect(new AuditDataError('m').name).toBe('AuditDataError');
    expect(() => toCanonicalJson([1, undefined])).toThrow('$[1]: undefined is not JSON data');
    expect(() => toCanonicalJson({ f: () => 1 })).toThrow('$.f: a function is not JSON data');
    expect(() => toCanonicalJson({ m: new Map() })).toThrow('$.m: a Map is not plain JSON data (convert it, e.g. a Date to an ISO string)');
    const loop: Record<string, unknown> = {};
    loop.self = { back: loop };
    expect(() => toCanonicalJson(loop)).toThrow('$.self.back: circular reference');
  });

  it('keeps shared (non-circular) references, null-prototype objects, and normalises -0 in arrays', () => {
    const shared = { x: 1 };
    expect(toCanonicalJson({ a: shared, b: [shared, shared] })).toEqual({ a: { x: 1 }, b: [{ x: 1 }, { x: 1 }] });
    const bare = Object.assign(Object.create(null) as object, { k: true });
    expect(toCanonicalJson(bare)).toEqual({ k: true });
    expect(Object.is((toCanonicalJson([-0]) as number[])[0], 0)).toBe(true);
    expect(() => toCanonicalJson(Object.create(Object.create(null) as object) as object)).toThrow('$: a object is not plain JSON data (convert it, e.g. a Date to an ISO string)');
  });
});
