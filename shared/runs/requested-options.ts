// The options a caller may send with a start (the HTTP API, Teams' Declare): bounded before any
// runbook reads them, so a megabyte site name is a 400 that names the option, not a message that
// carries the megabyte back. The run's own options (RunOptions) also hold what the app adds
// itself (a failback's recorded state), which these limits do not apply to.
import { z } from 'zod';
import { prefix } from '../text/quote.js';

export const OPTION_LIMITS = { options: 32, keyChars: 64, stringChars: 512, items: 100 } as const;

type Issue = { path: Array<string | number>; message: string };

function walk(v: unknown, path: Array<string | number>, out: Issue[]): void {
  if (out.length) return;
  if (typeof v === 'string' && v.length > OPTION_LIMITS.stringChars) out.push({ path, message: `at most ${OPTION_LIMITS.stringChars} characters (this one has ${v.length})` });
  else if (Array.isArray(v)) {
    if (v.length > OPTION_LIMITS.items) out.push({ path, message: `at most ${OPTION_LIMITS.items} items (this one has ${v.length})` });
    else v.forEach((x, i) => walk(x, [...path, i], out));
  } else if (v && typeof v === 'object') {
    const entries = Object.entries(v);
    if (entries.length > OPTION_LIMITS.options) out.push({ path, message: `at most ${OPTION_LIMITS.options} entries (this one has ${entries.length})` });
    for (const [k, x] of entries) {
      if (k.length > OPTION_LIMITS.keyChars) { out.push({ path, message: `an option name is at most ${OPTION_LIMITS.keyChars} characters (${prefix(k)})` }); return; }
      walk(x, [...path, k], out);
    }
  }
}

export const RequestedRunOptions = z.record(z.string(), z.json()).superRefine((o, ctx) => {
  const issues: Issue[] = [];
  walk(o, [], issues);
  for (const i of issues) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
});
