// The lyncdr CLI as operators run it: a child process of the built dist/cli/lyncdr.js.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './host.js';

export interface CliResult { code: number; stdout: string; stderr: string }

export function lyncdr(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'dist/cli/lyncdr.js'), ...args], { cwd: ROOT, env }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 2) : 0, stdout, stderr }));
  });
}
