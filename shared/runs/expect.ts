// Post-condition checks on a command's structured output: pure, so the orchestrator evaluates them
// during replay without an activity. `path` is dotted (`a.b.0.c`).
import type { Expectation } from '../plan/schema.js';

export interface ExpectationResult { description: string; ok: boolean; actual: unknown; detail?: string }

/**
 * Follows PowerShell's member enumeration, because outputs are cmdlet objects through
 * ConvertTo-Json: a property of an array is the property of each element (`$r.BackupPoolFqdn`),
 * a single value comes back as itself, not as a one-element array, and `length` / `Count` of an
 * array is its size.
 */
export function valueAt(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const seg of path.split('.')) {
    cur = step(cur, seg);
    if (cur === undefined) return undefined;
  }
  return cur;
}

function step(cur: unknown, seg: string): unknown {
  if (cur === null || cur === undefined) return undefined;
  if (Array.isArray(cur)) {
    if (/^\d+$/.test(seg)) return cur[Number(seg)];
    // The array's own count comes first, as PowerShell's intrinsic .Count does.
    if (seg === 'length' || seg === 'Count') return cur.length;
    const values = cur.map((x) => step(x, seg)).filter((x) => x !== undefined).flat();
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  }
  if (typeof cur === 'object') return (cur as Record<string, unknown>)[seg];
  return undefined;
}

/** A list's size: an array's length, or the count a cut list ({ truncated: true, count, items }) carries; else nothing. */
function listSize(v: unknown): number | undefined {
  if (Array.isArray(v)) return v.length;
  const cut = v as { truncated?: unknown; count?: unknown } | null | undefined;
  return cut && typeof cut === 'object' && cut.truncated === true && typeof cut.count === 'number' ? cut.count : undefined;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The expected value: the expectation's own, or the one read from the run's records (`from`). */
function expectedValue(e: Expectation, records: Record<string, unknown>): unknown {
  if (!e.from) return e.value;
  const record = records[e.from.record];
  const v = e.from.path === '.' ? record : valueAt(record, e.from.path);
  if (e.from.pick === 'count') return listSize(v);
  if (e.from.pick !== 'max') return v;
  const list = (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String);
  return list.length ? list.reduce((a, b) => (b > a ? b : a)) : undefined;
}

export function checkExpectation(output: unknown, e0: Expectation, records: Record<string, unknown> = {}): ExpectationResult {
  const e = e0.from ? { ...e0, value: expectedValue(e0, records) } : e0;
  const actual = e.path === '.' ? output : valueAt(output, e.path);
  let ok: boolean;
  switch (e.op) {
    case 'exists': ok = actual !== undefined && actual !== null; break;
    case 'equals': ok = same(actual, e.value); break;
    case 'notEquals': ok = !same(actual, e.value); break;
    case 'lessThan': ok = typeof actual === 'number' && typeof e.value === 'number' && actual < e.value; break;
    case 'greaterThan': ok = typeof actual === 'number' && typeof e.value === 'number' && actual > e.value; break;
    case 'includes':
      ok = Array.isArray(actual) ? actual.some((x) => same(x, e.value))
        : typeof actual === 'string' && typeof e.value === 'string' ? actual.includes(e.value) : false;
      break;
    case 'countAtMost': {
      const size = listSize(actual);
      ok = size !== undefined && typeof e.value === 'number' && size <= e.value;
      if (!ok) return { description: e.description, ok, actual: size, detail: `${e.path} has at most ${JSON.stringify(e.value)} items: got ${size ?? 'no list'}` };
      return { description: e.description, ok, actual: size };
    }
    case 'has': ok = (Array.isArray(actual) ? actual : [actual]).some((x) => x !== undefined && same(x, e.value)); break;
    case 'excludes':
      ok = Array.isArray(actual) ? !actual.some((x) => same(x, e.value)) : !same(actual, e.value);
      break;
    // Nothing to compare with (the record is missing or empty) is a failure, not a pass.
    case 'endsWith': ok = typeof actual === 'string' && typeof e.value === 'string' && e.value.length > 0 && actual.endsWith(e.value); break;
  }
  return ok
    ? { description: e.description, ok, actual }
    : { description: e.description, ok, actual, detail: `${e.path} ${e.op}${e.value === undefined ? '' : ` ${JSON.stringify(e.value)}`}: got ${JSON.stringify(actual) ?? 'nothing'}` };
}

export function checkExpectations(output: unknown, expect: Expectation[], records: Record<string, unknown> = {}): { ok: boolean; results: ExpectationResult[] } {
  const results = expect.map((e) => checkExpectation(output, e, records));
  return { ok: results.every((r) => r.ok), results };
}
