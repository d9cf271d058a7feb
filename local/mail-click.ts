// Following an e-mailed lyncdr link as a person does: GET shows the confirmation page (nothing
// changes), then the page's form is posted with the CSRF token the page holds and a comment.
// Used by `lyncdr lab mail click`, the drill (--channel email) and the tests.
import { readIndex, type SinkMessage } from './smtp-sink.js';

/** The text of a page, for a terminal: headings and paragraphs on lines of their own, entities decoded. */
export function pageText(html: string): string {
  return html.replace(/<title>[\s\S]*?<\/title>/i, '').replace(/<(br|\/p|\/h1|\/tr|\/li)[^>]*>/gi, '\n').replace(/<\/td>/gi, ' ').replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&')
    .split('\n').map((l) => l.trim()).filter(Boolean).join('\n');
}

export interface ClickResult { status: number; getStatus: number; text: string }

/** Follows one link: GET (the page), then POST its form with the CSRF token the page holds. */
export async function clickLink(url: string, o: { as?: string; comment?: string; doFetch?: typeof fetch }): Promise<ClickResult> {
  const doFetch = o.doFetch ?? fetch;
  const headers: Record<string, string> = { 'user-agent': 'lyncdr-cli (lab mail click)', ...(o.as ? { 'x-lyncdr-user': o.as } : {}) };
  const got = await doFetch(url, { headers });
  const page = await got.text();
  if (got.status !== 200) return { status: got.status, getStatus: got.status, text: pageText(page) };
  const csrf = /<input type="hidden" name="csrf" value="([^"]*)">/.exec(page)?.[1];
  if (!csrf) return { status: 0, getStatus: got.status, text: `the page has no form to post:\n${pageText(page)}` };
  const form = new URLSearchParams({ csrf, comment: o.comment ?? '' });
  const posted = await doFetch(url, { method: 'POST', body: form.toString(), headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' } });
  return { status: posted.status, getStatus: got.status, text: pageText(await posted.text()) };
}

/**
 * Waits for the sink to hold a mail of run `runId` whose key matches and that went to `who`
 * (addressed as who@... by the local stack, or exactly `who` when it is an address).
 */
export async function waitForMailTo(dir: string, runId: string, key: (k: string) => boolean, who: string, timeoutMs = 30_000): Promise<SinkMessage> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = readIndex(dir).find((x) => x.run === runId && key(x.key ?? '') && x.to.some((t) => t === who || t.startsWith(`${who}@`)));
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`no mail for ${who} about run ${runId} arrived in ${dir} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
