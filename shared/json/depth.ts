// JSON nesting depth, measured on the text before it is parsed. A body nested thousands of levels
// deep parses in V8, but every recursive walk after it (schema validation, JSON.stringify of
// derived values, the Durable extension's Newtonsoft reader in Azure) can overflow or refuse it.
// Json.NET's default MaxDepth is 64, so 64 is what Azure's side of the app accepts as well.

export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of arrays and objects in `text` (strings are skipped; no recursion). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) { depth++; if (depth > max) max = depth; }
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Parses JSON, refusing text nested deeper than `limit` with a message that says so. */
export function parseJsonWithDepthLimit(text: string, limit = MAX_JSON_DEPTH): unknown {
  const depth = jsonDepth(text);
  if (depth > limit) throw new JsonTooDeepError(`the JSON is nested ${depth} levels deep; at most ${limit} are accepted`);
  return JSON.parse(text);
}

export class JsonTooDeepError extends Error {}
