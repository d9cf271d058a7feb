// Runs one child process with stdin, bounded output capture and a timeout that kills the
// whole process tree: Lync cmdlets start helpers of their own, and a hung grandchild must not
// outlive the step that started it.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ProcessOptions {
  executable: string;
  args: readonly string[];
  stdin?: string;
  timeoutMs: number;
  /** Per stream; the rest is drained and dropped. */
  maxOutputBytes: number;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface ProcessResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  aborted: boolean;
  truncated: boolean;
  spawnError?: string;
}

class BoundedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length < chunk.length) this.truncated = true;
    this.chunks.push(part);
    this.size += part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export function killTree(child: ChildProcess): void {
  if (child.pid === undefined) return;
  if (process.platform === 'win32') {
    spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on('error', () => undefined);
    return;
  }
  try {
    // Negative pid: the process group the detached child leads, grandchildren included.
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

export function runProcess(opts: ProcessOptions): Promise<ProcessResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const stdout = new BoundedBuffer(opts.maxOutputBytes);
    const stderr = new BoundedBuffer(opts.maxOutputBytes);
    let timedOut = false;
    let aborted = false;
    let settled = false;

    const child = spawn(opts.executable, [...opts.args], {
      detached: process.platform !== 'win32',
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
      env: opts.env ?? process.env,
    });

    const finish = (exitCode: number | null, spawnError?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({
        exitCode,
        stdout: stdout.text(),
        stderr: stderr.text(),
        durationMs: Math.round(performance.now() - started),
        timedOut,
        aborted,
        truncated: stdout.truncated || stderr.truncated,
        ...(spawnError ? { spawnError } : {}),
      });
    };

    const stop = (): void => {
      killTree(child);
      // A killed tree closes its pipes; if something outside the group still holds them, do not wait forever.
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(null);
      }, 2_000).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', (err) => finish(null, err.message));
    child.on('close', (code) => finish(timedOut || aborted ? null : code));
    child.stdin.on('error', () => undefined); // the child may exit without reading stdin
    child.stdin.end(opts.stdin ?? '');
  });
}
