import type { z } from 'zod';
import type { CommandDefinition } from './define.js';
import * as pool from './pool.js';
import * as pchat from './pchat.js';
import * as edge from './edge.js';
import * as users from './users.js';
import * as legacy from './legacy.js';
import * as dns from './dns.js';
import * as sql from './sql.js';
import * as file from './file.js';
import * as logTail from './log-tail.js';

const definitions = [
  ...Object.values(pool),
  ...Object.values(pchat),
  ...Object.values(edge),
  ...Object.values(users),
  ...Object.values(legacy),
  ...Object.values(dns),
  ...Object.values(sql),
  ...Object.values(file),
  ...Object.values(logTail),
];

type Definitions = (typeof definitions)[number];
export type CommandName = Definitions['name'];

function byName(list: readonly CommandDefinition[]): Readonly<Record<string, CommandDefinition>> {
  const out: Record<string, CommandDefinition> = {};
  for (const d of list) {
    if (out[d.name]) throw new Error(`duplicate command name ${d.name}`);
    out[d.name] = d;
  }
  return Object.freeze(out);
}

/** Every command a runbook may run, by name. */
export const catalog: Readonly<Record<string, CommandDefinition>> = byName(definitions);

export const commandNames: readonly string[] = Object.keys(catalog);

export function getCommand(name: string): CommandDefinition | undefined {
  return Object.hasOwn(catalog, name) ? catalog[name] : undefined;
}

/** Typed handle for plan builders: `commands.poolFailover.params` etc. */
export const commands = { ...pool, ...pchat, ...edge, ...users, ...legacy, ...dns, ...sql, ...file, ...logTail };
export type ParamsOf<C extends CommandDefinition> = C extends CommandDefinition<infer S> ? z.input<S> : never;
