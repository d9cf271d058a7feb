// The local Functions host: loads the app through the real @azure/functions registration path,
// runs the durable engine over Azure Storage (Azurite), serves HTTP triggers and the Durable
// management API on loopback, and drives timer and queue triggers.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { installFunctionsCore, type FunctionRegistry } from './functions-core.js';
import { DurableEngine } from './engine/engine.js';
import { TaskHubStore } from './engine/store.js';
import { durableClientBinding, handleManagement, isWebhookPath, RPC_PREFIX, type ClientUrls } from './management-api.js';
import { collectHttpRoutes, invokeHttp, keyMatches } from './http-triggers.js';
import { badEscape, BodyTooLargeError, DEFAULT_MAX_REQUEST_BODY_BYTES, readLimitedBody } from './request-limits.js';
import type { InputResolver } from './invocation-context.js';
import { startQueueTrigger } from './queue-triggers.js';
import { startTimerTrigger } from './timer-triggers.js';
import { applyValues, readLocalSettings, type LocalSettings } from './settings.js';
import { readHostConfig, type HostConfig } from './host-config.js';
import { storageConnectionString } from '../shared/storage/connection.js';

// Installed on import, so that anything that imports the host before the app cannot make
// @azure/functions fall back to its "test mode" (which silently drops registrations).
installFunctionsCore();

export interface HostOptions {
  /** The app's entry module (functions/index.js, or a test app). */
  entry: string;
  /** Folder with host.json and local.settings.json. */
  root: string;
  /** 0 picks a free port. Default: local.settings.json Host.LocalHttpPort, else 7071. */
  port?: number;
  /** Overrides host.json's hub name. */
  hubName?: string;
  settings?: LocalSettings;
  /** Run timer and queue triggers (off in tests that only need HTTP + durable). */
  triggers?: boolean;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** The engine's wall clock (tests move it to fire long timers). */
  clock?: () => number;
}

export interface LocalHost {
  url: string;
  /** The key-less loopback listener the durableClient binding's rpcBaseUrl points at. */
  rpcUrl: string;
  port: number;
  hubName: string;
  engine: DurableEngine;
  registry: FunctionRegistry;
  config: HostConfig;
  resumed: number;
  stop(): Promise<void>;
}

