// Edge next hop (runbooks 1-3). Get-CsEdgeServer does not exist: read via Get-CsService -EdgeServer.
import { z } from 'zod';
import { arg, defineCommand, ps } from './define.js';
import { fqdn } from './values.js';

export const edgeGetServices = defineCommand({
  name: 'edge.getServices',
  kind: 'powershell',
  summary: 'Edge services and their settings (Get-CsService -EdgeServer).',
  params: z.strictObject({ poolFqdn: fqdn.optional() }),
  effect: 'read-only',
  supportsWhatIf: false,
  example: { poolFqdn: 'edgepool1.contoso.com' },
  build: (p) => ps('Get-CsService', [arg.switch('EdgeServer'), p.poolFqdn && arg.value('PoolFqdn', p.poolFqdn)]),
});

export const edgeSetNextHop = defineCommand({
  name: 'edge.setNextHop',
  kind: 'powershell',
  summary: "Point an Edge pool's next hop at another Registrar pool (Set-CsEdgeServer -Registrar).",
  params: z.strictObject({ edgePoolFqdn: fqdn, nextHopPoolFqdn: fqdn }),
  effect: 'idempotent',
  supportsWhatIf: true,
  example: { edgePoolFqdn: 'edgepool1.contoso.com', nextHopPoolFqdn: 'eepool2.contoso.com' },
  build: (p) =>
    ps('Set-CsEdgeServer', [
      arg.value('Identity', `EdgeServer:${p.edgePoolFqdn}`),
      arg.value('Registrar', `Registrar:${p.nextHopPoolFqdn}`),
      arg.noConfirm(),
    ]),
});
