// The Bot Connector REST API (v3) at a conversation's serviceUrl, with a token for the bot's own
// identity: client credentials against Entra (LYNCDR_TEAMS_APP_PASSWORD), or, in Azure without a
// secret, the Function App's managed identity (App Service's IDENTITY_ENDPOINT protocol; the bot
// registration is then of type UserAssignedMSI with that identity's client id as its app id).
// Service URLs only ever come from activities whose token vouched for them (jwt.ts), so the token
// is never sent anywhere Bot Framework did not name.
import { z } from 'zod';
import type { TeamsSettings } from './settings.js';

const TokenAnswer = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive() });
const Created = z.object({ id: z.string().optional() }).loose();
export const Member = z.object({ id: z.string(), name: z.string().optional(), aadObjectId: z.string().optional(), userPrincipalName: z.string().optional(), email: z.string().optional() }).loose();
export type Member = z.infer<typeof Member>;

export class ConnectorError extends Error {
  override name = 'ConnectorError';
  constructor(message: string, readonly status: number) { super(message); }
}

export class BotConnector {
  private token: { value: string; until: number } | undefined;
  constructor(private readonly s: TeamsSettings, private readonly env: NodeJS.ProcessEnv = process.env) {}

  private async bearer(): Promise<string> {
    if (this.token && Date.now() < this.token.until) return this.token.value;
    let res: Response;
    if (this.s.appPassword) {
      res = await fetch(this.s.tokenUrl, {
        method: 'POST', signal: AbortSignal.timeout(15_000),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: this.s.appId, client_secret: this.s.appPassword, scope: this.s.tokenScope }),
      });
    } else if (this.env.IDENTITY_ENDPOINT && this.env.IDENTITY_HEADER) {
      const u = new URL(this.env.IDENTITY_ENDPOINT);
      u.searchParams.set('api-version', '2019-08-01');
      u.searchParams.set('resource', this.s.tokenScope.replace(/\/\.default$/, ''));
      u.searchParams.set('client_id', this.s.appId);
      res = await fetch(u, { headers: { 'X-IDENTITY-HEADER': this.env.IDENTITY_HEADER }, signal: AbortSignal.timeout(15_000) });
    } else {
      throw new ConnectorError('no credential for the bot: set LYNCDR_TEAMS_APP_PASSWORD, or run in Azure with a managed identity', 0);
    }
    if (!res.ok) throw new ConnectorError(`token for the bot: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`, res.status);
    const t = TokenAnswer.parse(await res.json());
    // Renew five minutes early so a token never expires between here and the connector.
    this.token = { value: t.access_token, until: Date.now() + Math.max(0, t.expires_in - 300) * 1000 };
    return t.access_token;
  }

  private async call(method: string, serviceUrl: string, path: string, body?: unknown): Promise<unknown> {
    const url = `${serviceUrl.replace(/\/+$/, '')}/${path}`;
    const res = await fetch(url, {
      method, signal: AbortSignal.timeout(20_000),
      headers: { authorization: `Bearer ${await this.bearer()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new ConnectorError(`${method} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`, res.status);
    return text ? JSON.parse(text) as unknown : {};
  }

  private static conv = (id: string) => `v3/conversations/${encodeURIComponent(id)}`;

  /** POST v3/conversations/{id}/activities: the new activity's id. */
  async post(serviceUrl: string, conversationId: string, activity: Record<string, unknown>): Promise<string | undefined> {
    return Created.parse(await this.call('POST', serviceUrl, `${BotConnector.conv(conversationId)}/activities`, activity)).id;
  }

  /** PUT v3/conversations/{id}/activities/{activityId}: the card changes in place. */
  async update(serviceUrl: string, conversationId: string, activityId: string, activity: Record<string, unknown>): Promise<void> {
    await this.call('PUT', serviceUrl, `${BotConnector.conv(conversationId)}/activities/${encodeURIComponent(activityId)}`, { ...activity, id: activityId });
  }

  /** GET v3/conversations/{id}/members/{userId}: who a Teams user is (UPN, Entra object id). */
  async member(serviceUrl: string, conversationId: string, userId: string): Promise<Member> {
    return Member.parse(await this.call('GET', serviceUrl, `${BotConnector.conv(conversationId)}/members/${encodeURIComponent(userId)}`));
  }
}
