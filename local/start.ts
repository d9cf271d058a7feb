#!/usr/bin/env node
// `npm start`: the whole local stack on loopback (see local/stack.ts). Ctrl-C stops everything.
import { log, startStack } from './stack.js';

try {
  const stack = await startStack({ mail: true });
  log('Ready. Ctrl-C stops everything.');
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping...');
    await stack.stop();
    log('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  void stack.broken.then((why) => { log(why); void stop(1); });
} catch (err) {
  console.error(`[lyncdr] ${(err as Error).message}`);
  process.exit(1);
}
