// Who pressed a button or wrote to the bot, as the API knows people (shared/identity): in
// easy-auth mode their Entra object id; with dev-header identities their UPN (what
// LYNCDR_OPERATORS and the approver groups list there). An activity carries the Teams user id and the
// Entra object id (from.aadObjectId) but no UPN, so the UPN comes from LYNCDR_TEAMS_UPN_MAP (object
// id -> UPN, for tenants where the bot may not read rosters) or from the Bot Connector's member
// lookup, which answers userPrincipalName for members of the conversation. The member must be the
// same Entra object as the activity's sender, and of our tenant when one is configured.
import type { Activity } from '@microsoft/agents-activity';
import { IdentitySchema } from '../../../shared/approvals/schema.js';
import { entraIdentity, identityMode } from '../../../shared/identity/index.js';
import { nameBeside } from '../../../shared/identity/display.js';
import type { BotConnector } from './connector.js';
import type { TeamsSettings } from './settings.js';
import type { TeamsStore } from './store.js';

/** `name`: in easy-auth mode, the UPN LYNCDR_TEAMS_UPN_MAP gives the object id, for display only (never compared). */
export type TeamsIdentity = { ok: true; user: string; name?: string; aadObjectId: string } | { ok: false; why: string };

export function tenantOf(a: Activity): string | undefined {
  const channelData = a.channelData as { tenant?: { id?: string } } | undefined;
  return channelData?.tenant?.id ?? (a.conversation as { tenantId?: string } | undefined)?.tenantId;
}

export async function teamsIdentity(a: Activity, s: TeamsSettings, connector: BotConnector, store: TeamsStore): Promise<TeamsIdentity> {
  const from = a.from;
  const aad = from?.aadObjectId?.toLowerCase();
  if (!from?.id || !aad) return { ok: false, why: 'Teams did not say who you are (no Entra object id on the activity)' };
  const tenant = tenantOf(a);
  if (s.tenantId && tenant?.toLowerCase() !== s.tenantId.toLowerCase()) return { ok: false, why: `this bot serves tenant ${s.tenantId}, not ${tenant ?? '(none)'}` };
  // Where the app authorises on Entra object ids (easy-auth), so does Teams: the sender's object
  // id in the app's tenant is the identity, as it is for the API (shared/identity).
  if (identityMode() === 'easy-auth') {
    const r = entraIdentity({ oid: aad, tid: tenant, display: s.upnMap[aad] });
    if (!r.ok) return { ok: false, why: r.error };
    await store.saveUser(r.user, from.id).catch(() => undefined);
    const name = nameBeside(r.user, r.display);
    return { ok: true, user: r.user, ...(name ? { name } : {}), aadObjectId: aad };
  }
  let upn = s.upnMap[aad];
  if (!upn) {
    if (!a.serviceUrl || !a.conversation?.id) return { ok: false, why: 'the activity names no conversation to look you up in' };
    try {
      const m = await connector.member(a.serviceUrl, a.conversation.id, from.id);
      if (m.aadObjectId && m.aadObjectId.toLowerCase() !== aad) return { ok: false, why: 'the member Teams answered is not the sender of this activity' };
      upn = m.userPrincipalName ?? '';
    } catch (err) {
      return { ok: false, why: `could not look you up in this conversation: ${(err as Error).message}` };
    }
  }
  const id = IdentitySchema.safeParse(upn);
  if (!id.success) return { ok: false, why: 'Teams gave no user principal name for you' };
  // The Teams user id (MRI) lets gate cards ask Teams to refresh them for this approver.
  await store.saveUser(id.data, from.id).catch(() => undefined);
  return { ok: true, user: id.data, aadObjectId: aad };
}
