// Writes a fake executable (a node script) into a temp dir for the DBImpExp.exe runner tests: it
// records the argv the operating system handed it, as the real program would receive it.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = `#!/usr/bin/env node
require('node:fs').writeFileSync(process.env.FAKE_EXE_RECORD, JSON.stringify({ argv: process.argv.slice(2) }));
`;

export interface FakeExe {
  dir: string;
  executable: string;
  record: string;
  env: NodeJS.ProcessEnv;
}

export function installFakeExe(): FakeExe {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-fake-exe-'));
  const executable = path.join(dir, 'DBImpExp');
  writeFileSync(executable, SCRIPT);
  chmodSync(executable, 0o755);
  const record = path.join(dir, 'record.json');
  return { dir, executable, record, env: { ...process.env, FAKE_EXE_RECORD: record } };
}
