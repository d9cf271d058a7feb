// Who is calling: App Service Authentication's principal in Azure, the dev header locally, and
// never the dev header where LYNCDR_IDENTITY=easy-auth.
import { describe, expect, it } from 'vitest';
import { HttpRequest } from '../../local/azure-functions.js';
import { identityOf } from '../../functions/http/identity.js';

const principal = (claims: Array<{ typ: string; val: string }>, extra: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ auth_typ: 'aad', claims, ...extra })).toString('base64');
const req = (headers: Record<string, string>) => new HttpRequest({ method: 'GET', url: 'http://127.0.0.1/api/runs', headers });

describe('identityOf', () => {
  it('takes the UPN from the principal, whatever the claims order, lower-cased', () => {
    const claims = [
      { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', val: 'alias@contoso.com' },
      { typ: 'preferred_username', val: 'preferred@contoso.com' },
      { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', val: 'Ops1@Contoso.com' },
    ];
    expect(identityOf(req({ 'x-ms-client-principal': principal(claims) }), {})).toEqual({ ok: true, user: 'ops1@contoso.com', source: 'easy-auth' });
    expect(identityOf(req({ 'x-ms-client-principal': principal(claims.slice(0, 2)) }), {})).toMatchObject({ user: 'preferred@contoso.com' });
    expect(identityOf(req({ 'x-ms-client-principal': principal([], { userDetails: 'who@contoso.com' }) }), {})).toMatchObject({ user: 'who@contoso.com' });
  });

  it('the principal wins over the dev header; a principal without an identity is refused', () => {
    const claims = [{ typ: 'upn', val: 'ops1@contoso.com' }];
    expect(identityOf(req({ 'x-ms-client-principal': principal(claims), 'x-lyncdr-user': 'alice' }), {})).toMatchObject({ user: 'ops1@contoso.com' });
    expect(identityOf(req({ 'x-ms-client-principal': 'not base64 json' }), {})).toMatchObject({ ok: false, error: expect.stringMatching(/no usable identity/) });
  });

  it('the dev header locally; refused with easy-auth, and nothing at all is refused', () => {
    expect(identityOf(req({ 'x-lyncdr-user': 'Alice' }), {})).toEqual({ ok: true, user: 'alice', source: 'dev-header' });
    expect(identityOf(req({ 'x-lyncdr-user': 'alice' }), { LYNCDR_IDENTITY: 'easy-auth' })).toMatchObject({ ok: false, error: expect.stringMatching(/App Service Authentication only/) });
    expect(identityOf(req({}), {})).toMatchObject({ ok: false, error: expect.stringMatching(/who are you/) });
  });
});
