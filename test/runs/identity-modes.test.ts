// Who the app takes a caller to be, over the real local host as a child process: in easy-auth mode
// only App Service Authentication's principal counts, authorised on its object id within the
// tenant (never on its UPN), and the dev header is ignored; in dev-header mode the principal
// header is refused; dev-header mode does not start where Azure's own variables say it is Azure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azurite, uniqueName } from '../support/azurite.js';
import { spawnHost, type HostProcess } from '../support/host-process.js';
import { APP, runsSettings } from './support.js';

const TENANT = '7f1a4c2e-0000-4000-8000-00000000a001';
const OPS_OID = '2b8e7d10-1111-4111-8111-00000000b001';
const OTHER_OID = '2b8e7d10-2222-4222-8222-00000000b002';
const DIRECT_OID = '2b8e7d10-3333-4333-8333-00000000b003';

const principal = (claims: Record<string, string>) => Buffer.from(JSON.stringify({
  auth_typ: 'aad',
  claims: Object.entries(claims).map(([typ, val]) => ({ typ, val })),
})).toString('base64');
const entra = (oid: string, upn: string, tid = TENANT) => principal({
  'http://schemas.microsoft.com/identity/claims/objectidentifier': oid,
  'http://schemas.microsoft.com/identity/claims/tenantid': tid,
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn': upn,
});

const settings = (extra: Record<string, string>) => ({ ...runsSettings(uniqueName('t').toLowerCase().slice(0, 12)), ...extra });
const start = (env: Record<string, string>) => spawnHost({ hub: uniqueName('IdHub'), entry: APP, connectionString: azurite(), env });

