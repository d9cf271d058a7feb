// Invokes captured HTTP triggers the way the Functions host does: route template, methods,
// authLevel keys, the request as an HttpRequest, input bindings (durableClient) filled in.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from './azure-functions.js';
import type { FunctionRegistry, RegisteredFunction } from './functions-core.js';
import { compileRoute, type CompiledRoute } from './routes.js';
import type { LocalSettings } from './settings.js';

export interface HttpRoute { fn: RegisteredFunction; route: CompiledRoute; methods?: string[]; authLevel: string }

export interface RawResponse { status: number; headers: Record<string, string>; body: Buffer }

export function collectHttpRoutes(registry: FunctionRegistry): HttpRoute[] {
  return registry.byTriggerType('httpTrigger').map((fn) => {
    const t = fn.trigger as { route?: string; methods?: string[]; authLevel?: string };
    return { fn, route: compileRoute(t.route ?? fn.name), methods: t.methods?.map((m) => m.toUpperCase()), authLevel: (t.authLevel ?? 'function').toLowerCase() };
  });
}

/** Extra input bindings with their values (e.g. the durable client). */
export type InputResolver = (binding: { type: string; name: string }) => unknown;

export function invocationContext(fn: RegisteredFunction, resolve: InputResolver, triggerMetadata?: Record<string, unknown>): InvocationContext {
  const extraInputs = Object.entries(fn.bindings)
    .filter(([name, b]) => b.direction === 'in' && name !== fn.trigger.bindingName)
    .map(([name, b]) => ({ ...b, name }));
  const extraOutputs = Object.entries(fn.bindings)
    .filter(([name, b]) => b.direction === 'out' && name !== '$return')
    .map(([name, b]) => ({ ...b, name }));
  const ctx = new InvocationContext({
    functionName: fn.name,
    invocationId: randomUUID(),
    triggerMetadata,
    options: { trigger: { ...fn.trigger, name: fn.trigger.bindingName } as never, extraInputs: extraInputs as never, extraOutputs: extraOutputs as never },
  });
  for (const input of extraInputs) {
    const value = resolve(input);
    if (value !== undefined) ctx.extraInputs.set(input.name, value);
  }
  return ctx;
}

function keyMatches(given: string | null | undefined, keys: string[]): boolean {
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
