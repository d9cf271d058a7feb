// DNS Server cmdlets over the estate's zones: A, CNAME and SRV records.
import type { PowerShellSpec } from '../../../shared/commands/spec.js';
import type { EstateState } from '../state.js';
import { argument, nothing, PreconditionError, S, stringArg, switchArg, type Applied } from './model.js';

function ttlSeconds(spec: PowerShellSpec): number | undefined {
  const raw = stringArg(spec, 'TimeToLive', false);
  return raw ? raw.split(':').reduce((acc, part) => acc * 60 + Number(part), 0) : undefined;
}
const ttlObject = (seconds: number) => ({
  Days: Math.floor(seconds / 86_400), Hours: Math.floor((seconds % 86_400) / 3600), Minutes: Math.floor((seconds % 3600) / 60), Seconds: seconds % 60, TotalSeconds: seconds,
});
function recordData(type: 'A' | 'CNAME' | 'SRV', data: string): Record<string, unknown> {
  if (type === 'A') return { IPv4Address: data };
  if (type === 'CNAME') return { HostNameAlias: `${data}.` };
  const [priority, weight, port, target] = data.split(' ');
  return { DomainName: `${target}.`, Port: Number(port), Priority: Number(priority), Weight: Number(weight) };
}

export function dnsCmdlet(s: EstateState, spec: PowerShellSpec): Applied {
  const zone = stringArg(spec, 'ZoneName')!.toLowerCase();
  const name = stringArg(spec, 'Name')!.toLowerCase();
  const owner = name === '@' ? zone : `${name}.${zone}`;
  const rec = s.dns[owner];
  const cmdlet = spec.cmdlet.toLowerCase();
  if (cmdlet === 'get-dnsserverresourcerecord') {
    const want = (stringArg(spec, 'RRType', false) ?? '').toUpperCase();
    if (!rec || (want && want !== rec.type)) {
      throw new PreconditionError(`Failed to get ${owner} record in ${zone} zone on server ${stringArg(spec, 'ComputerName', false) ?? 'localhost'}.`, 'ObjectNotFound');
    }
    return {
      output: rec.records.map((d) => ({ HostName: name, RecordType: rec.type, RecordClass: 'IN', TimeToLive: ttlObject(rec.ttl), RecordData: recordData(rec.type, d) })),
      durationMs: 1 * S,
    };
  }
  if (cmdlet === 'remove-dnsserverresourcerecord') {
    const type = stringArg(spec, 'RRType')!.toUpperCase();
    const data = stringArg(spec, 'RecordData')!.toLowerCase().replace(/\.$/, '');
    const i = rec && rec.type === type ? rec.records.findIndex((r) => r.toLowerCase() === data) : -1;
    if (!rec || i < 0) throw new PreconditionError(`Failed to remove ${owner}: no ${type} record with data ${data} exists in zone ${zone}.`, 'ObjectNotFound');
    rec.records.splice(i, 1);
    if (!rec.records.length) delete s.dns[owner];
    return nothing(2 * S);
  }
  const type = cmdlet === 'add-dnsserverresourcerecordcname' ? 'CNAME' : cmdlet === 'add-dnsserverresourcerecorda' ? 'A' : switchArg(spec, 'Srv') ? 'SRV' : undefined;
  if (!type) throw new PreconditionError(`${spec.cmdlet}: only A, CNAME and SRV records are modelled.`, 'NotImplemented');
  const data = type === 'A' ? stringArg(spec, 'IPv4Address')!
    : type === 'CNAME' ? stringArg(spec, 'HostNameAlias')!.toLowerCase()
      : ['Priority', 'Weight', 'Port'].map((p) => { const a = argument(spec, p); return a?.kind === 'value' ? String(a.value) : '0'; }).join(' ') + ` ${stringArg(spec, 'DomainName')!.toLowerCase()}`;
  const ttl = ttlSeconds(spec) ?? 3600;
  if (rec) {
    // A CNAME cannot share its name with any other record; other types add to the set (round robin).
    if (rec.type !== type || type === 'CNAME') {
      throw new PreconditionError(`Failed to create resource record ${owner} in zone ${zone}: a ${rec.type} record already exists at this name.`, 'ResourceExists');
    }
    if (rec.records.some((r) => r.toLowerCase() === data.toLowerCase())) {
      throw new PreconditionError(`Failed to create resource record ${owner} in zone ${zone}: the record already exists.`, 'ResourceExists');
    }
    rec.records.push(data);
    rec.ttl = ttl;
  } else {
    s.dns[owner] = { type, ttl, records: [data] };
  }
  return nothing(3 * S);
}
