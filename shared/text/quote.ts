// Error messages show people what they sent, but only its start: a megabyte echoed back is a
// megabyte amplified into logs, audit entries and the caller's terminal.

export const QUOTE_MAX = 40;

/** `s` in double quotes, cut to its first `max` characters (with how long it was when cut). */
export function quoted(s: string, max = QUOTE_MAX): string {
  return s.length <= max ? JSON.stringify(s) : `${JSON.stringify(s.slice(0, max))}... (${s.length} characters)`;
}

/** `s` as it is when short, else its first `max` characters and how long it was. */
export function prefix(s: string, max = QUOTE_MAX): string {
  return s.length <= max ? s : `${s.slice(0, max)}... (${s.length} characters)`;
}
