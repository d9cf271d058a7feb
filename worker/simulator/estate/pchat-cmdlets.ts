// Persistent Chat: pool state, active servers, the mirror, and its data export / import.
import type { EstateState } from '../state.js';
import { argument, dbInstanceHost, exportFile, MIN, needPchat, nothing, PreconditionError, requireCms, requireFile, requireShareReachable, S, sameText, siteUp, sqlHost, stringArg, switchArg, type PsHandler } from './model.js';

/**
 * The cmdlet reference: all active servers must be in the same data center as the mgc database in
 * use (or one with a low-latency, high-bandwidth link to it): the primary's while the pool is
 * Normal, the backup's while it is FailedOver. Servers of the other site cannot be made active.
 */
function refuseActivesAwayFromMgc(s: EstateState, added: string[]): void {
  const { pchat, sql } = needPchat(s);
  if (pchat.siteLinkBandwidth === 'high') return;
  const inUse = pchat.state === 'Normal' ? sql.primary : sql.secondary;
  const away = added.filter((x) => pchat.servers.find((m) => m.fqdn === x)!.site !== inUse.site);
  if (!away.length) return;
  throw new PreconditionError(`Server(s) ${away.join(', ')} cannot be made active: while the pool is ${pchat.state} every active server must be in the data center of the mgc in use ` +
    `("${inUse.server}", site ${inUse.site}) over a low-bandwidth site link.`, 'InvalidOperation');
}

