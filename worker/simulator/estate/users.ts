// Users: the synthesised users of each pool, where each is homed now, and the user cmdlets.
import type { EstateState, PoolState } from '../state.js';
import { exportFile, MIN, nothing, pool, poolUp, PreconditionError, requireCms, requireFile, S, stringArg, switchArg, type PsHandler } from './model.js';

/**
 * The users a pool was created with: sip:<label>user00001@<domain> ... (synthesised, not stored),
 * and the topology's test user, an account of its own beside them.
 */
export function homeUsers(p: PoolState): string[] {
  const [label, ...rest] = p.fqdn.split('.');
  const domain = rest.join('.');
  const users = Array.from({ length: p.userCount }, (_, i) => `sip:${label}user${String(i + 1).padStart(5, '0')}@${domain}`);
  return p.testUser ? [...users, p.testUser] : users;
}
export function originalPool(s: EstateState, sip: string): PoolState | undefined {
  const tester = Object.values(s.pools).find((p) => p.testUser === sip);
  if (tester) return tester;
  const m = /^sip:([a-z0-9-]+)user(\d{5})@(.+)$/.exec(sip);
  if (!m) return undefined;
  const p = s.pools[`${m[1]}.${m[3]}`];
  return p && Number(m[2]) >= 1 && Number(m[2]) <= p.userCount ? p : undefined;
}
/** The Registrar pool a user is homed on now, or undefined for an unknown user. */
export function userPool(s: EstateState, sipIn: string): string | undefined {
  const sip = sipIn.startsWith('sip:') ? sipIn.toLowerCase() : `sip:${sipIn.toLowerCase()}`;
  return s.movedUsers[sip] ?? originalPool(s, sip)?.fqdn;
}
export function usersOn(s: EstateState, fqdn: string): string[] {
  const p = pool(s, fqdn);
  const stayed = homeUsers(p).filter((u) => !s.movedUsers[u]);
  const movedIn = Object.entries(s.movedUsers).filter(([, to]) => to === p.fqdn).map(([u]) => u).sort();
  return [...stayed, ...movedIn];
}
export const userObject = (sip: string, registrarPool: string) => ({
  Identity: `CN=${sip.slice(4).split('@')[0]},OU=Users,DC=contoso,DC=com`, SipAddress: sip, RegistrarPool: registrarPool, Enabled: true,
});

// ---- PowerShell ------------------------------------------------------------------------------

export const userCmdlets: Record<string, PsHandler> = {
  // The user's pools as the topology has them (not who serves it now): primary Registrar pool,
  // its backup, and their Front Ends in preferred order.
  'get-csuserpoolinfo': (s, spec) => {
    if (!switchArg(spec, 'LocalStore')) requireCms(s, 'Get-CsUserPoolInfo');
    const identity = stringArg(spec, 'Identity')!;
    const home = userPool(s, identity);
    if (!home) throw new PreconditionError(`Management object not found for identity "${identity}".`, 'ObjectNotFound');
    const p = pool(s, home);
    const backup = p.backupPool ? s.pools[p.backupPool] : undefined;
    return {
      output: [{
        Identity: identity.toLowerCase(), PrimaryPoolFqdn: p.fqdn, BackupPoolFqdn: backup?.fqdn ?? null, UserServicesPoolFqdn: p.fqdn,
        PrimaryPoolPrimaryRegistrar: p.frontEnds[0], BackupPoolPrimaryRegistrar: backup?.frontEnds[0] ?? null,
        PrimaryPoolMachinesInPreferredOrder: p.frontEnds, BackupPoolMachinesInPreferredOrder: backup?.frontEnds ?? [],
      }],
      durationMs: 1 * S,
    };
  },
  'get-csuser': (s, spec) => {
    requireCms(s, 'Get-CsUser');
    const identity = stringArg(spec, 'Identity', false);
    if (identity) {
      const home = userPool(s, identity);
      if (!home) throw new PreconditionError(`Management object not found for identity "${identity}".`, 'ObjectNotFound');
      const sip = identity.startsWith('sip:') ? identity.toLowerCase() : `sip:${identity.toLowerCase()}`;
      return { output: [userObject(sip, home)], durationMs: 1 * S };
    }
    const m = /^RegistrarPool -eq "([a-z0-9.-]+)"$/i.exec(stringArg(spec, 'Filter')!);
    if (!m) throw new PreconditionError('The simulated estate answers Get-CsUser -Filter only for RegistrarPool -eq "<pool>".', 'NotImplemented');
    const fqdn = m[1].toLowerCase();
    return { output: usersOn(s, fqdn).map((u) => userObject(u, fqdn)), durationMs: 5 * S };
  },
  'move-csuser': (s, spec) => {
    const target = stringArg(spec, 'Target')!.toLowerCase();
    pool(s, target);
    if (!poolUp(s, target)) throw new PreconditionError(`Target pool "${target}" is not available.`, 'ResourceUnavailable');
    requireCms(s, 'Move-CsUser');
    const users = (spec.pipeline?.values ?? [stringArg(spec, 'Identity')!]).map((u) => (u.startsWith('sip:') ? u.toLowerCase() : `sip:${u.toLowerCase()}`));
    for (const u of users) {
      const from = userPool(s, u);
      if (!from) throw new PreconditionError(`Management object not found for identity "${u}".`, 'ObjectNotFound');
      if (!poolUp(s, from) && !switchArg(spec, 'Force')) {
        throw new PreconditionError(`Cannot move "${u}": its pool "${from}" is unreachable. Use -Force (the user's contact list and meetings are lost).`, 'ResourceUnavailable');
      }
    }
    for (const u of users) {
      if (originalPool(s, u)?.fqdn === target) delete s.movedUsers[u];
      else s.movedUsers[u] = target;
    }
    return nothing(users.length * 2 * S);
  },
  'export-csuserdata': (s, spec, now) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    pool(s, fqdn);
    if (!poolUp(s, fqdn)) throw new PreconditionError(`Cannot connect to the user store of "${fqdn}".`, 'ConnectionError');
    exportFile(s, stringArg(spec, 'FileName')!, 'userdata', fqdn, now);
    return nothing(4 * MIN);
  },
  'import-csuserdata': (s, spec) => {
    const fqdn = stringArg(spec, 'PoolFqdn')!.toLowerCase();
    pool(s, fqdn);
    if (!poolUp(s, fqdn)) throw new PreconditionError(`Cannot connect to the user store of "${fqdn}".`, 'ConnectionError');
    requireFile(s, stringArg(spec, 'FileName')!, 'Import-CsUserData');
    return nothing(6 * MIN);
  },
  'update-csuserdata': (s, spec) => {
    requireCms(s, 'Update-CsUserData');
    requireFile(s, stringArg(spec, 'FileName')!, 'Update-CsUserData');
    return nothing(3 * MIN);
  },
};
