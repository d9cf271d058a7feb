// Who is calling. In Azure, App Service Authentication (Easy Auth) validates the Entra token and
// passes the principal in x-ms-client-principal (base64 JSON; clients cannot forge it because
// the platform strips it from incoming requests). Locally there is no Easy Auth: the dev identity
// comes from x-lyncdr-user (lyncdr --as <user>). Set LYNCDR_IDENTITY=easy-auth in Azure so the
// dev header is refused there.
import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import { IdentitySchema } from '../../shared/approvals/schema.js';

const Principal = z.object({
  userDetails: z.string().optional(),
  userId: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).optional(),
});

export type IdentityResult = { ok: true; user: string; source: 'easy-auth' | 'dev-header' } | { ok: false; error: string };

export function identityOf(req: HttpRequest, env: NodeJS.ProcessEnv = process.env): IdentityResult {
  const principal = req.headers.get('x-ms-client-principal');
  if (principal) {
    try {
      const p = Principal.parse(JSON.parse(Buffer.from(principal, 'base64').toString('utf8')));
      // The user principal name first: it is what LYNCDR_OPERATORS and the approver groups list,
      // and unlike an e-mail address it is set by the directory's administrators only.
      const claim = (suffix: RegExp) => p.claims?.find((c) => suffix.test(c.typ))?.val;
      const upn = claim(/(^|\/)upn$/i) ?? claim(/(^|\/)preferred_username$/i) ?? claim(/(^|\/)emailaddress$/i) ?? p.userDetails ?? p.userId;
      const id = IdentitySchema.safeParse(upn);
      if (id.success) return { ok: true, user: id.data, source: 'easy-auth' };
    } catch { /* fall through */ }
    return { ok: false, error: 'x-ms-client-principal is present but carries no usable identity' };
  }
  if (env.LYNCDR_IDENTITY === 'easy-auth') return { ok: false, error: 'sign in: this app takes identities from App Service Authentication only' };
  const dev = IdentitySchema.safeParse(req.headers.get('x-lyncdr-user') ?? '');
  if (dev.success) return { ok: true, user: dev.data, source: 'dev-header' };
  return { ok: false, error: 'who are you? send x-lyncdr-user (local dev identity, e.g. lyncdr --as alice) or sign in through App Service Authentication' };
}
