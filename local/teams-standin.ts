// A Teams stand-in on loopback, for `npm start`, the drill and the tests: it plays the three
// parts of Microsoft's cloud the Teams channel talks to, behind the same HTTP interfaces:
// - Bot Framework's OpenID metadata and signing keys (an RS256 key made at start);
// - Entra's token endpoint for the bot's client credentials;
// - a Bot Connector (v3 conversations: post, update, members) for one team channel, which records
//   every card posted or updated (in memory and in <dir>/cards.json).
// And it plays the people: it sends activities signed as Bot Framework would (install, messages,
// card actions) to the app's /api/messages as a given user. Its control routes (/_standin/...)
// serve `lyncdr lab teams` and the tests.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export const STANDIN_FILE = 'standin.json';
const ISSUER = 'https://api.botframework.com';

export interface StandinUser { id: string; name: string; aadObjectId: string; userPrincipalName: string }
export interface RecordedCard {
  activityId: string;
  conversationId: string;
  /** The run a card is about (from its buttons' data or facts), when it names one. */
  runId?: string;
  card: Record<string, unknown>;
  replyToId?: string;
  posts: number;
  updates: number;
  history: Array<{ at: string; op: 'post' | 'update'; card: Record<string, unknown> }>;
}
export interface SignOptions {
  claims?: JWTPayload; expiresIn?: string | number; key?: CryptoKey; kid?: string; omitServiceUrl?: boolean;
  /** Sign with the published key endorsed only for Web Chat (as Bot Framework's key set has), not for Teams. */
  webchatKey?: boolean;
}

