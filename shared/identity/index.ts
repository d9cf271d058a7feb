// Who someone is, for every channel (the HTTP API, the e-mailed links, Teams): one rule.
//
// LYNCDR_IDENTITY=easy-auth (Azure): people are Entra objects. They are authorised on their object
// id (`oid`) within the app's tenant (`tid` = LYNCDR_TENANT_ID), the claims Microsoft recommends
// because they never change or get reassigned; a UPN, e-mail address or display name can be
// renamed or reused, so it is shown, never compared. Configuration (LYNCDR_OPERATORS, the approver
// groups) names people by object id; a UPN (or any other name) there is resolved through the
// directory map LYNCDR_DIRECTORY ({"alice@contoso.com": "<oid>"}), which the administrator who
// writes the configuration keeps. A name the map does not resolve matches nobody, and the app
// refuses to start with one (checkIdentityStartup).
//
// LYNCDR_IDENTITY=dev-header (the default, local only): the identity is the x-lyncdr-user header
// (lyncdr --as alice), compared as written (trimmed, lower-cased). Nothing resolves.
import { z } from 'zod';

export type IdentityMode = 'easy-auth' | 'dev-header';

const ObjectId = z.uuid().transform((s) => s.toLowerCase());
export const isObjectId = (s: string) => ObjectId.safeParse(s).success;

export class IdentityConfigError extends Error {
  override name = 'IdentityConfigError';
}

export function identityMode(env: NodeJS.ProcessEnv = process.env): IdentityMode {
  const v = env.LYNCDR_IDENTITY || 'dev-header';
  if (v !== 'easy-auth' && v !== 'dev-header') throw new IdentityConfigError(`LYNCDR_IDENTITY must be easy-auth or dev-header, not ${v.slice(0, 40)}`);
  return v;
}

/**
 * Whether this process runs on Azure App Service / Functions. The platform sets WEBSITE_INSTANCE_ID
 * (the instance) and WEBSITE_SITE_NAME (the app) on every plan, Consumption and Flex included;
 * nothing local sets them (the local host sets WEBSITE_HOSTNAME for the Durable SDK, so that one
 * is not a sign of Azure).
 */
export const AZURE_MARKERS = ['WEBSITE_INSTANCE_ID', 'WEBSITE_SITE_NAME'] as const;
export const runsInAzure = (env: NodeJS.ProcessEnv = process.env) => AZURE_MARKERS.filter((k) => !!env[k]);

const norm = (s: string) => s.trim().toLowerCase();

/** LYNCDR_DIRECTORY: name or UPN (lower-cased) -> object id. */
export function directoryOf(env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const raw = env.LYNCDR_DIRECTORY;
  if (!raw) return new Map();
  let parsed: unknown;
  try { parsed = JSON.parse(raw); } catch (err) { throw new IdentityConfigError(`LYNCDR_DIRECTORY is not JSON: ${(err as Error).message}`); }
  const r = z.record(z.string(), ObjectId).safeParse(parsed);
  if (!r.success) throw new IdentityConfigError(`LYNCDR_DIRECTORY must map names to Entra object ids: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return new Map(Object.entries(r.data).map(([k, v]) => [norm(k), v]));
}

/**
 * A configured identity as the app compares it: in easy-auth mode an object id stays itself and
 * a name is looked up in LYNCDR_DIRECTORY (unresolved, it stays a name, which no signed-in caller
 * has); in dev-header mode every name stays as written.
 */
export function resolveConfigured(entry: string, env: NodeJS.ProcessEnv = process.env): string {
  const e = norm(entry);
  if (identityMode(env) !== 'easy-auth' || isObjectId(e)) return e;
  return directoryOf(env).get(e) ?? e;
}

/** The configured entries easy-auth mode cannot resolve to an object id (empty in dev-header mode). */
export function unresolved(entries: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  if (identityMode(env) !== 'easy-auth') return [];
  return [...new Set(entries.map((e) => resolveConfigured(e, env)).filter((e) => !isObjectId(e)))];
}

export type Resolved = { ok: true; user: string; display: string } | { ok: false; error: string };

/**
 * An Entra principal (Easy Auth's claims, a Teams activity's sender) as the app's identity: its
 * object id, when its tenant is the app's.
 */
export function entraIdentity(p: { oid?: string; tid?: string; display?: string }, env: NodeJS.ProcessEnv = process.env): Resolved {
  const tenant = env.LYNCDR_TENANT_ID?.trim().toLowerCase();
  if (!tenant) return { ok: false, error: 'LYNCDR_TENANT_ID is not set: no signed-in identity can be trusted' };
  const oid = ObjectId.safeParse(p.oid ?? '');
  if (!oid.success) return { ok: false, error: 'the principal carries no Entra object id (oid)' };
  if (p.tid?.trim().toLowerCase() !== tenant) return { ok: false, error: `the principal is not of this app's tenant (${tenant})` };
  return { ok: true, user: oid.data, display: p.display?.trim() || oid.data };
}