async function call(h: HostProcess, method: string, p: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(`${h.url}/api/${p}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}
// Operators only, and refused before anything is looked up: 403 for a non-operator, 404 (no such
// lock) for an operator, with nothing else touched.
const release = (h: HostProcess, headers: Record<string, string>) => call(h, 'POST', 'locks/release', headers, { lock: 'test:identity-none', reason: 'identity test' });

describe('easy-auth mode (LYNCDR_IDENTITY=easy-auth)', () => {
  let h: HostProcess;
  beforeAll(async () => {
    h = await start(settings({
      LYNCDR_IDENTITY: 'easy-auth', LYNCDR_TENANT_ID: TENANT,
      // One operator named by UPN (resolved through the directory), one by object id.
      LYNCDR_DIRECTORY: JSON.stringify({ 'Ops1@Contoso.com': OPS_OID, 'alice@contoso.com': OTHER_OID }),
      LYNCDR_OPERATORS: JSON.stringify(['ops1@contoso.com', DIRECT_OID]),
      LYNCDR_APPROVAL_POLICIES: JSON.stringify({ default: { required: 1, approverGroups: { primary: ['alice@contoso.com'] }, timeoutMinutes: 30, escalationTimeoutMinutes: 30 } }),
    }));
  }, 60_000);
  afterAll(async () => { await h?.stop(); });

  it('accepts x-ms-client-principal and authorises on its object id, whichever way the configuration names the person', async () => {
    expect((await call(h, 'GET', 'runs', { 'x-ms-client-principal': entra(OTHER_OID, 'alice@contoso.com') })).status).toBe(200);
    expect(await release(h, { 'x-ms-client-principal': entra(OPS_OID, 'ops1@contoso.com') })).toMatchObject({ status: 404 });
    expect(await release(h, { 'x-ms-client-principal': entra(DIRECT_OID, 'someone@contoso.com') })).toMatchObject({ status: 404 });
  });

  it('a principal with the operator\'s UPN but another object id is not the operator', async () => {
    const r = await release(h, { 'x-ms-client-principal': entra(OTHER_OID, 'ops1@contoso.com') });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatch(new RegExp(`^${OTHER_OID} may not release a lock`));
  });

  it('ignores x-lyncdr-user: alone it is 401, beside a principal the principal decides', async () => {
    const alone = await call(h, 'GET', 'runs', { 'x-lyncdr-user': 'ops1@contoso.com' });
    expect(alone).toMatchObject({ status: 401, body: { error: expect.stringMatching(/App Service Authentication only/) } });
    expect((await release(h, { 'x-lyncdr-user': 'ops1@contoso.com', 'x-ms-client-principal': entra(OTHER_OID, 'alice@contoso.com') })).status).toBe(403);
  });

  it('refuses a principal of another tenant or without an object id', async () => {
    expect(await call(h, 'GET', 'runs', { 'x-ms-client-principal': entra(OPS_OID, 'ops1@contoso.com', '7f1a4c2e-0000-4000-8000-00000000ffff') }))
      .toMatchObject({ status: 401, body: { error: expect.stringMatching(/not of this app's tenant/) } });
    expect(await call(h, 'GET', 'runs', { 'x-ms-client-principal': principal({ upn: 'ops1@contoso.com', tid: TENANT }) }))
      .toMatchObject({ status: 401, body: { error: expect.stringMatching(/no Entra object id/) } });
  });
});

describe('dev-header mode (LYNCDR_IDENTITY=dev-header)', () => {
  let h: HostProcess;
  beforeAll(async () => { h = await start(settings({ LYNCDR_IDENTITY: 'dev-header', LYNCDR_OPERATORS: '["operator1"]' })); }, 60_000);
  afterAll(async () => { await h?.stop(); });

  it('refuses x-ms-client-principal, even beside a valid dev header', async () => {
    const r = await call(h, 'GET', 'runs', { 'x-ms-client-principal': entra(OPS_OID, 'operator1') });
    expect(r).toMatchObject({ status: 401, body: { error: expect.stringMatching(/x-ms-client-principal is refused/) } });
    expect((await call(h, 'GET', 'runs', { 'x-ms-client-principal': entra(OPS_OID, 'operator1'), 'x-lyncdr-user': 'operator1' })).status).toBe(401);
  });

  it('takes x-lyncdr-user', async () => {
    expect((await call(h, 'GET', 'runs', { 'x-lyncdr-user': 'alice' })).status).toBe(200);
    expect((await release(h, { 'x-lyncdr-user': 'Operator1' })).status).toBe(404);
    expect((await release(h, { 'x-lyncdr-user': 'alice' })).status).toBe(403);
  });
});

describe('startup', () => {
  it.each([
    ['dev-header with WEBSITE_SITE_NAME', { LYNCDR_IDENTITY: 'dev-header', WEBSITE_SITE_NAME: 'lyncdr-prod' }, /refusing to start: LYNCDR_IDENTITY is dev-header \(or unset\) but this is Azure \(WEBSITE_SITE_NAME set/],
    ['unset (dev-header) with WEBSITE_INSTANCE_ID', { LYNCDR_IDENTITY: '', WEBSITE_INSTANCE_ID: '0f3c9a' }, /this is Azure \(WEBSITE_INSTANCE_ID set/],
    ['easy-auth without a tenant', { LYNCDR_IDENTITY: 'easy-auth' }, /easy-auth needs LYNCDR_TENANT_ID/],
    ['easy-auth with an operator the directory does not resolve', { LYNCDR_IDENTITY: 'easy-auth', LYNCDR_TENANT_ID: TENANT, LYNCDR_OPERATORS: '["nobody@contoso.com"]', LYNCDR_DIRECTORY: '{}' }, /nobody@contoso\.com.* neither an Entra object id nor in LYNCDR_DIRECTORY/],
  ])('is refused: %s (the host exits with its reason)', async (_name, env, reason) => {
    const err = await start(settings(env)).then(async (h) => { await h.stop(); return undefined; }, (e: Error) => e);
    expect(err?.message).toMatch(/^host exited with 1:/);
    expect(err?.message).toMatch(reason);
  }, 60_000);

  it('easy-auth with WEBSITE_SITE_NAME starts', async () => {
    const h = await start(settings({ LYNCDR_IDENTITY: 'easy-auth', LYNCDR_TENANT_ID: TENANT, WEBSITE_SITE_NAME: 'lyncdr-prod', LYNCDR_OPERATORS: JSON.stringify([OPS_OID]),
      LYNCDR_APPROVAL_POLICIES: JSON.stringify({ default: { required: 1, approverGroups: { primary: [OTHER_OID] }, timeoutMinutes: 30, escalationTimeoutMinutes: 30 } }) }));
    try {
      expect((await call(h, 'GET', 'runs', { 'x-ms-client-principal': entra(OPS_OID, 'ops1@contoso.com') })).status).toBe(200);
    } finally { await h.stop(); }
  }, 60_000);
});