export const pchatCmdlets: Record<string, PsHandler> = {
  'get-cspersistentchatstate': (s, spec) => {
    const { pchat } = needPchat(s);
    const identity = stringArg(spec, 'Identity')!;
    if (!sameText(identity, pchat.serviceIdentity)) throw new PreconditionError(`Cannot find "${identity}".`, 'ObjectNotFound');
    requireCms(s, 'Get-CsPersistentChatState');
    return { output: [{ Identity: pchat.serviceIdentity, PoolState: pchat.state }], durationMs: 2 * S };
  },
  'set-cspersistentchatstate': (s, spec) => {
    const { pchat, sql } = needPchat(s);
    const identity = stringArg(spec, 'Identity')!;
    if (!sameText(identity, pchat.serviceIdentity)) throw new PreconditionError(`Cannot find "${identity}".`, 'ObjectNotFound');
    requireCms(s, 'Set-CsPersistentChatState');
    const state = stringArg(spec, 'PoolState')!;
    if (state === 'FailedOver') {
      if (!sql.secondary.up || !siteUp(s, sql.secondary.site)) throw new PreconditionError(`The backup database server "${sql.secondary.server}" is unreachable.`, 'ConnectionError');
      if (sql.secondary.mgc !== 'ONLINE') {
        throw new PreconditionError(`The backup mgc database on "${sql.secondary.server}" is ${sql.secondary.mgc}, not online: restore the remaining logs and RESTORE DATABASE mgc WITH RECOVERY first.`);
      }
      // From now on chat is written to the backup mgc only: the primary falls behind.
      if (pchat.state === 'Normal') sql.secondary.dataGeneration = Math.max(sql.primary.dataGeneration, sql.secondary.dataGeneration) + 1;
    } else if (state === 'Normal') {
      if (!sql.primary.up || !siteUp(s, sql.primary.site) || sql.primary.mgc !== 'ONLINE') {
        throw new PreconditionError(`The primary mgc database on "${sql.primary.server}" is not online: restore it before setting the pool state to Normal.`);
      }
      // Back to Normal on a primary that lacks the chat written during the failover would lose it
      // (seed 001 scenario 2B steps 4-5: back up the backup mgc, restore it over the primary, then Normal).
      if (pchat.state === 'FailedOver' && sql.primary.dataGeneration < sql.secondary.dataGeneration) {
        throw new PreconditionError(`The primary mgc database on "${sql.primary.server}" does not hold the data written while the pool was failed over to "${sql.secondary.server}": ` +
          'back up the backup mgc and restore it over the primary before setting the pool state to Normal.');
      }
    } else {
      throw new PreconditionError(`Cannot bind parameter 'PoolState': "${state}" is not one of Normal, FailedOver.`, 'InvalidArgument');
    }
    pchat.state = state;
    return nothing(20 * S);
  },
  'set-cspersistentchatactiveserver': (s, spec) => {
    const a = argument(spec, 'ActiveServers');
    const swap = switchArg(spec, 'Swap');
    // Two parameter sets, Explicit (-ActiveServers, mandatory) and Swap (-Swap, mandatory): with
    // neither or both PowerShell binds no set, before the cmdlet runs at all.
    if (Boolean(a) === swap) throw new PreconditionError('Parameter set cannot be resolved using the specified named parameters.', 'InvalidArgument');
    const { pchat } = needPchat(s);
    const identity = stringArg(spec, 'Identity', false) ?? 'global';
    if (!sameText(identity, pchat.collectionIdentity)) throw new PreconditionError(`Cannot find active-server collection "${identity}" (this pool's is "${pchat.collectionIdentity}").`, 'ObjectNotFound');
    requireCms(s, 'Set-CsPersistentChatActiveServer');
    let next: string[];
    // -Swap: the active servers become inactive and the inactive ones active.
    if (!a) next = pchat.servers.map((x) => x.fqdn).filter((x) => !pchat.activeServers.includes(x));
    else if (a.kind === 'null') next = [];
    else if (a.kind === 'listAdd') next = [...new Set([...pchat.activeServers, ...a.value.map((v) => v.toLowerCase())])];
    else if (a.kind === 'listRemove') next = pchat.activeServers.filter((x) => !a.value.map((v) => v.toLowerCase()).includes(x));
    else if (a.kind === 'value') next = (Array.isArray(a.value) ? a.value : [String(a.value)]).map((v) => v.toLowerCase());
    else throw new PreconditionError('Cannot bind parameter ActiveServers.', 'InvalidArgument');
    const members = new Map(pchat.servers.map((x) => [x.fqdn, x]));
    const foreign = next.filter((x) => !members.has(x));
    if (foreign.length) throw new PreconditionError(`Server(s) ${foreign.join(', ')} are not members of Persistent Chat pool "${pchat.poolFqdn}".`, 'InvalidArgument');
    if (next.length > 4) throw new PreconditionError(`At most 4 Persistent Chat servers can be active; ${next.length} were given.`, 'InvalidArgument');
    const added = next.filter((x) => !pchat.activeServers.includes(x));
    const down = added.filter((x) => { const m = members.get(x)!; return !m.up || !siteUp(s, m.site); });
    if (down.length) throw new PreconditionError(`Server(s) ${down.join(', ')} are not reachable and cannot be made active.`, 'ResourceUnavailable');
    refuseActivesAwayFromMgc(s, added);
    pchat.activeServers = next;
    return nothing(10 * S);
  },
  'install-csmirrordatabase': (s, spec) => {
    needPchat(s);
    requireCms(s, 'Install-CsMirrorDatabase');
    const host = sqlHost(s, stringArg(spec, 'SqlServerFqdn')!, stringArg(spec, 'SqlInstanceName', false));
    // The principal's backup goes through -FileShare to seed the mirror: a share in a lost site stops it.
    const share = stringArg(spec, 'FileShare', false);
    if (share) requireShareReachable(s, share);
    if (!host.mirrorPartner) throw new PreconditionError(`The topology defines no mirror for the store on "${host.server}".`, 'ObjectNotFound');
    if (host.mgc !== 'ONLINE') throw new PreconditionError(`Install-CsMirrorDatabase: the principal mgc on "${host.server}" is ${host.mgc}, not online.`);
    if ((stringArg(spec, 'DatabaseType', false) ?? 'PersistentChat') === 'PersistentChat') {
      if (host.mirror) throw new PreconditionError(`mgc on "${host.server}" is already mirrored to "${host.mirrorPartner}".`, 'ResourceExists');
      host.mirror = true;
    }
    return nothing(6 * MIN);
  },
  'uninstall-csmirrordatabase': (s, spec) => {
    needPchat(s);
    requireCms(s, 'Uninstall-CsMirrorDatabase');
    const host = sqlHost(s, stringArg(spec, 'SqlServerFqdn')!, stringArg(spec, 'SqlInstanceName', false));
    if ((stringArg(spec, 'DatabaseType', false) ?? 'PersistentChat') === 'PersistentChat') {
      if (!host.mirror) throw new PreconditionError(`No mirror is installed for mgc on "${host.server}".`);
      host.mirror = false;
    }
    return nothing(2 * MIN);
  },
  'export-cspersistentchatdata': (s, spec, now) => {
    needPchat(s);
    const host = dbInstanceHost(s, stringArg(spec, 'DBInstance')!);
    if (host.mgc !== 'ONLINE') throw new PreconditionError(`Export-CsPersistentChatData: mgc on "${host.server}" is ${host.mgc}, not online.`);
    exportFile(s, stringArg(spec, 'FileName')!, 'pchat', host.server, now);
    return nothing(3 * MIN);
  },
  'import-cspersistentchatdata': (s, spec) => {
    needPchat(s);
    const host = dbInstanceHost(s, stringArg(spec, 'DBInstance')!);
    if (host.mgc !== 'ONLINE') throw new PreconditionError(`Import-CsPersistentChatData: mgc on "${host.server}" is ${host.mgc}, not online.`);
    requireFile(s, stringArg(spec, 'FileName')!, 'Import-CsPersistentChatData');
    return nothing(5 * MIN);
  },
};
