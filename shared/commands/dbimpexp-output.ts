// What DBImpExp.exe's console text says, for the runners (real and simulated) to report it as data.
/**
 * The number of users DBImpExp.exe reports having exported or imported ("... N user(s)."), read
 * from its console text: the runner's structured output is { Users: N }, so a plan can check it.
 * Its wording is known only from third-party usage, like its switches: text without a count gives
 * no number, and a check on it then fails rather than passes.
 */
export function dbImpExpUserCount(stdout: string | undefined): number | undefined {
  const all = [...(stdout ?? '').matchAll(/\b(\d+)\s+user\(s\)/gi)];
  const last = all.at(-1);
  return last ? Number(last[1]) : undefined;
}
