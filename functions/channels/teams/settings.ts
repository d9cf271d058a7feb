// The Teams channel's settings (Function App application settings; local.settings.json locally).
// The channel is off unless LYNCDR_TEAMS_APP_ID is set. Every URL the channel talks to is a
// setting, so the local Teams stand-in (local/teams-standin.ts) can play Bot Framework, Entra and
// the Bot Connector on loopback; the defaults are the public cloud's.
import { z } from 'zod';

const list = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

const TeamsEnv = z.object({
  LYNCDR_TEAMS_APP_ID: z.string().min(1),
  /** Client secret of the bot's Entra app; unset in Azure where a managed identity / federated credential gives the token. */
  LYNCDR_TEAMS_APP_PASSWORD: z.string().optional(),
  LYNCDR_TEAMS_TENANT_ID: z.string().min(1).optional(),
  LYNCDR_TEAMS_OPENID_METADATA: z.url().default('https://login.botframework.com/v1/.well-known/openidconfiguration'),
  LYNCDR_TEAMS_ISSUERS: list.default(['https://api.botframework.com']),
  /** Entra token endpoint for the bot's outbound token (client credentials); {tenant} is replaced. */
  LYNCDR_TEAMS_TOKEN_URL: z.string().default('https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token'),
  LYNCDR_TEAMS_TOKEN_SCOPE: z.string().default('https://api.botframework.com/.default'),
  /** Conversations that get the run notifications (ids); unset: every conversation the bot is installed in. */
  LYNCDR_TEAMS_CONVERSATIONS: list.optional(),
  LYNCDR_TEAMS_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/).default('LyncdrTeams'),
  /** Entra object id -> UPN, for tenants where the bot may not read members (JSON object). */
  LYNCDR_TEAMS_UPN_MAP: z.string().optional(),
  /** Where people open the app (the what-if page); default the Functions host. */
  LYNCDR_PUBLIC_URL: z.url().optional(),
});

export interface TeamsSettings {
  appId: string;
  appPassword?: string;
  tenantId?: string;
  openIdMetadata: string;
  issuers: string[];
  tokenUrl: string;
  tokenScope: string;
  conversations?: string[];
  table: string;
  upnMap: Record<string, string>;
  publicUrl: string;
}

export function teamsSettings(env: NodeJS.ProcessEnv = process.env): TeamsSettings | undefined {
  const blank = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  if (!blank.LYNCDR_TEAMS_APP_ID) return undefined;
  const r = TeamsEnv.safeParse(blank);
  if (!r.success) throw new Error(`invalid Teams settings: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const s = r.data;
  let upnMap: Record<string, string> = {};
  if (s.LYNCDR_TEAMS_UPN_MAP) {
    const m = z.record(z.string(), z.string()).safeParse(JSON.parse(s.LYNCDR_TEAMS_UPN_MAP));
    if (!m.success) throw new Error('invalid Teams settings: LYNCDR_TEAMS_UPN_MAP must be a JSON object of object id -> UPN');
    upnMap = Object.fromEntries(Object.entries(m.data).map(([k, v]) => [k.toLowerCase(), v]));
  }
  return {
    appId: s.LYNCDR_TEAMS_APP_ID,
    appPassword: s.LYNCDR_TEAMS_APP_PASSWORD,
    tenantId: s.LYNCDR_TEAMS_TENANT_ID,
    openIdMetadata: s.LYNCDR_TEAMS_OPENID_METADATA,
    issuers: s.LYNCDR_TEAMS_ISSUERS,
    tokenUrl: s.LYNCDR_TEAMS_TOKEN_URL.replace('{tenant}', encodeURIComponent(s.LYNCDR_TEAMS_TENANT_ID ?? 'botframework.com')),
    tokenScope: s.LYNCDR_TEAMS_TOKEN_SCOPE,
    conversations: s.LYNCDR_TEAMS_CONVERSATIONS,
    table: s.LYNCDR_TEAMS_TABLE,
    upnMap,
    publicUrl: (s.LYNCDR_PUBLIC_URL ?? `http://127.0.0.1:${env.LYNCDR_HTTP_PORT ?? 7071}`).replace(/\/+$/, ''),
  };
}
