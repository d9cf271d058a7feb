// Who is calling over HTTP (the API and the e-mailed links), by the rule of shared/identity.
// easy-auth (Azure): App Service Authentication validates the Entra token and passes the
// principal in x-ms-client-principal (base64 JSON; the platform strips it from what clients send,
// so it cannot be forged there); the dev header is refused. dev-header (local): x-lyncdr-user
// names the dev identity (lyncdr --as alice), and x-ms-client-principal is refused, since nothing
// local strips it and anyone could send it.
import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import { IdentitySchema } from '../../shared/approvals/schema.js';
import { appSettings } from '../../shared/config/index.js';
import { AZURE_MARKERS, IdentityConfigError, entraIdentity, identityMode, runsInAzure, unresolved } from '../../shared/identity/index.js';

const Principal = z.object({
  userDetails: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).optional(),
});

export type IdentityResult =
  | { ok: true; user: string; display: string; source: 'easy-auth' | 'dev-header' }
  | { ok: false; error: string };

export function identityOf(req: HttpRequest, env: NodeJS.ProcessEnv = process.env): IdentityResult {
  const principal = req.headers.get('x-ms-client-principal');
  if (identityMode(env) === 'easy-auth') {
    if (!principal) return { ok: false, error: 'sign in: this app takes identities from App Service Authentication only' };
    let p: z.output<typeof Principal>;
    try {
      p = Principal.parse(JSON.parse(Buffer.from(principal, 'base64').toString('utf8')));
    } catch {
      return { ok: false, error: 'x-ms-client-principal is present but is not a principal' };
    }
    // Easy Auth passes the token's claims under their long (WS-Fed) or short names.
    const claim = (...names: RegExp[]) => names.map((n) => p.claims?.find((c) => n.test(c.typ))?.val).find((v) => v);
    const r = entraIdentity({
      oid: claim(/^http:\/\/schemas\.microsoft\.com\/identity\/claims\/objectidentifier$/i, /^oid$/i),
      tid: claim(/^http:\/\/schemas\.microsoft\.com\/identity\/claims\/tenantid$/i, /^tid$/i),
      // For display only: never compared.
      display: claim(/(^|\/)upn$/i, /(^|\/)preferred_username$/i) ?? p.userDetails,
    }, env);
    return r.ok ? { ...r, source: 'easy-auth' } : r;
  }
  if (principal) return { ok: false, error: 'x-ms-client-principal is refused: this app runs with dev-header identities (LYNCDR_IDENTITY), where nothing vouches for that header' };
  const dev = IdentitySchema.safeParse(req.headers.get('x-lyncdr-user') ?? '');
  if (dev.success) return { ok: true, user: dev.data, display: dev.data, source: 'dev-header' };
  return { ok: false, error: 'who are you? send x-lyncdr-user (local dev identity, e.g. lyncdr --as alice)' };
}

/**
 * Run when the app loads (functions/index.ts): refuses to start where no identity could be
 * trusted: dev-header mode on Azure (anyone could name anyone), or easy-auth mode without the
 * tenant or with configured people that resolve to no object id (they would match nobody).
 */
export function checkIdentityStartup(env: NodeJS.ProcessEnv = process.env): void {
  const mode = identityMode(env);
  const azure = runsInAzure(env);
  if (mode === 'dev-header' && azure.length) {
    throw new IdentityConfigError(`refusing to start: LYNCDR_IDENTITY is dev-header (or unset) but this is Azure (${azure.join(', ')} set; checked: ${AZURE_MARKERS.join(', ')}); set LYNCDR_IDENTITY=easy-auth`);
  }
  if (mode !== 'easy-auth') return;
  if (!env.LYNCDR_TENANT_ID) throw new IdentityConfigError('refusing to start: LYNCDR_IDENTITY=easy-auth needs LYNCDR_TENANT_ID (the Entra tenant whose users may sign in)');
  const s = appSettings(env);
  const named = [...(s.operators ?? []), ...Object.values(s.approvalPolicies).flatMap((p) => [...p.approverGroups.primary, ...p.approverGroups.escalation])];
  const bad = unresolved(named, env);
  if (bad.length) throw new IdentityConfigError(`refusing to start: ${bad.slice(0, 5).map((b) => b.slice(0, 64)).join(', ')} in LYNCDR_OPERATORS / LYNCDR_APPROVAL_POLICIES ${bad.length === 1 ? 'is' : 'are'} neither an Entra object id nor in LYNCDR_DIRECTORY`);
}
