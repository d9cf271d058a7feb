// A real browser for pages: playwright-core driving Debian's chromium (`apt-get install -y
// chromium`, which .ci/run does). LYNCDR_CHROMIUM names another binary. No browser is downloaded:
// playwright-core ships none, and CI has no network but the npm registry and Debian's packages.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function chromiumPath(): string {
  const named = process.env.LYNCDR_CHROMIUM;
  if (named) return named;
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`no chromium found (looked at ${CANDIDATES.join(', ')}): apt-get install -y chromium, or set LYNCDR_CHROMIUM`);
  return found;
}

export function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], timeout: 60_000 });
}
