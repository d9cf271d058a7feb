// Where the simulated estate comes from: a topology file (the same one the runbooks are built
// from), so a drill's plan and the estate it runs against describe the same servers.
import path from 'node:path';
import { loadTopologyFile, type Topology } from '../../shared/topology/index.js';

export const DEFAULT_TOPOLOGY_FILE = path.join('examples', 'estate.sample.yaml');

/** --topology, else LYNCDR_TOPOLOGY, else examples/estate.sample.yaml; relative paths from the process cwd. */
export function topologyFile(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag || env.LYNCDR_TOPOLOGY || DEFAULT_TOPOLOGY_FILE);
}

/** Loads and checks a topology; a file that breaks the rules is an error listing every problem. */
export async function loadSimulatorTopology(file: string): Promise<Topology> {
  const r = await loadTopologyFile(file);
  if (!r.ok) {
    throw new Error(`topology ${file} is not valid:\n${r.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
  }
  return r.topology;
}
