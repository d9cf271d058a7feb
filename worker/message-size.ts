// A result travels as one queue message: 64 KiB on storage queues, which carry it base64-encoded
// (so about 48 KB of JSON), 256 KB on Service Bus standard. Outputs can be far larger (every user
// of a pool), so they are cut to what fits, and say so: a list keeps its first items and its
// count, anything else a preview and its size. Sizes are UTF-8 bytes: user names are not ASCII.
import type { ResultMessage } from '../shared/messages.js';

/** The whole result, as JSON: its base64 (storage queues) stays under 64 KiB with room to spare. */
export const MAX_RESULT_BYTES = 46_000;
/** One command's output on its own. */
export const MAX_OUTPUT_BYTES = 40_000;
/** A bundled verification's output (a check reads a state, not a user list). */
export const MAX_VERIFICATION_BYTES = 8_000;

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');

export function boundedOutput(output: unknown, max = MAX_OUTPUT_BYTES): unknown {
  const text = JSON.stringify(output);
  if (text === undefined || Buffer.byteLength(text, 'utf8') <= max) return output;
  // Cut again (a smaller budget): keep the first items, and the count of the original list.
  if (isCutList(output)) {
    const cut = boundedOutput(output.items, max - 100);
    return { truncated: true, count: output.count, items: Array.isArray(cut) ? cut : (cut as { items?: unknown[] }).items ?? [] };
  }
  if (Array.isArray(output)) {
    const items: unknown[] = [];
    let size = 0;
    for (const item of output) {
      const n = bytes(item);
      if (size + n > max - 200) break;
      items.push(item);
      size += n + 1;
    }
    return { truncated: true, count: output.length, items };
  }
  const chars = isPreview(output) ? output.chars : text.length;
  let preview = (isPreview(output) ? output.preview : text).slice(0, 2_000);
  while (preview && bytes(preview) > max - 100) preview = preview.slice(0, Math.floor(preview.length / 2));
  return { truncated: true, chars, preview };
}

/** At most `max` UTF-8 bytes of `text`, cut on a character boundary. */
export function cutBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let cut = text.slice(0, max);
  while (Buffer.byteLength(cut, 'utf8') > max) cut = cut.slice(0, Math.floor(cut.length * 0.9));
  return cut;
}

/** The result as it may be sent: texts capped (in bytes), then the output (and a check's) cut to what is left. */
export function fitToMessage(result: ResultMessage): ResultMessage {
  if (bytes(result) <= MAX_RESULT_BYTES) return result;
  const v = result.verification;
  const out: ResultMessage = {
    ...result,
    ...(result.stderr !== undefined ? { stderr: cutBytes(result.stderr, 2_000) } : {}),
    ...(result.rendered !== undefined ? { rendered: cutBytes(result.rendered, 4_000) } : {}),
    ...(result.error ? { error: { ...result.error, message: cutBytes(result.error.message, 2_000) } } : {}),
    ...(v ? { verification: {
      ...v, output: boundedOutput(v.output, MAX_VERIFICATION_BYTES),
      ...(v.stderr !== undefined ? { stderr: cutBytes(v.stderr, 1_000) } : {}),
      ...(v.rendered !== undefined ? { rendered: cutBytes(v.rendered, 1_000) } : {}),
      ...(v.error ? { error: { ...v.error, message: cutBytes(v.error.message, 1_000) } } : {}),
    } } : {}),
  };
  if (out.output === undefined) return out;
  const rest = bytes({ ...out, output: null });
  return { ...out, output: boundedOutput(out.output, Math.max(1_000, MAX_RESULT_BYTES - rest)) };
}

function isPreview(v: unknown): v is { truncated: true; chars: number; preview: string } {
  return typeof v === 'object' && v !== null && (v as { truncated?: unknown }).truncated === true && typeof (v as { preview?: unknown }).preview === 'string';
}

function isCutList(v: unknown): v is { truncated: true; count: number; items: unknown[] } {
  return typeof v === 'object' && v !== null && (v as { truncated?: unknown }).truncated === true && Array.isArray((v as { items?: unknown }).items);
}