export interface TeamsStandin {
  url: string;
  serviceUrl: string;
  appId: string;
  appPassword: string;
  conversationId: string;
  tenantId: string;
  /** The app settings that make the app trust this stand-in and post to it. */
  settings: Record<string, string>;
  /** Where the app's /api/messages is (known once the host listens). */
  setAppUrl(url: string): void;
  user(name: string): StandinUser;
  cards(runId?: string): RecordedCard[];
  /** A Bot Framework token for an activity, signed with the stand-in's key unless told otherwise. */
  sign(o?: SignOptions): Promise<string>;
  /** POSTs an activity to the app as Bot Framework would; `token: null` sends none. */
  deliver(activity: Record<string, unknown>, o?: { token?: string | null }): Promise<{ status: number; body: unknown }>;
  install(): Promise<{ status: number; body: unknown }>;
  message(as: string, text: string, value?: unknown): Promise<{ status: number; body: unknown; reply?: RecordedCard }>;
  click(o: { runId?: string; activityId?: string; verb: string; as: string; comment?: string }): Promise<{ status: number; body: unknown }>;
  invoke(as: string, action: { verb: string; data: Record<string, unknown> }): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

/** A stable Entra-like object id per user name, so the same person is the same object id every time. */
const objectId = (name: string) => {
  const h = createHash('sha256').update(`lyncdr-standin:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

function runIdOf(card: Record<string, unknown>): string | undefined {
  const m = /"runId":"([A-Za-z0-9-]{1,80})"/.exec(JSON.stringify(card)) ?? /\b(run-[0-9a-z]+-[0-9a-f]{6})\b/.exec(JSON.stringify(card));
  return m?.[1];
}

/** Every Action.Execute of a card (actions, refresh), with its verb and data. */
function executes(card: unknown): Array<{ verb: string; data: Record<string, unknown> }> {
  const found: Array<{ verb: string; data: Record<string, unknown> }> = [];
  const walk = (x: unknown) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      if (o.type === 'Action.Execute' && typeof o.verb === 'string') found.push({ verb: o.verb, data: (o.data ?? {}) as Record<string, unknown> });
      for (const v of Object.values(o)) walk(v);
    }
  };
  walk(card);
  return found;
}

const readBody = (req: http.IncomingMessage) => new Promise<string>((resolve, reject) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  req.on('error', reject);
});

export async function startTeamsStandin(o: { dir: string; port?: number; appId?: string; appPassword?: string; log?: (m: string) => void }): Promise<TeamsStandin> {
  const log = o.log ?? (() => undefined);
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = `standin-${randomBytes(4).toString('hex')}`;
  // As Bot Framework publishes them: each key names the channels it may sign activities for.
  const jwk: JWK & { endorsements: string[] } = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256', endorsements: ['msteams'] };
  const webchat = await generateKeyPair('RS256');
  const webchatKid = `${kid}-webchat`;
  const webchatJwk: JWK & { endorsements: string[] } = { ...(await exportJWK(webchat.publicKey)), kid: webchatKid, use: 'sig', alg: 'RS256', endorsements: ['webchat'] };
  const appId = o.appId ?? 'lyncdr-local-bot';
  const appPassword = o.appPassword ?? randomBytes(24).toString('base64url');
  const tenantId = 'lyncdr-local-tenant';
  const conversationId = '19:lyncdr-drills@thread.tacv2';
  const botId = `28:${appId}`;
  const tokens = new Set<string>();
  const cards = new Map<string, RecordedCard>();
  const users = new Map<string, StandinUser>();
  let appUrl: string | undefined;
  mkdirSync(o.dir, { recursive: true });
  const persist = () => writeFileSync(path.join(o.dir, 'cards.json'), JSON.stringify([...cards.values()], null, 2));

  const user = (name: string): StandinUser => {
    const key = name.toLowerCase();
    let u = users.get(key);
    if (!u) users.set(key, (u = { id: `29:${key}`, name: key, aadObjectId: objectId(key), userPrincipalName: key }));
    return u;
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const send = (status: number, body?: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body === undefined ? '' : JSON.stringify(body));
      };
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const p = url.pathname;
      const text = await readBody(req);
      if (req.method === 'GET' && p === '/v1/.well-known/openidconfiguration') {
        return send(200, { issuer: ISSUER, jwks_uri: `${base}/v1/.well-known/keys`, id_token_signing_alg_values_supported: ['RS256'], token_endpoint_auth_signing_alg_values_supported: ['RS256'] });
      }
      if (req.method === 'GET' && p === '/v1/.well-known/keys') return send(200, { keys: [jwk, webchatJwk] });
      if (req.method === 'POST' && p === '/oauth2/v2.0/token') {
        const f = new URLSearchParams(text);
        if (f.get('grant_type') !== 'client_credentials' || f.get('client_id') !== appId || f.get('client_secret') !== appPassword) return send(401, { error: 'invalid_client' });
        const token = randomBytes(24).toString('base64url');
        tokens.add(token);
        return send(200, { token_type: 'Bearer', expires_in: 3600, access_token: token });
      }
      const conn = /^\/connector\/v3\/conversations\/([^/]+)\/(activities|members)(?:\/([^/]+))?$/.exec(p);
      if (conn) {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        if (!bearer || !tokens.has(bearer)) return send(401, { error: { code: 'Unauthorized', message: 'no valid bot token' } });
        const conv = decodeURIComponent(conn[1]);
        if (conv !== conversationId) return send(404, { error: { code: 'ConversationNotFound', message: conv } });
        const sub = conn[3] ? decodeURIComponent(conn[3]) : undefined;
        if (conn[2] === 'members' && req.method === 'GET' && sub) {
          const u = [...users.values()].find((x) => x.id === sub);
          return u ? send(200, { id: u.id, name: u.name, aadObjectId: u.aadObjectId, userPrincipalName: u.userPrincipalName, email: u.userPrincipalName }) : send(404, { error: { code: 'MemberNotFound' } });
        }
        if (conn[2] === 'activities') {
          const activity = JSON.parse(text || '{}') as { attachments?: Array<{ content?: Record<string, unknown> }>; replyToId?: string };
          const card = activity.attachments?.[0]?.content ?? {};
          const at = new Date().toISOString();
          if (req.method === 'POST' && !sub) {
            const id = `act-${randomUUID()}`;
            cards.set(id, { activityId: id, conversationId: conv, runId: runIdOf(card), card, ...(activity.replyToId ? { replyToId: activity.replyToId } : {}), posts: 1, updates: 0, history: [{ at, op: 'post', card }] });
            persist();
            return send(201, { id });
          }
          if (req.method === 'PUT' && sub) {
            const rec = cards.get(sub);
            if (!rec) return send(404, { error: { code: 'ActivityNotFound' } });
            rec.card = card;
            rec.updates++;
            rec.history.push({ at, op: 'update', card });
            persist();
            return send(200, { id: sub });
          }
        }
        return send(405, { error: { code: 'MethodNotAllowed' } });
      }
      // ---- control routes (lyncdr lab teams, tests) ----
      if (req.method === 'GET' && p === '/_standin/cards') return send(200, { cards: self.cards(url.searchParams.get('run') ?? undefined) });
      if (req.method === 'POST' && p === '/_standin/click') {
        const b = JSON.parse(text || '{}') as { runId?: string; activityId?: string; verb: string; as: string; comment?: string };
        return send(200, await self.click(b));
      }
      if (req.method === 'POST' && p === '/_standin/message') {
        const b = JSON.parse(text || '{}') as { as: string; text: string };
        return send(200, await self.message(b.as, b.text));
      }
      send(404, { error: `no stand-in route ${req.method} ${p}` });
    })().catch((err) => {
      log(`teams stand-in: ${(err as Error).stack ?? err}`);
      if (!res.headersSent) { res.writeHead(500); res.end(); }
    });
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const serviceUrl = `${base}/connector/`;

  const activityBase = (as?: string) => ({
    channelId: 'msteams', serviceUrl, id: `in-${randomUUID()}`, timestamp: new Date().toISOString(),
    conversation: { id: conversationId, conversationType: 'channel', tenantId, isGroup: true, name: 'DR drills' },
    recipient: { id: botId, name: 'lyncdr' },
    channelData: { tenant: { id: tenantId }, team: { id: '19:lyncdr-team@thread.tacv2' }, channel: { id: conversationId } },
    ...(as ? { from: (({ id, name, aadObjectId }) => ({ id, name, aadObjectId }))(user(as)) } : {}),
  });

  const self: TeamsStandin = {
    url: base, serviceUrl, appId, appPassword, conversationId, tenantId,
    settings: {
      LYNCDR_TEAMS_APP_ID: appId,
      LYNCDR_TEAMS_APP_PASSWORD: appPassword,
      LYNCDR_TEAMS_TENANT_ID: tenantId,
      LYNCDR_TEAMS_OPENID_METADATA: `${base}/v1/.well-known/openidconfiguration`,
      LYNCDR_TEAMS_TOKEN_URL: `${base}/oauth2/v2.0/token`,
      LYNCDR_TEAMS_CONVERSATIONS: conversationId,
    },
    setAppUrl(u) {
      appUrl = u.replace(/\/+$/, '');
      writeFileSync(path.join(o.dir, STANDIN_FILE), JSON.stringify({ url: base, appUrl, conversationId }, null, 2));
    },
    user,
    cards(runId) {
      return [...cards.values()].filter((c) => !runId || c.runId === runId);
    },
    async sign(s = {}) {
      const jwt = new SignJWT({ ...(s.omitServiceUrl ? {} : { serviceurl: serviceUrl }), ...s.claims })
        .setProtectedHeader({ alg: 'RS256', kid: s.kid ?? (s.webchatKey ? webchatKid : kid), typ: 'JWT' })
        .setIssuer(ISSUER).setAudience(appId).setIssuedAt().setNotBefore('-1 min').setExpirationTime(s.expiresIn ?? '1h');
      if (s.claims?.iss) jwt.setIssuer(String(s.claims.iss));
      if (s.claims?.aud) jwt.setAudience(s.claims.aud as string);
      return jwt.sign(s.key ?? (s.webchatKey ? webchat.privateKey : privateKey));
    },
    async deliver(activity, d = {}) {
      if (!appUrl) throw new Error('the stand-in does not know the app yet (setAppUrl)');
      const token = d.token === undefined ? await self.sign() : d.token;
      const res = await fetch(`${appUrl}/api/messages`, {
        method: 'POST', body: JSON.stringify(activity),
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      });
      const t = await res.text();
      let body: unknown = t;
      try { body = t ? JSON.parse(t) : undefined; } catch { /* text */ }
      return { status: res.status, body };
    },
    install() {
      return self.deliver({ ...activityBase('admin'), type: 'conversationUpdate', membersAdded: [{ id: botId }] });
    },
    async message(as, text, value) {
      const activity = { ...activityBase(as), type: 'message', text: `<at>lyncdr</at> ${text}`, entities: [{ type: 'mention', mentioned: { id: botId, name: 'lyncdr' }, text: '<at>lyncdr</at>' }], ...(value ? { value } : {}) };
      const r = await self.deliver(activity);
      const reply = [...cards.values()].find((c) => c.replyToId === activity.id);
      return { ...r, ...(reply ? { reply } : {}) };
    },
    invoke(as, action) {
      return self.deliver({ ...activityBase(as), type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', ...action }, trigger: 'manual' } });
    },
    async click(c) {
      const candidates = [...cards.values()].filter((x) => (c.activityId ? x.activityId === c.activityId : !c.runId || x.runId === c.runId));
      // The newest card that has this button.
      for (const rec of candidates.reverse()) {
        const button = executes(rec.card.actions ?? []).find((e) => e.verb === c.verb);
        if (!button) continue;
        return self.invoke(c.as, { verb: c.verb, data: { ...button.data, ...(c.comment ? { comment: c.comment } : {}) } });
      }
      return { status: 404, body: { error: `no card${c.runId ? ` of run ${c.runId}` : ''} has a ${c.verb} button` } };
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  log(`Teams stand-in: ${base} (Bot Connector ${serviceUrl}, conversation ${conversationId})`);
  return self;
}
