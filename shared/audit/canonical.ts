// The chain's hashes are only reproducible if every writer and every verifier serialise an entry
// to the same bytes. JSON.stringify depends on key insertion order and silently turns NaN into
// null or drops a Date's type, so entries go through this strict canonical form instead.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export class AuditDataError extends Error {
  override name = 'AuditDataError';
}

/**
 * Returns the value as plain JSON (objects with sorted keys), or throws naming the offending path.
 * Properties whose value is undefined are omitted, as JSON does; anything else JSON cannot carry
 * faithfully (NaN, Infinity, bigint, Date, Map, class instances, functions, cycles) is refused,
 * because storing a lossy copy would make the audit record say something other than what happened.
 */
export function toCanonicalJson(value: unknown, path = '$', seen: Set<object> = new Set()): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new AuditDataError(`${path}: ${value} is not representable in JSON`);
      // -0 and 0 serialise alike; normalising keeps the in-memory copy equal to the stored one.
      return Object.is(value, -0) ? 0 : value;
    case 'object':
      break;
    default:
      throw new AuditDataError(`${path}: a ${typeof value} is not JSON data`);
  }
  const obj = value as object;
  if (seen.has(obj)) throw new AuditDataError(`${path}: circular reference`);
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      return obj.map((item, i) => {
        if (item === undefined) throw new AuditDataError(`${path}[${i}]: undefined is not JSON data`);
        return toCanonicalJson(item, `${path}[${i}]`, seen);
      });
    }
    const proto = Object.getPrototypeOf(obj) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const what = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new AuditDataError(`${path}: a ${what} is not plain JSON data (convert it, e.g. a Date to an ISO string)`);
    }
    const out: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(obj).sort()) {
      const v = (obj as Record<string, unknown>)[key];
      if (v === undefined) continue;
      // defineProperty, because assigning a parsed "__proto__" key would change the prototype.
      Object.defineProperty(out, key, {
        value: toCanonicalJson(v, `${path}.${key}`, seen), enumerable: true, writable: true, configurable: true,
      });
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

/**
 * Canonical serialisation: keys sorted by UTF-16 code units, no whitespace, JSON.stringify's
 * escaping for strings and numbers. It writes the text itself because JS objects enumerate
 * integer-like keys ("2" before "10" before "b") ahead of others, so JSON.stringify of a sorted
 * object is not sorted; a verifier in another language must be able to rebuild the same bytes.
 */
export function canonicalStringify(value: unknown): string {
  return write(toCanonicalJson(value));
}

function write(v: JsonValue): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(write).join(',')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${write(v[k])}`).join(',')}}`;
}
