// DNS changes on a Windows DNS server through the DnsServer module (runbooks 1-4, 9). There
// is no atomic "set": a repoint is a read (to record the old value), a remove and an add.
import { z } from 'zod';
import { arg, defineCommand, ps } from './define.js';
import { dnsRelativeName, dnsZone, fqdn, ipv4, timeSpan } from './values.js';

const ttlSeconds = z.number().int().min(30, 'a TTL under 30 s floods the DNS servers').max(86_400, 'a TTL over a day defeats any failover');
const target = { dnsServer: fqdn, zoneName: dnsZone, name: dnsRelativeName };

export const dnsGetRecord = defineCommand({
  name: 'dns.getRecord',
  kind: 'powershell',
  summary: 'Read a DNS record, to record what a failover changes (Get-DnsServerResourceRecord).',
  params: z.strictObject({ ...target, rrType: z.enum(['A', 'CName', 'Srv']) }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { dnsServer: 'dc1.contoso.com', zoneName: 'contoso.com', name: 'meet', rrType: 'A' },
  build: (p) =>
    ps('Get-DnsServerResourceRecord', [arg.value('ComputerName', p.dnsServer), arg.value('ZoneName', p.zoneName), arg.value('Name', p.name), arg.value('RRType', p.rrType)]),
});

export const dnsAddA = defineCommand({
  name: 'dns.addA',
  kind: 'powershell',
  summary: 'Add an A record (Add-DnsServerResourceRecordA).',
  params: z.strictObject({ ...target, ipv4Address: ipv4, ttlSeconds }),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: { dnsServer: 'dc1.contoso.com', zoneName: 'contoso.com', name: 'meet', ipv4Address: '10.2.0.10', ttlSeconds: 300 },
  build: (p) =>
    ps('Add-DnsServerResourceRecordA', [
      arg.value('ComputerName', p.dnsServer),
      arg.value('ZoneName', p.zoneName),
      arg.value('Name', p.name),
      arg.value('IPv4Address', p.ipv4Address),
      arg.value('TimeToLive', timeSpan(p.ttlSeconds)),
      arg.noConfirm(),
    ]),
});

export const dnsAddCname = defineCommand({
  name: 'dns.addCname',
  kind: 'powershell',
  summary: 'Add a CNAME record (Add-DnsServerResourceRecordCName).',
  params: z.strictObject({ ...target, hostNameAlias: fqdn, ttlSeconds }),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: { dnsServer: 'dc1.contoso.com', zoneName: 'contoso.com', name: 'lyncdiscover', hostNameAlias: 'rp-west.contoso.com', ttlSeconds: 300 },
  build: (p) =>
    ps('Add-DnsServerResourceRecordCName', [
      arg.value('ComputerName', p.dnsServer),
      arg.value('ZoneName', p.zoneName),
      arg.value('Name', p.name),
      arg.value('HostNameAlias', p.hostNameAlias),
      arg.value('TimeToLive', timeSpan(p.ttlSeconds)),
      arg.noConfirm(),
    ]),
});

export const dnsAddSrv = defineCommand({
  name: 'dns.addSrv',
  kind: 'powershell',
  summary: 'Add an SRV record such as _sipinternaltls._tcp (Add-DnsServerResourceRecord -Srv).',
  params: z.strictObject({
    ...target,
    domainName: fqdn,
    priority: z.number().int().min(0).max(65_535),
    weight: z.number().int().min(0).max(65_535),
    port: z.number().int().min(1).max(65_535),
    ttlSeconds,
  }),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: { dnsServer: 'dc1.contoso.com', zoneName: 'contoso.com', name: '_sipinternaltls._tcp', domainName: 'drse1.contoso.com', priority: 0, weight: 0, port: 5061, ttlSeconds: 300 },
  build: (p) =>
    ps('Add-DnsServerResourceRecord', [
      arg.switch('Srv'),
      arg.value('ComputerName', p.dnsServer),
      arg.value('ZoneName', p.zoneName),
      arg.value('Name', p.name),
      arg.value('DomainName', p.domainName),
      arg.value('Priority', p.priority),
      arg.value('Weight', p.weight),
      arg.value('Port', p.port),
      arg.value('TimeToLive', timeSpan(p.ttlSeconds)),
      arg.noConfirm(),
    ]),
});

export const dnsRemoveRecord = defineCommand({
  name: 'dns.removeRecord',
  kind: 'powershell',
  summary: 'Remove one A or CNAME record by its data (Remove-DnsServerResourceRecord).',
  params: z.discriminatedUnion('rrType', [
    z.strictObject({ ...target, rrType: z.literal('A'), recordData: ipv4 }),
    z.strictObject({ ...target, rrType: z.literal('CName'), recordData: fqdn }),
  ]),
  effect: 'non-idempotent',
  supportsWhatIf: true,
  example: { dnsServer: 'dc1.contoso.com', zoneName: 'contoso.com', name: 'meet', rrType: 'A', recordData: '10.1.0.10' },
  build: (p) =>
    ps('Remove-DnsServerResourceRecord', [
      arg.value('ComputerName', p.dnsServer),
      arg.value('ZoneName', p.zoneName),
      arg.value('Name', p.name),
      arg.value('RRType', p.rrType),
      arg.value('RecordData', p.recordData),
      // -Force suppresses this cmdlet's own "are you sure" prompt, which -Confirm:$false does not cover.
      arg.switch('Force'),
      arg.noConfirm(),
    ]),
});
