// Who is calling (functions/http/identity.ts over shared/identity): the principal's object id in
// the app's tenant in easy-auth mode, never its UPN; the dev header only in dev-header mode.
import { describe, expect, it } from 'vitest';
import { HttpRequest } from '../../local/azure-functions.js';
import { identityOf } from '../../functions/http/identity.js';

const TENANT = '7f1a4c2e-0000-4000-8000-00000000a001';
const OID = '2B8E7D10-1111-4111-8111-00000000B001';
const principal = (claims: Array<{ typ: string; val: string }>, extra: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ auth_typ: 'aad', claims, ...extra })).toString('base64');
const req = (headers: Record<string, string>) => new HttpRequest({ method: 'GET', url: 'http://127.0.0.1/api/runs', headers });
const easy = { LYNCDR_IDENTITY: 'easy-auth', LYNCDR_TENANT_ID: TENANT };

describe('identityOf', () => {
  it('easy-auth: the object id (long or short claim names), lower-cased; the UPN is only shown', () => {
    const long = [
      { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', val: 'Ops1@Contoso.com' },
      { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: OID },
      { typ: 'http://schemas.microsoft.com/identity/claims/tenantid', val: TENANT },
    ];
    expect(identityOf(req({ 'x-ms-client-principal': principal(long) }), easy)).toEqual({ ok: true, user: OID.toLowerCase(), display: 'Ops1@Contoso.com', source: 'easy-auth' });
    const short = [{ typ: 'oid', val: OID }, { typ: 'tid', val: TENANT }];
    expect(identityOf(req({ 'x-ms-client-principal': principal(short, { userDetails: 'who@contoso.com' }) }), easy)).toMatchObject({ user: OID.toLowerCase(), display: 'who@contoso.com' });
  });

  it('easy-auth: no usable principal, another tenant, no tenant configured, or only the dev header: refused', () => {
    expect(identityOf(req({ 'x-ms-client-principal': 'not base64 json' }), easy)).toMatchObject({ ok: false, error: expect.stringMatching(/not a principal/) });
    expect(identityOf(req({ 'x-ms-client-principal': principal([{ typ: 'upn', val: 'ops1@contoso.com' }, { typ: 'tid', val: TENANT }]) }), easy)).toMatchObject({ ok: false, error: expect.stringMatching(/no Entra object id/) });
    expect(identityOf(req({ 'x-ms-client-principal': principal([{ typ: 'oid', val: OID }, { typ: 'tid', val: OID }]) }), easy)).toMatchObject({ ok: false, error: expect.stringMatching(/tenant/) });
    expect(identityOf(req({ 'x-ms-client-principal': principal([{ typ: 'oid', val: OID }, { typ: 'tid', val: TENANT }]) }), { LYNCDR_IDENTITY: 'easy-auth' })).toMatchObject({ ok: false, error: expect.stringMatching(/LYNCDR_TENANT_ID/) });
    expect(identityOf(req({ 'x-lyncdr-user': 'alice' }), easy)).toMatchObject({ ok: false, error: expect.stringMatching(/App Service Authentication only/) });
  });

  it('dev-header (the default): the dev header; the principal header refused; nothing at all refused', () => {
    expect(identityOf(req({ 'x-lyncdr-user': 'Alice' }), {})).toEqual({ ok: true, user: 'alice', display: 'alice', source: 'dev-header' });
    expect(identityOf(req({ 'x-lyncdr-user': 'alice', 'x-ms-client-principal': principal([{ typ: 'oid', val: OID }]) }), {})).toMatchObject({ ok: false, error: expect.stringMatching(/x-ms-client-principal is refused/) });
    expect(identityOf(req({}), {})).toMatchObject({ ok: false, error: expect.stringMatching(/who are you/) });
  });
});
