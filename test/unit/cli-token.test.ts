// The CLI in Azure: App Service Authentication takes an Entra access token, so every command sends
// --token / LYNCDR_TOKEN as a bearer token. The CLI runs as a child process against the real host
// (easy-auth mode, as infra/ configures it), behind a stand-in for App Service Authentication that
// turns each known token into its principal: who the app takes the caller to be follows the token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azurite, uniqueName } from '../support/azurite.js';
import { lyncdr } from '../support/cli.js';
import { entraPrincipal, startEasyAuthFront, type EasyAuthFront } from '../support/easy-auth-front.js';
import { spawnHost, type HostProcess } from '../support/host-process.js';
import { APP, runsSettings } from '../runs/support.js';

const TENANT = '7f1a4c2e-0000-4000-8000-00000000c001';
const OPS_OID = '2b8e7d10-1111-4111-8111-00000000c011';
const ALICE_OID = '2b8e7d10-2222-4222-8222-00000000c022';

const principal = (oid: string, upn: string) => entraPrincipal(oid, TENANT, upn);

let host: HostProcess | undefined;
let front: EasyAuthFront | undefined;
beforeAll(async () => {
  host = await spawnHost({
    hub: uniqueName('CliToken'), entry: APP, connectionString: azurite(),
    env: {
      ...runsSettings(uniqueName('tok').toLowerCase().slice(0, 12)),
      LYNCDR_IDENTITY: 'easy-auth', LYNCDR_TENANT_ID: TENANT, LYNCDR_OPERATORS: JSON.stringify([OPS_OID]),
      LYNCDR_APPROVAL_POLICIES: JSON.stringify({ default: { required: 1, approverGroups: { primary: [ALICE_OID] }, timeoutMinutes: 30, escalationTimeoutMinutes: 30 } }),
    },
  });
  front = await startEasyAuthFront(host.url, { 'token-ops': principal(OPS_OID, 'ops@contoso.com'), 'token-alice': principal(ALICE_OID, 'alice@contoso.com') });
}, 60_000);
afterAll(async () => { await front?.stop(); await host?.stop(); });

const env = (extra: Record<string, string>): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, ...extra });
const release = (extra: string[], e: NodeJS.ProcessEnv) => lyncdr(['locks', 'release', 'test:cli-token', '--reason', 'cli token test', '--url', front!.url, ...extra], e);

describe('lyncdr with an Entra token', () => {
  it('sends LYNCDR_TOKEN as a bearer token, --token overrides it, and no dev identity unless asked', async () => {
    const runs = await lyncdr(['runs', '--url', front!.url], env({ LYNCDR_TOKEN: 'token-alice' }));
    expect(runs, runs.stderr).toMatchObject({ code: 0, stdout: 'no runs\n' });
    // Releasing a lock is for operators: the flag's token (the operator) wins over the environment's.
    const asOperator = await release(['--token', 'token-ops'], env({ LYNCDR_TOKEN: 'token-alice' }));
    expect(asOperator.code).not.toBe(0);
    expect(asOperator.stderr).toContain('no run holds lock test:cli-token');
    const asAlice = await release([], env({ LYNCDR_TOKEN: 'token-alice' }));
    expect(asAlice.code).not.toBe(0);
    expect(asAlice.stderr).toContain(`${ALICE_OID} may not release a lock`);
    // Without a token the platform turns the caller away; the dev identity goes only when asked.
    const devOnly = await lyncdr(['runs', '--url', front!.url, '--as', 'alice'], env({}));
    expect(devOnly.code).not.toBe(0);
    expect(devOnly.stderr).toMatch(/401/);
    expect(front!.seen).toEqual([
      ['Bearer token-alice', undefined], ['Bearer token-ops', undefined], ['Bearer token-alice', undefined], [undefined, 'alice'],
    ]);
  });
});
