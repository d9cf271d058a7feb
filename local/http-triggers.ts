// Invokes captured HTTP triggers the way the Functions host does: route template, methods,
// authLevel keys, the request as an HttpRequest, input bindings (durableClient) filled in.
import { timingSafeEqual } from 'node:crypto';
import { HttpRequest, HttpResponse, type HttpResponseInit } from './azure-functions.js';
import { invocationContext, type InputResolver } from './invocation-context.js';
import type { FunctionRegistry, RegisteredFunction } from './functions-core.js';
import { compileRoute, type CompiledRoute } from './routes.js';
import type { LocalSettings } from './settings.js';

export type { InputResolver };

export interface HttpRoute { fn: RegisteredFunction; route: CompiledRoute; methods?: string[]; authLevel: string }

export interface RawResponse { status: number; headers: Record<string, string>; body: Buffer }

export function collectHttpRoutes(registry: FunctionRegistry): HttpRoute[] {
  return registry.byTriggerType('httpTrigger').map((fn) => {
    const t = fn.trigger as { route?: string; methods?: string[]; authLevel?: string };
    return { fn, route: compileRoute(t.route ?? fn.name), methods: t.methods?.map((m) => m.toUpperCase()), authLevel: (t.authLevel ?? 'function').toLowerCase() };
  });
}

export function keyMatches(given: string | null | undefined, keys: string[]): boolean {
  if (!given) return false;
  const g = Buffer.from(given);
  return keys.some((k) => {
    const b = Buffer.from(k);
    return b.length === g.length && timingSafeEqual(b, g);
  });
}

export async function invokeHttp(
  routes: HttpRoute[], settings: LocalSettings, resolve: InputResolver,
  req: { method: string; url: URL; headers: Record<string, string>; body: Buffer; routePath: string },
): Promise<RawResponse> {
  const json = (status: number, body: unknown): RawResponse => ({ status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: Buffer.from(JSON.stringify(body)) });
  const matches = routes.map((r) => ({ r, params: r.route.match(req.routePath) })).filter((m) => m.params);
  if (!matches.length) return json(404, { error: `no function serves /${req.routePath}` });
  const hit = matches.find((m) => !m.r.methods || m.r.methods.includes(req.method));
  if (!hit) return json(405, { error: `${req.method} is not allowed on /${req.routePath}; allowed: ${[...new Set(matches.flatMap((m) => m.r.methods ?? []))].join(', ')}` });
  const { r, params } = hit;

  const functionKeys = Object.values(settings.FunctionKeys);
  const given = req.url.searchParams.get('code') ?? req.headers['x-functions-key'];
  if (r.authLevel === 'admin' && !keyMatches(given, settings.MasterKey ? [settings.MasterKey] : [])) {
    return json(401, { error: 'this function needs the master key (x-functions-key header or ?code=)' });
  }
  if (r.authLevel === 'function' && functionKeys.length && !keyMatches(given, [...functionKeys, ...(settings.MasterKey ? [settings.MasterKey] : [])])) {
    return json(401, { error: 'this function needs a function key (x-functions-key header or ?code=)' });
  }

  const request = new HttpRequest({
    method: req.method,
    url: req.url.toString(),
    headers: req.headers,
    query: Object.fromEntries(req.url.searchParams),
    params: params!,
    body: req.body.length ? { bytes: req.body } : undefined,
  } as never);
  const ctx = invocationContext(r.fn, resolve, { Query: Object.fromEntries(req.url.searchParams), Headers: req.headers, ...params });
  let result: unknown;
  try {
    result = await r.fn.handler(request, ctx);
  } catch (err) {
    ctx.error(err);
    return json(500, { error: `function '${r.fn.name}' failed: ${(err as Error).message}` });
  }
  if (result === undefined || result === null) return { status: 204, headers: {}, body: Buffer.alloc(0) };
  const res = result instanceof HttpResponse ? result : new HttpResponse(result as HttpResponseInit);
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => { headers[k] = v; });
  return { status: res.status ?? 200, headers, body: Buffer.from(await res.arrayBuffer()) };
}
