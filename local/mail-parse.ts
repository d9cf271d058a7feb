// Just enough of a MIME reader for the local mail sink and the CLI (mailparser does not install
// here): headers with folding and RFC 2047 encoded words, one level of multipart, and the
// 7bit / quoted-printable / base64 transfer encodings nodemailer uses. Links are found in the text
// part; a lyncdr link's decision is read from its payload (no key needed to read, only to sign).
export interface ParsedMail { headers: Record<string, string>; subject: string; text: string; html: string }
export interface FoundLink { url: string; decision?: string; label?: string }

function splitHead(raw: string): { head: string; body: string } {
  const i = raw.search(/\r?\n\r?\n/);
  if (i < 0) return { head: raw, body: '' };
  return { head: raw.slice(0, i), body: raw.slice(i).replace(/^\r?\n\r?\n/, '') };
}

function headersOf(head: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

export function decodeWords(s: string): string {
  return s.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=(\s+(?==\?))?/g, (_, _charset: string, enc: string, data: string) =>
    (enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : qp(data.replace(/_/g, ' '))).toString('utf8'));
}

function qp(s: string): Buffer {
  const soft = s.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) { bytes.push(parseInt(soft.slice(i + 1, i + 3), 16)); i += 2; continue; }
    bytes.push(...Buffer.from(soft[i], 'utf8'));
  }
  return Buffer.from(bytes);
}

function decodeBody(body: string, encoding: string | undefined): string {
  const e = (encoding ?? '7bit').toLowerCase();
  if (e === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (e === 'quoted-printable') return qp(body).toString('utf8');
  return body;
}

export function parseMail(raw: string): ParsedMail {
  const { head, body } = splitHead(raw);
  const headers = headersOf(head);
  const parts: Array<{ type: string; text: string }> = [];
  const walk = (h: Record<string, string>, b: string) => {
    const type = (h['content-type'] ?? 'text/plain').toLowerCase();
    const boundary = /boundary="?([^";]+)"?/i.exec(h['content-type'] ?? '')?.[1];
    if (type.startsWith('multipart/') && boundary) {
      for (const chunk of b.split(`--${boundary}`).slice(1)) {
        if (chunk.startsWith('--')) break;
        const p = splitHead(chunk.replace(/^\r?\n/, ''));
        walk(headersOf(p.head), p.body);
      }
      return;
    }
    parts.push({ type, text: decodeBody(b, h['content-transfer-encoding']) });
  };
  walk(headers, body);
  return {
    headers, subject: decodeWords(headers.subject ?? ''),
    text: parts.find((p) => p.type.startsWith('text/plain'))?.text ?? '',
    html: parts.find((p) => p.type.startsWith('text/html'))?.text ?? '',
  };
}

/** The lyncdr links of a mail's text part, with their decision and the label before them ("Approve: <url>"). */
export function linksOf(text: string): FoundLink[] {
  const out: FoundLink[] = [];
  // A link is the page itself, or (LYNCDR_IDENTITY=easy-auth) App Service's sign-in that returns to it.
  for (const m of text.matchAll(/^(?:([^:\n]{1,40}): )?(https?:\/\/\S+?(?:\/api\/links\/|\/\.auth\/login\/aad\?post_login_redirect_uri=%2Fapi%2Flinks%2F)(v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+))/gm)) {
    let decision: string | undefined;
    try { decision = (JSON.parse(Buffer.from(m[3].split('.')[1], 'base64url').toString('utf8')) as { d?: string }).d; } catch { /* not readable */ }
    out.push({ url: m[2], ...(decision ? { decision } : {}), ...(m[1] ? { label: m[1].trim() } : {}) });
  }
  return out;
}
