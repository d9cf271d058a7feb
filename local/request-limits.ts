// What the Functions front end checks before a request reaches the extension or the worker:
// the body's size (Azure stops at 100 MB; the local host much earlier, configurable) and that
// the URL's percent-escapes decode. Both answer 4xx instead of surfacing as a 500 later.
import type { IncomingMessage } from 'node:http';

/** 4 MiB: far above any body the app or the management API takes, far below Azure's 100 MB. */
export const DEFAULT_MAX_REQUEST_BODY_BYTES = 4 * 1024 * 1024;

export class BodyTooLargeError extends Error { readonly status = 413; }

/**
 * Reads the body, counting as it goes: a declared Content-Length over the limit is refused before
 * a byte is read, and a body without one (chunked) is refused as soon as it passes the limit.
 * Nothing over the limit is held, and reading stops there (the stream is paused, not drained:
 * the caller answers 413 and closes the connection).
 */
export function readLimitedBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(tooLarge(limit, `${declared} bytes declared`)));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = () => { req.off('data', onData); req.off('end', onEnd); req.off('error', onFail); req.off('close', onClose); };
    const onData = (c: Buffer) => {
      total += c.length;
      if (total <= limit) { chunks.push(c); return; }
      done();
      req.pause();
      reject(new BodyTooLargeError(tooLarge(limit, `more than ${limit} bytes sent`)));
    };
    const onEnd = () => { done(); resolve(Buffer.concat(chunks)); };
    const onFail = (e: Error) => { done(); reject(e); };
    const onClose = () => { done(); reject(new Error('the client closed the connection before the body ended')); };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onFail);
    req.on('close', onClose);
  });
}

const tooLarge = (limit: number, what: string) => `the request body is too large (${what}); the limit is ${limit} bytes (Host.MaxRequestBodyBytes in local.settings.json)`;

/**
 * The first percent-escape in the path or query that does not decode (a lone '%', '%zz', or bytes
 * that are not UTF-8), or undefined when all do. URL and URLSearchParams keep such escapes as
 * text, so without this they reach route matching and decodeURIComponent throws there.
 */
export function badEscape(rawUrl: string): string | undefined {
  const q = rawUrl.indexOf('?');
  const parts = [q < 0 ? rawUrl : rawUrl.slice(0, q), ...(q < 0 ? [] : rawUrl.slice(q + 1).split(/[&=]/))];
  for (const p of parts) {
    try {
      decodeURIComponent(p.replace(/\+/g, ' '));
    } catch {
      return p.slice(0, 80);
    }
  }
  return undefined;
}
