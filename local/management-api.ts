// The Durable Functions HTTP management API (the paths the SDK's DurableClient calls through
// rpcBaseUrl, and the webhook URLs createCheckStatusResponse hands out), served by the local host.
// Every request is validated before anything is written: a rejected request leaves no trace.
import {
  BadRequestError, type DurableEngine, type StatusView,
} from './engine/engine.js';
import type { RuntimeStatus, InstanceQuery } from './engine/store.js';

export interface ApiRequest { method: string; path: string; query: URLSearchParams; body: string; headers: Record<string, string | undefined> }
export interface ApiResponse { status: number; body?: unknown; headers?: Record<string, string> }

export const WEBHOOK_PREFIX = '/runtime/webhooks/durabletask';
const STATUSES: RuntimeStatus[] = ['Pending', 'Running', 'Completed', 'Failed', 'Terminated', 'ContinuedAsNew', 'Suspended'];

export interface ClientUrls {
  origin: string;
  taskHub: string;
  connection: string;
}

/** The durableClient input binding's value, as the Durable extension hands it to the worker. */
export function durableClientBinding(u: ClientUrls) {
  const base = `${u.origin}${WEBHOOK_PREFIX}`;
  const qs = `taskHub=${encodeURIComponent(u.taskHub)}&connection=${u.connection}`;
  return {
    taskHubName: u.taskHub,
    creationUrls: {
      createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${qs}`,
      createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${qs}`,
    },
    managementUrls: managementPayload(u, 'INSTANCEID'),
    baseUrl: base,
    requiredQueryStringParameters: qs,
    rpcBaseUrl: `${base}/`,
    httpBaseUrl: '',
    maxGrpcMessageSizeInBytes: 0,
    grpcHttpClientTimeout: '00:01:40',
  };
}

function managementPayload(u: ClientUrls, id: string) {
  const base = `${u.origin}${WEBHOOK_PREFIX}/instances/${encodeURIComponent(id)}`;
  const qs = `taskHub=${encodeURIComponent(u.taskHub)}&connection=${u.connection}`;
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

function parseBool(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^(true|false)$/i.test(v)) throw new BadRequestError(`query parameter ${name} must be true or false, not '${v}'`);
  return v.toLowerCase() === 'true';
}

function parseDate(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new BadRequestError(`query parameter ${name} is not a date: '${v}'`);
  return new Date(t).toISOString();
}

function parseQuery(q: URLSearchParams): InstanceQuery {
  const out: InstanceQuery = {};
  const status = q.get('runtimeStatus');
  if (status) {
    const list = status.split(',').map((s) => s.trim()).filter(Boolean);
    for (const s of list) {
      if (!STATUSES.includes(s as RuntimeStatus)) throw new BadRequestError(`runtimeStatus '${s}' is not one of ${STATUSES.join(', ')}`);
    }
    out.runtimeStatus = list as RuntimeStatus[];
  }
  out.createdTimeFrom = parseDate(q, 'createdTimeFrom');
  out.createdTimeTo = parseDate(q, 'createdTimeTo');
  const top = q.get('top');
  if (top !== null) {
    if (!/^\d+$/.test(top) || Number(top) < 1 || Number(top) > 1000) throw new BadRequestError(`top must be a whole number from 1 to 1000, not '${top}'`);
    out.top = Number(top);
  }
  const prefix = q.get('instanceIdPrefix');
  if (prefix) out.instanceIdPrefix = prefix;
  return out;
}

function statusCodeFor(s: StatusView): number {
  if (s.runtimeStatus === 'Pending' || s.runtimeStatus === 'Running' || s.runtimeStatus === 'ContinuedAsNew' || s.runtimeStatus === 'Suspended') return 202;
  if (s.runtimeStatus === 'Completed') return 200;
  return 400; // Failed / Terminated, as the Durable extension answers
}

function bodyJson(body: string): string | undefined {
  if (body === '') return undefined;
  try {
    JSON.parse(body);
  } catch {
    throw new BadRequestError('the request body is not valid JSON');
  }
  return body;
}

export async function handleManagement(engine: DurableEngine, urls: ClientUrls, req: ApiRequest): Promise<ApiResponse> {
  const rest = req.path.slice(WEBHOOK_PREFIX.length).replace(/^\/+/, '');
  const parts = rest.split('/').map((p) => decodeURIComponent(p));
  const method = req.method.toUpperCase();
  try {
    const hub = req.query.get('taskHub');
    if (hub && hub.toLowerCase() !== urls.taskHub.toLowerCase()) return err(404, `task hub '${hub}' is not served here (this host serves '${urls.taskHub}')`);

    if (parts[0] === 'orchestrators') {
      if (method !== 'POST') return err(405, 'use POST to start an orchestration');
      const [, name, instanceId, extra] = parts;
      if (!name) return err(400, 'the orchestrator function name is missing: POST orchestrators/{functionName}[/{instanceId}]');
      if (extra !== undefined) return err(400, 'too many path segments: POST orchestrators/{functionName}[/{instanceId}]');
      if (instanceId === '') return err(400, 'the instance id is empty');
      const input = bodyJson(req.body);
      const id = await engine.startNew(name, instanceId, input);
      const payload = managementPayload(urls, id);
      return { status: 202, body: payload, headers: { Location: payload.statusQueryGetUri, 'Retry-After': '1' } };
    }

    if (parts[0] === 'instances') {
      const id = parts[1] ?? '';
      const action = parts[2];
      if (id === '') {
        const q = parseQuery(req.query);
        if (method === 'GET') {
          const page = await engine.list({ ...q, continuationToken: req.headers['x-ms-continuation-token'] || undefined });
          return { status: 200, body: page.statuses, headers: page.continuationToken ? { 'x-ms-continuation-token': page.continuationToken } : {} };
        }
        if (method === 'DELETE') {
          if (!q.runtimeStatus && !q.createdTimeFrom) return err(400, 'purging by filter needs createdTimeFrom or runtimeStatus, so that nothing is deleted by accident');
          const n = await engine.purgeWhere(q);
          return n ? { status: 200, body: { instancesDeleted: n } } : err(404, 'no instance matched the filter');
        }
        return err(405, `${method} is not supported on instances/`);
      }
      if (action === undefined) {
        if (method === 'GET') {
          const status = await engine.getStatus(id, {
            showHistory: parseBool(req.query, 'showHistory'),
            showHistoryOutput: parseBool(req.query, 'showHistoryOutput'),
            showInput: parseBool(req.query, 'showInput'),
          });
          if (!status) return err(404, `no instance with id '${id}'`);
          return { status: statusCodeFor(status), body: status };
        }
        if (method === 'DELETE') {
          const n = await engine.purge(id);
          return { status: 200, body: { instancesDeleted: n } };
        }
        return err(405, `${method} is not supported on instances/{id}`);
      }
      if (method !== 'POST') return err(405, `use POST for ${action}`);
      if (action === 'raiseEvent') {
        const name = parts[3];
        if (!name) return err(400, 'the event name is missing: POST instances/{id}/raiseEvent/{eventName}');
        if (parts.length > 4) return err(400, 'too many path segments after the event name');
        await engine.raiseEvent(id, name, bodyJson(req.body));
        return { status: 202 };
      }
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
      return err(404, `unknown instance operation '${action}'`);
    }
    return err(404, `unknown management path '${rest}'`);
  } catch (e) {
    const status = (e as { status?: number }).status;
    if (status) return err(status, (e as Error).message);
    throw e;
  }
}
