// Writes a fake `pwsh` (a node script) into a temp dir for the PowerShell runner tests. It
// records its argv and stdin, then behaves as FAKE_PWSH_SCENARIO says.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const record = process.env.FAKE_PWSH_RECORD;
const scenario = process.env.FAKE_PWSH_SCENARIO || 'ok';
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const stdin = Buffer.concat(chunks).toString('utf8');
  fs.writeFileSync(record, JSON.stringify({ argv: process.argv.slice(2), stdin, pid: process.pid }));
  const req = JSON.parse(stdin);
  if (scenario === 'ok') {
    process.stdout.write(JSON.stringify([{ cmdlet: req.cmdlet, arguments: req.arguments, pipeline: req.pipeline }]));
    process.exit(0);
  } else if (scenario === 'fail') {
    process.stderr.write('Invoke-CsPoolFailover : The pool is not paired.');
    process.exit(1);
  } else if (scenario === 'notjson') {
    process.stdout.write('WARNING: this is not JSON');
    process.exit(0);
  } else if (scenario === 'big') {
    const row = JSON.stringify({ Identity: 'sip:user@contoso.com', RegistrarPool: 'eepool1.contoso.com', pad: 'x'.repeat(200) });
    const rows = 20000;
    process.stdout.write('[');
    for (let i = 0; i < rows; i++) process.stdout.write((i ? ',' : '') + row);
    process.stdout.write(']', () => process.exit(0));
  } else if (scenario === 'hang') {
    const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    fs.writeFileSync(record + '.grandchild', String(grandchild.pid));
    setInterval(() => {}, 1000);
  }
});
`;

export interface FakePwsh {
  dir: string;
  record: string;
  env(scenario: string): NodeJS.ProcessEnv;
}

export function installFakePwsh(): FakePwsh {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-fake-pwsh-'));
  const exe = path.join(dir, 'pwsh');
  writeFileSync(exe, SCRIPT);
  chmodSync(exe, 0o755);
  const record = path.join(dir, 'record.json');
  return {
    dir,
    record,
    env: (scenario) => ({ ...process.env, PATH: `${dir}${path.delimiter}${process.env.PATH ?? ''}`, FAKE_PWSH_SCENARIO: scenario, FAKE_PWSH_RECORD: record }),
  };
}
