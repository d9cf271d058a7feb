// How a person is shown to people (the CLI, Teams cards, e-mails, link pages): one rule, here.
// The identity the app compares (an Entra object id in easy-auth mode) is always shown; the name
// the sign-in carried (a UPN: renamed or reused over time, so never compared) stands before it,
// "alice@contoso.com (2b8e7d10-…)", when there is one and it says something the id does not.
// Pure: imported by orchestrations.

/** A display name is bounded like an identity (IdentitySchema: 256), so customStatus stays small. */
export const NAME_MAX = 256;

/**
 * The display name worth recording beside `id`: trimmed and cut to NAME_MAX, or undefined when
 * absent or the same as the id (dev-header mode, or a principal without a UPN).
 */
export function nameBeside(id: string, name: string | undefined): string | undefined {
  const n = name?.trim().slice(0, NAME_MAX);
  if (!n || n.toLowerCase() === id.trim().toLowerCase()) return undefined;
  return n;
}

/** "name (id)", or the id alone when there is no name worth showing. */
export function shownAs(id: string, name?: string): string {
  const n = nameBeside(id, name);
  return n ? `${n} (${id})` : id;
}

/** Each id as shownAs, with its name from `names` (id -> name; absent: the id alone). */
export const shownAll = (ids: readonly string[], names: Readonly<Record<string, string>> | undefined): string[] =>
  ids.map((id) => shownAs(id, names && Object.hasOwn(names, id) ? names[id] : undefined));

/** id -> name from votes (a gate's customStatus or its notification), for shownAll. */
export function namesOfVotes(votes: ReadonlyArray<{ approver: string; approverName?: string }> | undefined): Record<string, string> {
  return Object.fromEntries((votes ?? []).filter((v) => v.approverName).map((v) => [v.approver, v.approverName!]));
}
