// GET /api/health: is the app up, and can it reach its storage? Used by npm start, probes and
// the dashboard. Anonymous: it reveals nothing but reachability.
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { storageConnectionString, tableService } from '../../shared/storage/connection.js';

export async function health(_req: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const started = Date.now();
  try {
    const iterator = tableService(storageConnectionString()).listTables().byPage({ maxPageSize: 1 });
    await iterator.next();
    return { status: 200, jsonBody: { status: 'ok', storage: 'reachable', storageMs: Date.now() - started } };
  } catch (err) {
    context.warn(`health: storage unreachable: ${(err as Error).message}`);
    return { status: 503, jsonBody: { status: 'degraded', storage: 'unreachable', error: (err as Error).message } };
  }
}

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: health });
