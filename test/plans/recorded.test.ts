import { describe, expect, it } from 'vitest';
import { recordedFromRun } from '../../orchestrations/runbooks/recorded.js';

describe('a failback reads what its failover recorded', () => {
  it('turns the cmdlets own output into the failback options', () => {
    const r = recordedFromRun({
      'preFailover.edgeNextHops': [{ Identity: 'EdgeServer:edgepool1.contoso.com', PoolFqdn: 'edgepool1.contoso.com', Registrar: 'Registrar:eepool1.contoso.com' }],
      'preFailover.activeServers': [{ Identity: 'PersistentChatServer:pchatpool1.contoso.com', ActiveServers: ['PCHATSERVER1.contoso.com', 'pchatserver2.contoso.com'] }],
      'preFailover.dns.meet': [{ HostName: 'meet', RecordType: 'A', RecordData: { IPv4Address: '10.1.0.10' } }],
      'preFailover.dns.lyncdiscover': [{ HostName: 'lyncdiscover', RecordType: 'CNAME', RecordData: { HostNameAlias: 'rp-east.contoso.com.' } }],
      'preFailover.dns.sipinternaltls': { RecordData: { DomainName: 'eepool1.contoso.com.', Port: 5061 } },
    }, { installMirror: true });
    expect(r).toEqual({
      edgeNextHops: { 'edgepool1.contoso.com': 'eepool1.contoso.com' },
      activeServers: ['pchatserver1.contoso.com', 'pchatserver2.contoso.com'],
      dns: { meet: '10.1.0.10', lyncdiscover: 'rp-east.contoso.com', sipinternaltls: 'eepool1.contoso.com' },
      mirrorInstalled: true,
    });
  });

  it('leaves unset what it cannot read (the failback then uses the configured value)', () => {
    expect(recordedFromRun({ 'preFailover.dns.meet': [{ RecordData: {} }], unrelated: 1 })).toEqual({});
  });
});
