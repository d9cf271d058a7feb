// A loopback HTTP proxy in front of Azurite's table endpoint that counts the requests passing
// through: how a test sees how many round trips an operation costs, without timing anything.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function proxyTo(connectionString: string): Promise<{ connectionString: string; requests(): number; close(): Promise<void> }> {
  const target = new URL(/TableEndpoint=([^;]+)/.exec(connectionString)![1]);
  let count = 0;
  const server = http.createServer((req, res) => {
    count++;
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const proxied = connectionString.replace(/TableEndpoint=[^;]+/, `TableEndpoint=http://127.0.0.1:${port}${target.pathname.replace(/\/$/, '')}`);
  return {
    connectionString: proxied,
    requests: () => count,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
