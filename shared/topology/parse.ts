import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { Topology } from './schema.js';
import { checkTopology, type Problem } from './rules.js';

export type ParseResult = { ok: true; topology: Topology } | { ok: false; problems: Problem[] };

export function formatPath(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${String(s)}` : String(s)), '');
}

export function parseTopology(data: unknown): ParseResult {
  const shape = Topology.safeParse(data);
  if (!shape.success) {
    return { ok: false, problems: shape.error.issues.map((i) => ({ path: formatPath(i.path) || '(root)', message: i.message })) };
  }
  const problems = checkTopology(shape.data);
  return problems.length ? { ok: false, problems } : { ok: true, topology: shape.data };
}

/** The file could not be read or is not JSON / YAML; distinct from a topology that breaks the rules. */
export class TopologyFileError extends Error {}

export async function readTopologyFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TopologyFileError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    // JSON is a subset of YAML 1.2, but JSON.parse gives better messages for .json files.
    return /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new TopologyFileError(`cannot parse ${path}: ${(err as Error).message}`);
  }
}

export async function loadTopologyFile(path: string): Promise<ParseResult> {
  return parseTopology(await readTopologyFile(path));
}
