// The Durable Functions HTTP management API (the paths the SDK's DurableClient calls through
// rpcBaseUrl, and the webhook URLs createCheckStatusResponse hands out), served by the local host.
// Every request is validated before anything is written: a rejected request leaves no trace.
// Status codes, routes and query parsing follow the extension's HttpApiHandler: unmatched routes
// and wrong methods answer 404, query values that do not parse are ignored, operation names are
// case-insensitive.
import {
  BadRequestError, NotFoundError, type DurableEngine, type StatusView,
} from './engine/engine.js';
import type { RuntimeStatus, InstanceQuery } from './engine/store.js';
import { statusPayload } from './status-payload.js';
import { JsonTooDeepError, parseJsonWithDepthLimit } from '../shared/json/depth.js';

export interface ApiRequest {
  method: string; path: string; query: URLSearchParams; body: string; headers: Record<string, string | undefined>;
  /** The request's full URL (the Location of a 202 status answer); built from the origin when absent. */
  url?: string;
  /** Aborted when the caller goes away: a start that waits for completion stops waiting. */
  signal?: AbortSignal;
}
export interface ApiResponse { status: number; body?: unknown; headers?: Record<string, string> }

export const WEBHOOK_PREFIX = '/runtime/webhooks/durabletask';
/** The extension's local RPC endpoint path (its own loopback listener, as rpcBaseUrl in Azure). */
export const RPC_PREFIX = '/durabletask';
const PREFIX_RULE = /^\/(?:runtime\/webhooks\/durabletask|durabletask)(?=\/|$)/i;

/** Whether a path is the management API's: the Functions host matches webhook paths case-insensitively. */
export const isWebhookPath = (pathname: string) => /^\/runtime\/webhooks\/durabletask(?:\/|$)/i.test(pathname);

// OrchestrationRuntimeStatus's names and numbers, as Enum.TryParse reads them.
const STATUSES: RuntimeStatus[] = ['Pending', 'Running', 'Completed', 'Failed', 'Terminated', 'ContinuedAsNew', 'Suspended'];
const STATUS_NUMBERS: Record<string, RuntimeStatus> = { 0: 'Running', 1: 'Completed', 2: 'ContinuedAsNew', 3: 'Failed', 5: 'Terminated', 6: 'Pending', 7: 'Suspended' };

export interface ClientUrls {
  origin: string;
  taskHub: string;
  connection: string;
  /** The durabletask_extension system key: appended as code= to every URL the binding hands out. */
  systemKey?: string;
  /** Origin of the key-less loopback RPC listener the SDK's DurableClient calls (rpcBaseUrl). */
  rpcOrigin?: string;
}

/** taskHub, connection and (when keys are on) code=<systemKey>, as the extension's requiredQueryStringParameters. */
function universalQuery(u: ClientUrls): string {
  const qs = `taskHub=${encodeURIComponent(u.taskHub)}&connection=${u.connection}`;
  return u.systemKey ? `${qs}&code=${encodeURIComponent(u.systemKey)}` : qs;
}

/** The durableClient input binding's value, as the Durable extension hands it to the worker. */
export function durableClientBinding(u: ClientUrls) {
  const base = `${u.origin}${WEBHOOK_PREFIX}`;
  const qs = universalQuery(u);
  return {
    taskHubName: u.taskHub,
    creationUrls: {
      createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${qs}`,
      createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${qs}`,
    },
    managementUrls: managementPayload(u, 'INSTANCEID'),
    baseUrl: base,
    requiredQueryStringParameters: qs,
    // The SDK prefers rpcBaseUrl and appends no key to it: in Azure it is the extension's own
    // loopback listener, which needs none. So is the local host's.
    rpcBaseUrl: u.rpcOrigin ? `${u.rpcOrigin}${RPC_PREFIX}/` : `${base}/`,
    httpBaseUrl: '',
    maxGrpcMessageSizeInBytes: 0,
    grpcHttpClientTimeout: '00:01:40',
  };
}

