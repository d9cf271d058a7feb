// Checks a card against Adaptive Cards 1.5 as the adaptivecards library (Microsoft's renderer
// SDK, run without a DOM) defines it: no parse or validation events at version 1.5, and nothing
// lost in a parse -> serialize round trip (a property or value 1.5 does not know is dropped by
// the parser, so a difference names it). No npm package ships the 1.5 JSON schema (the designer's
// bundled schema is 1.0, without Action.Execute), hence the library's own model. The builders are
// also typed with the Teams SDK's schema-generated interfaces (cards.test.ts checks that typing). The library
// does not serialize an action's `fallback`, so each fallback is checked as an action of its own.
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';

// The package's ESM build imports without file extensions, which Node refuses; its UMD bundle loads.
const AC = createRequire(import.meta.url)('adaptivecards/dist/adaptivecards.js') as any;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function withoutFallbacks(x: Json, found: Json[]): Json {
  if (Array.isArray(x)) return x.map((v) => withoutFallbacks(v, found));
  if (x && typeof x === 'object') {
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(x)) {
      if (k === 'fallback' && typeof x.type === 'string' && x.type.startsWith('Action.')) { found.push(v); continue; }
      out[k] = withoutFallbacks(v, found);
    }
    return out;
  }
  return x;
}

function differences(a: Json, b: Json, at: string, out: string[]): void {
  if (isDeepStrictEqual(a, b)) return;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) differences((a as Record<string, Json>)[k] ?? null, (b as Record<string, Json>)[k] ?? null, `${at}/${k}`, out);
    return;
  }
  out.push(`${at}: ${JSON.stringify(a)} is not 1.5 (the parser made it ${JSON.stringify(b)})`);
}

export function cardProblems(card: unknown): string[] {
  const problems: string[] = [];
  const fallbacks: Json[] = [];
  const input = withoutFallbacks(JSON.parse(JSON.stringify(card)) as Json, fallbacks);
  if ((input as { version?: string }).version !== '1.5') problems.push('/version: not 1.5');
  const parsed = new AC.AdaptiveCard();
  const ctx = new AC.SerializationContext(AC.Versions.v1_5);
  parsed.parse(card, ctx);
  for (let i = 0; i < ctx.eventCount; i++) problems.push(`parse: ${ctx.getEventAt(i).message}`);
  for (const e of parsed.validateProperties().validationEvents) problems.push(`validate: ${e.message}`);
  differences(input, parsed.toJSON(new AC.SerializationContext(AC.Versions.v1_5)) as Json, '', problems);
  for (const f of fallbacks) {
    if ((f as { type?: string } | null)?.type !== 'Action.Submit') problems.push(`fallback ${JSON.stringify(f)}: not an Action.Submit`);
    problems.push(...cardProblems({ type: 'AdaptiveCard', version: '1.5', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', body: [{ type: 'TextBlock', text: 'fallback' }], actions: [f] }).map((p) => `fallback: ${p}`));
  }
  return problems;
}
