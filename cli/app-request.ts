// One request to the app's HTTP API as the CLI makes it: the base URL (--url, LYNCDR_URL, or the
// local host), the identity (--as / LYNCDR_USER locally; in Azure an Entra access token, --token /
// LYNCDR_TOKEN, e.g. $(az account get-access-token --resource api://<client id> --query accessToken -o tsv)).
export interface AppTarget { url?: string; as?: string; token?: string }

export async function appRequest(o: AppTarget, env: NodeJS.ProcessEnv, method: string, path: string, body?: unknown,
  doFetch: typeof fetch = fetch): Promise<Response> {
  const base = (o.url ?? env.LYNCDR_URL ?? 'http://127.0.0.1:7071').replace(/\/+$/, '');
  const user = o.as ?? env.LYNCDR_USER;
  const token = o.token ?? env.LYNCDR_TOKEN;
  try {
    return await doFetch(`${base}/api/${path}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(user ? { 'x-lyncdr-user': user } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
  } catch (e) {
    throw new Error(`cannot reach ${base}: ${(e as Error).message} (is npm start running? --url / LYNCDR_URL)`);
  }
}
