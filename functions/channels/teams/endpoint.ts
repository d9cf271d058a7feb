// The bot's messaging endpoint, POST /api/messages: the one HTTP trigger Bot Framework calls. It
// authenticates every activity itself (authLevel anonymous: Bot Framework sends no function key)
// before anything is read or written; a refused one leaves only a log line. Then by type: card
// actions (invoke adaptiveCard/action) answer a card in the invoke response; messages and the
// Action.Submit fallback answer with a reply through the connector; installs and uninstalls keep
// the conversation references the sender posts to.
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { Activity, ActivityTypes } from '@microsoft/agents-activity';
import * as df from 'durable-functions';
import { ActionValue, refreshCard, runAction, type ActionDeps } from './actions.js';
import { CARD_CONTENT_TYPE, errorCard, type Card } from './cards.js';
import { BotConnector } from './connector.js';
import { teamsIdentity, tenantOf } from './identity.js';
import { authenticateActivity } from './jwt.js';
import { answerMessage } from './messages.js';
import { cardActivity } from './sender.js';
import { teamsSettings, type TeamsSettings } from './settings.js';
import { TeamsStore } from './store.js';
import { JsonTooDeepError, parseJsonWithDepthLimit } from '../../../shared/json/depth.js';

// One connector per configuration, so its bot token is reused across requests until it expires.
const connectors = new Map<string, BotConnector>();
function connectorFor(s: TeamsSettings, env: NodeJS.ProcessEnv): BotConnector {
  const key = `${s.appId}|${s.tokenUrl}`;
  let c = connectors.get(key);
  if (!c) connectors.set(key, (c = new BotConnector(s, env)));
  return c;
}

const invokeAnswer = (card: Card): HttpResponseInit => ({ status: 200, jsonBody: { statusCode: 200, type: CARD_CONTENT_TYPE, value: card } });

interface Turn { a: Activity; s: TeamsSettings; store: TeamsStore; connector: BotConnector; deps: ActionDeps }

async function saveReference(t: Turn): Promise<void> {
  const { a } = t;
  if (!a.serviceUrl || !a.conversation?.id) return;
  await t.store.saveConversation({
    conversationId: a.conversation.id, serviceUrl: a.serviceUrl,
    ...(tenantOf(a) ? { tenantId: tenantOf(a) } : {}),
    ...(a.conversation.conversationType ? { conversationType: a.conversation.conversationType } : {}),
    ...(a.conversation.name ? { name: a.conversation.name } : {}),
  });
}

async function onInvoke(t: Turn): Promise<HttpResponseInit> {
  if (t.a.name !== 'adaptiveCard/action') return { status: 200, jsonBody: { statusCode: 501, type: 'application/vnd.microsoft.error', value: { code: 'NotImplemented', message: `invoke ${t.a.name ?? ''} is not handled` } } };
  const v = ActionValue.safeParse((t.a.value as { action?: unknown } | undefined)?.action);
  if (!v.success) return invokeAnswer(errorCard('this card action is not one lyncdr knows'));
  const who = await teamsIdentity(t.a, t.s, t.connector, t.store);
  // A refresh only shows; whoever cannot be identified gets the shared view without buttons' rights.
  if (v.data.verb === 'refresh') return invokeAnswer(await refreshCard(t.deps, v.data, who.ok ? who.user : undefined));
  if (!who.ok) return invokeAnswer(errorCard(who.why, 'Who are you?'));
  return invokeAnswer(await runAction(t.deps, v.data, who.user, who.name));
}

async function reply(t: Turn, card: Card): Promise<void> {
  await t.connector.post(t.a.serviceUrl!, t.a.conversation!.id, { ...cardActivity(card, String((card.body as Array<{ text?: string }>)[0]?.text ?? 'lyncdr')), ...(t.a.id ? { replyToId: t.a.id } : {}) });
}

async function onMessage(t: Turn): Promise<HttpResponseInit> {
  await saveReference(t);
  const who = await teamsIdentity(t.a, t.s, t.connector, t.store);
  // The Action.Submit fallback sends the button's data, with its verb, flat as the message's value.
  const flat = t.a.value && typeof t.a.value === 'object' ? t.a.value as { verb?: unknown } : undefined;
  const submitted = ActionValue.safeParse(flat ? { verb: flat.verb, data: flat } : undefined);
  if (!who.ok) await reply(t, errorCard(who.why, 'Who are you?'));
  else if (submitted.success) await reply(t, await runAction(t.deps, submitted.data, who.user, who.name));
  else await reply(t, await answerMessage(t.deps.client, t.a.removeRecipientMention() ?? t.a.text ?? '', who.user));
  return { status: 200 };
}

async function onMembership(t: Turn): Promise<HttpResponseInit> {
  const { a } = t;
  const botId = a.recipient?.id;
  const removed = a.type === ActivityTypes.InstallationUpdate ? /^remove/.test(a.action ?? '') : (a.membersRemoved ?? []).some((m) => m.id === botId);
  const added = a.type === ActivityTypes.InstallationUpdate ? /^add/.test(a.action ?? '') : (a.membersAdded ?? []).some((m) => m.id === botId);
  if (removed && a.conversation?.id) await t.store.removeConversation(a.conversation.id);
  else if (added) await saveReference(t);
  return { status: 200 };
}

export async function handleActivity(req: HttpRequest, context: InvocationContext, env: NodeJS.ProcessEnv = process.env): Promise<HttpResponseInit> {
  const s = teamsSettings(env);
  if (!s) return { status: 404, jsonBody: { error: 'the Teams channel is not configured (LYNCDR_TEAMS_APP_ID)' } };
  let raw: unknown;
  try {
    // The same depth limit as the API's routes (shared/json/depth.ts): 400, not a stack overflow later.
    raw = parseJsonWithDepthLimit(await req.text());
  } catch (err) {
    return { status: 400, jsonBody: { error: err instanceof JsonTooDeepError ? `the body is too deeply nested: ${err.message}` : 'the body is not JSON' } };
  }
  const { serviceUrl, channelId } = (raw ?? {}) as { serviceUrl?: unknown; channelId?: unknown };
  const auth = await authenticateActivity(req.headers.get('authorization'), typeof serviceUrl === 'string' ? serviceUrl : undefined, s, typeof channelId === 'string' ? channelId : undefined);
  if (!auth.ok) {
    context.warn(`teams: activity refused (401): ${auth.why}`);
    return { status: 401, jsonBody: { error: 'unauthorized' } };
  }
  let a: Activity;
  try {
    a = Activity.fromObject(raw as object);
  } catch {
    return { status: 400, jsonBody: { error: 'the body is not a Bot Framework activity' } };
  }
  const store = TeamsStore.fromEnv(s.table, env);
  const connector = connectorFor(s, env);
  const t: Turn = { a, s, store, connector, deps: { client: df.getClient(context), store, publicUrl: s.publicUrl } };
  switch (a.type) {
    case ActivityTypes.Invoke: return onInvoke(t);
    case ActivityTypes.Message: return onMessage(t);
    case ActivityTypes.InstallationUpdate:
    case ActivityTypes.ConversationUpdate: return onMembership(t);
    default: return { status: 200 };
  }
}

app.http('teams-messages', {
  route: 'messages', methods: ['POST'], authLevel: 'anonymous', extraInputs: [df.input.durableClient()],
  handler: async (req, context) => {
    try {
      return await handleActivity(req, context);
    } catch (err) {
      context.error(`teams-messages: ${(err as Error).stack ?? err}`);
      return { status: 500, jsonBody: { error: 'internal error' } };
    }
  },
});
