// What every route of the HTTP API shares: the caller's identity (401 without one), the durable
// client, JSON bodies parsed with zod (400 with the reason; at most 64 levels deep), and errors as { error } bodies.
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';
import { JsonTooDeepError, parseJsonWithDepthLimit } from '../../shared/json/depth.js';
import { prefix } from '../../shared/text/quote.js';
import { identityOf } from './identity.js';
import { nameBeside } from '../../shared/identity/display.js';
import { operatorRefusal } from '../runs/decisions.js';

import type { Client } from '../runs/read.js';
export type { Client };

export const json = (status: number, body: unknown): HttpResponseInit => ({ status, jsonBody: body });
export const problem = (status: number, error: string, extra: Record<string, unknown> = {}) => json(status, { error, ...extra });

export async function body<T extends z.ZodType>(req: HttpRequest, schema: T): Promise<{ ok: true; data: z.output<T> } | { ok: false; res: HttpResponseInit }> {
  const text = await req.text();
  let raw: unknown = {};
  if (text.trim()) {
    try {
      // A depth limit first: a body nested thousands of levels deep would overflow the schema's
      // recursive walk (a 500) instead of getting the 400 it deserves.
      raw = parseJsonWithDepthLimit(text);
    } catch (err) {
      return { ok: false, res: problem(400, err instanceof JsonTooDeepError ? `the body is too deeply nested: ${err.message}` : `the body is not JSON: ${(err as Error).message}`) };
    }
  }
  const r = schema.safeParse(raw);
  // Paths and messages can carry what was sent (an unknown key's name): only their start.
  if (!r.success) return { ok: false, res: problem(400, `invalid request: ${r.error.issues.slice(0, 5).map((i) => `${prefix(i.path.join('.')) || 'body'}: ${prefix(i.message, 200)}`).join('; ')}`) };
  return { ok: true, data: r.data };
}

/**
 * `user`: the identity every rule compares (an Entra object id in easy-auth mode). `name`: the
 * caller's UPN for display beside it (shared/identity/display.ts), undefined when it says nothing
 * more; decisions carry it, signed, so the trail and the status can show who that was.
 */
export type Handler = (req: HttpRequest, client: Client, user: string, context: InvocationContext, name: string | undefined) => Promise<HttpResponseInit>;

export function route(name: string, methods: Array<'GET' | 'POST'>, path: string, handler: Handler): void {
  app.http(name, {
    route: path, methods, authLevel: 'anonymous', extraInputs: [df.input.durableClient()],
    handler: async (req, context) => {
      const who = identityOf(req);
      if (!who.ok) return problem(401, who.error);
      try {
        return await handler(req, df.getClient(context), who.user, context, nameBeside(who.user, who.display));
      } catch (err) {
        context.error(`${name}: ${(err as Error).stack ?? err}`);
        return problem(500, `internal error: ${(err as Error).message}`);
      }
    },
  });
}


/** 403 for who is not an operator (functions/runs/decisions.ts says who is). */
export function refuseNonOperator(user: string, what: string): HttpResponseInit | undefined {
  const refused = operatorRefusal(user, what);
  return refused ? problem(403, refused) : undefined;
}
