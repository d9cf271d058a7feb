// Commands that write to the Central Management Store (Edge next hop, pChat active servers and
// state, topology via mirror installs) and the CMS move itself. A CMS move and any of these must
// not overlap (issue 12 §3): plans order them, the simulator refuses an overlap.
export const CMS_MOVE = 'cms.failover';
export const CMS_WRITES: ReadonlySet<string> = new Set([
  CMS_MOVE, 'edge.setNextHop', 'pchat.addActiveServers', 'pchat.clearActiveServers', 'pchat.setState', 'pchat.installMirror', 'pchat.uninstallMirror',
]);
