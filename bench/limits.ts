// npm run bench:limits: the two runs that must fit every Azure limit (issue: custom status 16 KB,
// Table entity 1 MiB / 32K characters a property, large messages offloaded), run end to end on the
// local stack by their tests (test/runs/limits-site.test.ts: a site failover of twenty pools;
// test/runs/limits-legacy.test.ts: a legacy-site-dr moving 40,000 users), which print the largest
// custom status and the largest Table entity each run wrote. Printed and written to
// bench/results/latest.json (limits).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FILES = ['test/runs/limits-site.test.ts', 'test/runs/limits-legacy.test.ts'];
const LINE = /^\[limits\] (.+?): (\d+) steps; largest custom status (\d+) characters \(([^)]*)\); largest entity (\d+) bytes \(([^)]*)\)/;

function runTests(): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', ...FILES], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += String(d); });
    child.stderr.on('data', (d) => { out += String(d); });
    child.on('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

async function main() {
  process.stderr.write(`[bench] running ${FILES.join(' and ')} (a few minutes)\n`);
  const started = Date.now();
  const { code, out } = await runTests();
  // eslint-disable-next-line no-control-regex -- terminal colour codes are what it removes
  const plain = (l: string) => l.replace(/\x1b\[[0-9;]*m/g, '').trim();
  const rows = out.split('\n').map((l) => LINE.exec(plain(l))).filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ run: m[1], steps: Number(m[2]), customStatusChars: Number(m[3]), customStatusKb: Math.floor((Number(m[3]) * 2) / 1024), entityBytes: Number(m[5]), entity: m[6] }));
  if (code !== 0 || rows.length !== FILES.length) {
    console.error(out.slice(-4000));
    throw new Error(`the limits tests failed (exit ${code}, ${rows.length} of ${FILES.length} figures)`);
  }
  console.log('| run | steps | largest custom status | largest Table entity |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(`| ${r.run} | ${r.steps} | ${r.customStatusChars} characters (${r.customStatusKb} KB of 16) | ${r.entityBytes} bytes of 1,048,576 (${r.entity.replace(/run-[a-z0-9-]+/, '<run>')}) |`);
  }
  console.log(`(${Math.round((Date.now() - started) / 1000)} s)`);
  const file = path.join(ROOT, 'bench/results/latest.json');
  const all = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  all.limits = { rows, at: new Date().toISOString() };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(all, null, 2));
  console.log('written: bench/results/latest.json (limits)');
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