function managementPayload(u: ClientUrls, id: string) {
  const base = `${u.origin}${WEBHOOK_PREFIX}/instances/${encodeURIComponent(id)}`;
  const qs = universalQuery(u);
  return {
    id,
    statusQueryGetUri: `${base}?${qs}`,
    sendEventPostUri: `${base}/raiseEvent/{eventName}?${qs}`,
    terminatePostUri: `${base}/terminate?reason={text}&${qs}`,
    rewindPostUri: `${base}/rewind?reason={text}&${qs}`,
    purgeHistoryDeleteUri: `${base}?${qs}`,
    restartPostUri: `${base}/restart?${qs}`,
    suspendPostUri: `${base}/suspend?reason={text}&${qs}`,
    resumePostUri: `${base}/resume?reason={text}&${qs}`,
  };
}

const err = (status: number, message: string): ApiResponse => ({ status, body: { error: message } });

// The extension's TryGet*QueryParameterValue: a value that does not parse is ignored (the default
// applies), never a 400.
function parseBool(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name)?.trim().toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : undefined;
}

function parseDate(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  if (v === null || v.trim() === '') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

function parseSeconds(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function parseQuery(q: URLSearchParams): InstanceQuery {
  const out: InstanceQuery = {};
  const list = q.getAll('runtimeStatus').flatMap((v) => v.split(',')).map((s) => s.trim())
    .map((s) => (STATUSES.includes(s as RuntimeStatus) ? (s as RuntimeStatus) : STATUS_NUMBERS[s])).filter(Boolean);
  if (list.length) out.runtimeStatus = [...new Set(list)];
  out.createdTimeFrom = parseDate(q, 'createdTimeFrom');
  out.createdTimeTo = parseDate(q, 'createdTimeTo');
  const top = Number(q.get('top') ?? '');
  if (Number.isInteger(top) && top >= 1) out.top = Math.min(top, 1000);
  const prefix = q.get('instanceIdPrefix');
  if (prefix) out.instanceIdPrefix = prefix;
  return out;
}

/** A token this host handed out (base64 of the table continuation); anything else is a 400. */
function continuationToken(headers: ApiRequest['headers']): string | undefined {
  const token = headers['x-ms-continuation-token'];
  if (!token) return undefined;
  let ok = false;
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(token)) {
    try {
      const t = JSON.parse(Buffer.from(token, 'base64').toString('latin1')) as { nextPartitionKey?: unknown; nextRowKey?: unknown };
      ok = typeof t === 'object' && t !== null && typeof t.nextPartitionKey === 'string' && ['string', 'undefined'].includes(typeof t.nextRowKey);
    } catch { /* not JSON: refused below */ }
  }
  if (!ok) throw new BadRequestError('the x-ms-continuation-token header is not a continuation token this API handed out');
  return token;
}

const TERMINAL_STATUSES = new Set<RuntimeStatus>(['Completed', 'Failed', 'Terminated']);

/** HandleGetStatusRequestAsync: 202 with Location and Retry-After while running; 200 once ended, 500 for Failed only on request. */
function statusResponse(s: StatusView, requestUrl: string, serverErrorOnFailure: boolean): ApiResponse {
  const body = statusPayload(s);
  if (TERMINAL_STATUSES.has(s.runtimeStatus)) return { status: s.runtimeStatus === 'Failed' && serverErrorOnFailure ? 500 : 200, body };
  // Running, Pending, ContinuedAsNew (and Suspended): ask for 5 s, as the extension does.
  return { status: 202, body, headers: { Location: requestUrl, 'Retry-After': '5' } };
}

/** The 202 check-status answer to a start (CreateCheckStatusResponseMessage: no rewind link). */
function checkStatusResponse(urls: ClientUrls, id: string): ApiResponse {
  const { rewindPostUri: _rewind, ...links } = managementPayload(urls, id);
  return { status: 202, body: links, headers: { Location: links.statusQueryGetUri, 'Retry-After': '10' } };
}

function bodyJson(body: string): string | undefined {
  if (body === '') return undefined;
  try {
    // Json.NET's MaxDepth (64) makes the extension refuse deeper input as invalid JSON, too.
    parseJsonWithDepthLimit(body);
  } catch (e) {
    throw new BadRequestError(e instanceof JsonTooDeepError ? `the request body is not valid JSON: ${e.message}` : 'the request body is not valid JSON');
  }
  return body;
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

/**
 * createAndWaitOnNewInstance: polls every pollingInterval until the instance ends or the timeout
 * passes (the Azure Storage provider has no poll-free wait either). 200 with the output when it
 * completed, the status (200) when it failed or was terminated, else the 202 check-status answer.
 */
async function startAndWait(engine: DurableEngine, urls: ClientUrls, req: ApiRequest, id: string, timeoutS: number, intervalS: number): Promise<ApiResponse> {
  const started = performance.now();
  const timeoutMs = timeoutS * 1000;
  for (;;) {
    const s = await engine.getStatus(id, {});
    if (s?.runtimeStatus === 'Completed') return { status: 200, body: s.output };
    if (s && TERMINAL_STATUSES.has(s.runtimeStatus)) {
      const full = await engine.getStatus(id, { showHistory: parseBool(req.query, 'showHistory'), showHistoryOutput: parseBool(req.query, 'showHistoryOutput'), showInput: parseBool(req.query, 'showInput') });
      return statusResponse(full ?? s, requestUrlOf(urls, req), false);
    }
    const elapsed = performance.now() - started;
    if (elapsed >= timeoutMs || req.signal?.aborted) return checkStatusResponse(urls, id);
    await sleep(Math.min(intervalS * 1000, timeoutMs - elapsed), req.signal);
  }
}

function requestUrlOf(urls: ClientUrls, req: ApiRequest): string {
  if (req.url) return req.url;
  const qs = req.query.toString();
  return `${urls.origin}${req.path}${qs ? `?${qs}` : ''}`;
}

/** Splits the path after the prefix into decoded segments; an escape that does not decode is a 400. */
function segments(path: string): string[] {
  const rest = path.replace(PREFIX_RULE, '').replace(/^\/+|\/+$/g, '');
  if (rest === '') return [];
  try {
    return rest.split('/').map((p) => decodeURIComponent(p));
  } catch {
    throw new BadRequestError(`the path has a malformed percent-escape: '${rest.slice(0, 120)}'`);
  }
}

const notFound = (what: string): ApiResponse => err(404, `no management API route for ${what}`);

export async function handleManagement(engine: DurableEngine, urls: ClientUrls, req: ApiRequest): Promise<ApiResponse> {
  const method = req.method.toUpperCase();
  try {
    const parts = segments(req.path);
    const route = `${method} ${parts.join('/') || '/'}`;
    const controller = parts[0]?.toLowerCase();
    const hub = req.query.get('taskHub');
    if (hub && hub.toLowerCase() !== urls.taskHub.toLowerCase()) return err(404, `task hub '${hub}' is not served here (this host serves '${urls.taskHub}')`);

    // orchestrators/{functionName}/{instanceId?}
    if (controller === 'orchestrators') {
      const [, name, instanceId, extra] = parts;
      if (!name || extra !== undefined || method !== 'POST') return notFound(route);
      const input = bodyJson(req.body);
      let id: string;
      try {
        id = await engine.startNew(name, instanceId, input);
      } catch (e) {
        // The extension answers an unknown orchestrator with 400 (an ArgumentException).
        if (e instanceof NotFoundError) throw new BadRequestError(e.message);
        throw e;
      }
      const timeout = parseSeconds(req.query, 'timeout');
      const interval = parseSeconds(req.query, 'pollingInterval');
      if (timeout !== undefined && interval !== undefined) {
        if (interval > timeout) return err(400, `Total timeout ${timeout} should be bigger than retry timeout ${interval}`);
        return await startAndWait(engine, urls, req, id, timeout, interval);
      }
      return checkStatusResponse(urls, id);
    }

    if (controller === 'instances') {
      const id = parts[1] ?? '';
      const action = parts[2]?.toLowerCase();
      if (id === '') {
        if (parts.length > 1) return notFound(route);
        const q = parseQuery(req.query);
        if (method === 'GET') {
          const page = await engine.list({ ...q, continuationToken: continuationToken(req.headers) });
          return { status: 200, body: page.statuses.map(statusPayload), headers: page.continuationToken ? { 'x-ms-continuation-token': page.continuationToken } : {} };
        }
        if (method === 'DELETE') {
          // The extension's purge by filter needs createdTimeFrom; createdTimeTo defaults to now and
          // instanceIdPrefix is not a purge filter.
          if (!q.createdTimeFrom) return err(400, "Please provide value for 'createdTimeFrom' parameter.");
          const n = await engine.purgeWhere({ runtimeStatus: q.runtimeStatus, createdTimeFrom: q.createdTimeFrom, createdTimeTo: q.createdTimeTo ?? new Date().toISOString() });
          return n ? { status: 200, body: { instancesDeleted: n } } : err(404, 'no instance matched the filter');
        }
        return notFound(route);
      }
      if (action === undefined) {
        if (method === 'GET') {
          const status = await engine.getStatus(id, {
            showHistory: parseBool(req.query, 'showHistory'),
            showHistoryOutput: parseBool(req.query, 'showHistoryOutput'),
            showInput: parseBool(req.query, 'showInput'),
          });
          if (!status) return err(404, `no instance with id '${id}'`);
          return statusResponse(status, requestUrlOf(urls, req), parseBool(req.query, 'returnInternalServerErrorOnFailure') ?? false);
        }
        if (method === 'DELETE') {
          const status = await engine.getStatus(id, {});
          if (!status) return err(404, `no instance with id '${id}'`);
          // 412, as the extension: only instances in a terminal state can be purged.
          if (!TERMINAL_STATUSES.has(status.runtimeStatus)) return err(412, `Only orchestrations in a terminal state can be purged, but the orchestration with instance ID ${id} has status ${status.runtimeStatus}`);
          const n = await engine.purge(id);
          return { status: 200, body: { instancesDeleted: n } };
        }
        return notFound(route);
      }
      if (method !== 'POST') return notFound(route);
      if (action === 'raiseevent') {
        const name = parts[3];
        if (!name || parts.length > 4) return notFound(route);
        // The extension's order: the instance (404, 410 once ended), then the media type, then the JSON.
        const status = await engine.getStatus(id, {});
        if (!status) return err(404, `no instance with id '${id}'`);
        if (TERMINAL_STATUSES.has(status.runtimeStatus)) return err(410, `instance '${id}' is ${status.runtimeStatus}`);
        const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        if (mediaType !== 'application/json') return err(400, 'Only application/json request content is supported');
        await engine.raiseEvent(id, name, bodyJson(req.body));
        return { status: 202 };
      }
      if (parts.length > 3) return notFound(route);
      if (action === 'terminate') {
        await engine.terminate(id, req.query.get('reason') ?? '');
        return { status: 202 };
      }
      if (action === 'suspend' || action === 'resume') {
        await engine[action](id, req.query.get('reason') ?? '');
        return { status: 202 };
      }
      if (action === 'restart') {
        const newId = await engine.restart(id, parseBool(req.query, 'restartWithNewInstanceId') ?? true);
        const payload = managementPayload(urls, newId);
        return { status: 202, body: payload, headers: { Location: payload.statusQueryGetUri, 'Retry-After': '1' } };
      }
      if (action === 'rewind') {
        // A JSON string, not { error }: the SDK's rewind() makes its Error message of the body as is.
        return { status: 501, body: 'rewind is not supported by the lyncdr local host (restart runs the orchestration again with the same input)' };
      }
      return notFound(route);
    }
    return notFound(route);
  } catch (e) {
    const status = (e as { status?: number }).status;
    if (status) return err(status, (e as Error).message);
    throw e;
  }
}
