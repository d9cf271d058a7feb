// HTML for mail and link pages: every value goes through esc(); nothing a request or a run holds
// is ever placed into markup unescaped or evaluated.
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]);

/** A URL for href: only http(s), escaped; anything else becomes a harmless '#'. */
export const href = (url: string): string => (/^https?:\/\//i.test(url) ? esc(url) : '#');

/** Rows of a two-column table (Outlook renders tables and inline styles; not flexbox or CSS classes). */
export function rows(pairs: Array<[string, string | undefined]>): string {
  return pairs.filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `<tr><td style="padding:4px 12px 4px 0;color:#555;vertical-align:top;white-space:nowrap">${esc(k)}</td><td style="padding:4px 0;vertical-align:top">${esc(v)}</td></tr>`).join('');
}

/** A button as a table cell with a background colour: the form Outlook keeps. */
export function button(label: string, url: string, colour: string): string {
  return `<td style="padding:0 8px 0 0"><table role="presentation" cellpadding="0" cellspacing="0"><tr><td bgcolor="${esc(colour)}" style="background:${esc(colour)};border-radius:4px;padding:10px 18px">`
    + `<a href="${href(url)}" style="color:#ffffff;text-decoration:none;font-weight:bold;font-family:Segoe UI,Arial,sans-serif">${esc(label)}</a></td></tr></table></td>`;
}

export function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`
    + `<meta name="robots" content="noindex"><title>${esc(title)}</title></head>`
    + `<body style="font-family:Segoe UI,Arial,sans-serif;font-size:15px;color:#222;max-width:720px;margin:24px auto;padding:0 16px">${body}</body></html>`;
}
