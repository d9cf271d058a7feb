// Quoting for the *displayed* line only; runners never execute rendered text.

// PowerShell treats the typographic single quotes as quote characters too, so each of them
// is doubled like the ASCII one; otherwise a pasted value could close the string.
const PS_SINGLE_QUOTES = /['\u2018\u2019\u201A\u201B]/g;

export function psQuote(value: string): string {
  return `'${value.replace(PS_SINGLE_QUOTES, (q) => q + q)}'`;
}

export function psList(values: readonly string[]): string {
  return values.map(psQuote).join(',');
}

export function sqlLiteral(value: string | number | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  return `N'${value.replace(/'/g, "''")}'`;
}

export function sqlBracket(identifier: string): string {
  return `[${identifier.replace(/]/g, ']]')}]`;
}
