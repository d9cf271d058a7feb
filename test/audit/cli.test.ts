// `lyncdr audit verify|show` against a real Azurite: output and the 0 / 1 / 2 exit-code contract.
import { describe, it, expect } from 'vitest';
import { Command } from 'commander';
import { registerAuditCommands } from '../../cli/commands/audit.js';
import { createAuditTrail, entryRowKey } from '../../shared/audit/index.js';
import { azurite, uniqueName } from '../support/azurite.js';
import { rawTable, seedRun } from './helpers.js';

async function run(args: string[], env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  let code: number | undefined;
  const program = new Command('lyncdr').exitOverride();
  registerAuditCommands(program, { env, out: (t) => out.push(t), err: (t) => err.push(t), setExitCode: (c) => { code = c; } });
  await program.parseAsync(['node', 'lyncdr', ...args]);
  return { code, out: out.join(''), err: err.join('') };
}

describe('lyncdr audit', () => {
  const table = uniqueName('cliaudit');
  const env = { AzureWebJobsStorage: azurite(), LYNCDR_AUDIT_TABLE: table };
  const trail = createAuditTrail({ connectionString: azurite(), tableName: table });

  it('verify: exit 0 and INTACT for an untouched run; --json gives the report', async () => {
    await seedRun(trail, 'run-ok', 6);
    const human = await run(['audit', 'verify', 'run-ok'], env);
    expect(human).toMatchObject({ code: 0, err: '' });
    expect(human.out).toMatch(/^run run-ok: INTACT: 6 entries, head records 6 entries \(sha256\)/);
    const json = await run(['audit', 'verify', 'run-ok', '--json'], env);
    expect(JSON.parse(json.out)).toMatchObject({ ok: true, entries: 6, problems: [] });
  });

  it('verify: exit 1 with the problems listed for a tampered run', async () => {
    await seedRun(trail, 'run-bad', 6);
    await rawTable(trail).deleteEntity('run-bad', entryRowKey(3));
    const r = await run(['audit', 'verify', 'run-bad'], env);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/TAMPERED: 1 problem\(s\)/);
    expect(r.out).toMatch(/seq 3 +deleted +entry 3 is missing/);
  });

  it('verify and show: exit 2 for an unknown run or an unusable table name', async () => {
    const unknown = await run(['audit', 'verify', 'run-nope'], env);
    expect(unknown).toMatchObject({ code: 2, out: '' });
    expect(unknown.err).toMatch(/no audit trail for run "run-nope"/);
    expect((await run(['audit', 'show', 'run-nope'], env)).code).toBe(2);
    expect((await run(['audit', 'verify', 'run-ok', '--table', 'no-such!'], env)).err).toMatch(/table name/);
  });

  it('verify: a finished run whose partition was deleted is TAMPERED (exit 1), not unknown, and the anchor is shown', async () => {
    await seedRun(trail, 'run-gone', 20);
    const intact = await run(['audit', 'verify', 'run-gone'], env);
    expect(intact.code).toBe(0);
    expect(intact.out).toMatch(/\n {2}anchor: 3 line\(s\), up to entry 20 \(run-completed, 2025-03-01T03:01:00.000Z\); the run ended there\n$/);
    for await (const r of rawTable(trail).listEntities({ queryOptions: { filter: "PartitionKey eq 'run-gone'" } })) await rawTable(trail).deleteEntity('run-gone', r.rowKey!);
    const gone = await run(['audit', 'verify', 'run-gone'], env);
    expect(gone.code).toBe(1);
    expect(gone.out).toMatch(/TAMPERED: 1 problem\(s\) in 0 entries, no head row/);
    expect(gone.out).toMatch(/deleted +the run's whole trail is gone from the table: its anchor records 20 entries/);
  });

  it('show: a readable listing, and --json the JSON-lines export', async () => {
    await seedRun(trail, 'run-show', 4);
    const human = await run(['audit', 'show', 'run-show'], env);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/run run-show: 4 entries/);
    expect(human.out).toMatch(/ {3}4 {2}2025-03-01T02:03:00.000Z {2}vote +user:alice@contoso.com {2}gate:main:vote:alice/);
    const json = await run(['audit', 'show', 'run-show', '--json'], env);
    expect(json.out.trimEnd().split('\n').map((l) => JSON.parse(l).seq)).toEqual([1, 2, 3, 4]);
  });
});
