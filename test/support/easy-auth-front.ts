// App Service Authentication as it stands in front of the Function App in Azure, which cannot run
// here: a request with a bearer token it knows goes on to the app with that identity's
// x-ms-client-principal (a principal header the caller sent is dropped, as the platform drops
// it); without a known token the caller is turned away with 401 before the app sees anything.
// It records what callers sent it, as the platform's request log would.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EasyAuthFront {
  url: string;
  /** Per request: the Authorization and x-lyncdr-user headers the caller sent. */
  seen: Array<[string | undefined, string | undefined]>;
  stop(): Promise<void>;
}

/** The base64 x-ms-client-principal App Service makes for an Entra user: object id, tenant, UPN. */
export const entraPrincipal = (oid: string, tenant: string, upn: string) => Buffer.from(JSON.stringify({
  auth_typ: 'aad',
  claims: [
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: oid },
    { typ: 'http://schemas.microsoft.com/identity/claims/tenantid', val: tenant },
    { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', val: upn },
  ],
})).toString('base64');

/** `principals`: bearer token -> the base64 x-ms-client-principal the platform would make of it. */
export async function startEasyAuthFront(app: string, principals: Record<string, string>): Promise<EasyAuthFront> {
  const seen: EasyAuthFront['seen'] = [];
  const server = http.createServer((req, res) => {
    const user = req.headers['x-lyncdr-user'];
    seen.push([req.headers.authorization, typeof user === 'string' ? user : undefined]);
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const principal = token === undefined ? undefined : principals[token];
    if (!principal) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('You do not have permission to view this directory or page.');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = { 'x-ms-client-principal': principal };
      for (const h of ['content-type', 'x-lyncdr-user']) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
      fetch(`${app}${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined })
        .then(async (r) => { res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await r.arrayBuffer())); })
        .catch((err: Error) => { res.writeHead(502).end(err.message); });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
