// Which catalog commands move the Central Management Store, and which write to it. While a move
// runs the store is read-only, so a plan never runs the two at once (orchestrations/runbooks), and
// the simulated estate refuses a write during a move (worker/simulator/cms-moves.ts).
export const CMS_MOVES: ReadonlySet<string> = new Set(['cms.failover', 'cms.move']);
export const CMS_WRITERS: ReadonlySet<string> = new Set([
  'edge.setNextHop', 'pchat.setState', 'pchat.addActiveServers', 'pchat.clearActiveServers', 'pchat.installMirror', 'pchat.uninstallMirror',
]);