export async function startHost(o: HostOptions): Promise<LocalHost> {
  const log = o.log ?? ((level, m) => { if (level !== 'info') console.error(`[host:${level}] ${m}`); });
  const settings = o.settings ?? readLocalSettings(path.join(o.root, 'local.settings.json'));
  applyValues(settings);
  const config = readHostConfig(path.join(o.root, 'host.json'), process.env, o.hubName);
  const hubName = config.hubName;
  const registry = installFunctionsCore();
  await import(pathToFileURL(path.resolve(o.entry)).href);
  if (registry.functions.size === 0) throw new Error(`${o.entry} registered no functions`);

  const cs = storageConnectionString();
  const store = new TaskHubStore(cs, hubName);
  const engine = new DurableEngine({
    store, registry, log,
    leaseSeconds: config.leaseSeconds,
    maxDequeueCount: config.maxDequeueCount,
    activityConcurrency: config.maxConcurrentActivityFunctions,
    clock: o.clock,
    // Activities get the durable client too (resolved when they run, once the host listens).
    resolveInput: (b) => resolve(b),
  });

  const routes = collectHttpRoutes(registry);
  // As in Azure, the management API takes the durabletask_extension system key or the master key.
  // With a master key but no system key, one is made for this run (Azure generates it as well);
  // the binding hands it out in every URL, so callers never need to know it.
  const systemKey = settings.SystemKeys.durabletask_extension ?? (settings.MasterKey ? randomBytes(24).toString('base64url') : undefined);
  const webhookKeys = [systemKey, settings.MasterKey].filter((k): k is string => Boolean(k));
  const bodyLimit = settings.Host.MaxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_BYTES;
  let urls: ClientUrls = { origin: '', taskHub: hubName, connection: 'Storage', systemKey };
  const resolve: InputResolver = (b) => (b.type === 'durableClient' || b.type === 'orchestrationClient' ? durableClientBinding(urls) : undefined);

  const sendJson = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };

  // One handler for both listeners: the public one (app routes, the key-protected webhooks) and
  // the loopback RPC one (the management API only, without keys, as the extension's).
  const handle = (listener: 'public' | 'rpc') => (req: http.IncomingMessage, res: http.ServerResponse) => {
    void (async () => {
      const method = (req.method ?? 'GET').toUpperCase();
      const escape = badEscape(req.url ?? '/');
      if (escape !== undefined) return sendJson(res, 400, { error: `the URL has a malformed percent-escape: '${escape}'` });
      const url = new URL(req.url ?? '/', listener === 'rpc' ? urls.rpcOrigin : urls.origin);
      const management = listener === 'rpc' ? /^\/durabletask(?:\/|$)/i.test(url.pathname) : isWebhookPath(url.pathname);
      if (listener === 'rpc' && !management) return sendJson(res, 404, { error: `the RPC endpoint serves ${RPC_PREFIX}/ only` });
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v ?? '']));
      if (management && listener === 'public' && webhookKeys.length && !keyMatches(url.searchParams.get('code') ?? headers['x-functions-key'], webhookKeys)) {
        return sendJson(res, 401, { error: 'the Durable management API needs the system key or the master key (code= or x-functions-key)' });
      }
      let body: Buffer;
      try {
        body = await readLimitedBody(req, bodyLimit);
      } catch (err) {
        if (!(err instanceof BodyTooLargeError)) return; // the client went away mid-body
        // Answer, then close: the rest of the body is never read (the socket is paused).
        res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
        res.end(JSON.stringify({ error: err.message }), () => req.socket.end());
        const timer = setTimeout(() => req.socket.destroy(), 2000);
        timer.unref();
        req.socket.once('close', () => clearTimeout(timer));
        return;
      }
      try {
        if (management) {
          const aborted = new AbortController();
          res.once('close', () => aborted.abort());
          const r = await handleManagement(engine, urls, { method, path: url.pathname, query: url.searchParams, body: body.toString('utf8'), headers, url: url.toString(), signal: aborted.signal });
          return sendJson(res, r.status, r.body, r.headers);
        }
        const prefix = config.routePrefix ? `/${config.routePrefix}/` : '/';
        if (!url.pathname.startsWith(prefix) && url.pathname !== prefix.slice(0, -1)) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: `not found: HTTP functions live under ${prefix}` }));
          return;
        }
        const r = await invokeHttp(routes, settings, resolve, { method, url, headers, body, routePath: url.pathname.slice(prefix.length) });
        res.writeHead(r.status, r.headers);
        res.end(r.body);
      } catch (err) {
        log('error', `${method} ${url.pathname}: ${(err as Error).stack ?? err}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (err as Error).message }));
      }
    })();
  };
  const server = http.createServer(handle('public'));
  const rpcServer = http.createServer(handle('rpc'));
  const wanted = o.port ?? settings.Host.LocalHttpPort ?? 7071;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE'
      ? new Error(`port ${wanted} on 127.0.0.1 is already in use: stop the other host, or set Host.LocalHttpPort in local.settings.json / --port`)
      : err));
    server.listen(wanted, '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r, reject) => { rpcServer.once('error', reject); rpcServer.listen(0, '127.0.0.1', () => r()); });
  urls = { ...urls, origin: `http://127.0.0.1:${port}`, rpcOrigin: `http://127.0.0.1:${(rpcServer.address() as AddressInfo).port}` };
  // The SDK's getClient rewrites management URLs to localhost:7071 unless WEBSITE_HOSTNAME says
  // where the host really listens (the Functions host sets it too).
  process.env.WEBSITE_HOSTNAME = `127.0.0.1:${port}`;

  const { resumed } = await engine.start();

  const expand = (s: string) => s.replace(/%([A-Za-z0-9_]+)%/g, (_, n: string) => {
    const v = process.env[n];
    if (v === undefined) throw new Error(`binding refers to %${n}% but no app setting ${n} is defined`);
    return v;
  });
  const stoppers: Array<() => unknown> = [];
  if (o.triggers !== false) {
    for (const fn of registry.byTriggerType('timerTrigger')) stoppers.push(startTimerTrigger(fn, resolve, expand, log).stop);
    for (const fn of [...registry.byTriggerType('queueTrigger'), ...registry.byTriggerType('serviceBusTrigger')]) {
      stoppers.push(startQueueTrigger(fn, { connectionString: cs, maxDequeueCount: config.maxDequeueCount, visibilitySeconds: config.leaseSeconds, retryVisibilitySeconds: config.queueRetryVisibilitySeconds, resolve, expand, log }).stop);
    }
  }
  for (const hook of registry.hooks.get('appStart') ?? []) await hook({ hookData: {}, appHookData: {} });

  return {
    url: urls.origin, rpcUrl: urls.rpcOrigin!, port, hubName, engine, registry, config, resumed,
    async stop() {
      await Promise.all(stoppers.map((s) => s()));
      for (const hook of registry.hooks.get('appTerminate') ?? []) await hook({ hookData: {}, appHookData: {} });
      await engine.stop();
      // Keep-alive connections would hold close() open for their idle timeout.
      const closed = Promise.all([server, rpcServer].map((s) => new Promise<void>((r) => s.close(() => r()))));
      server.closeAllConnections();
      rpcServer.closeAllConnections();
      await closed;
    },
  };
}
