// Pure statement building for the SQL runner, kept apart so tests can check exactly what
// would be sent without a server.
import { SQL_IDENTIFIERS } from '../../shared/commands/values.js';
import { sqlBracket } from '../../shared/commands/quote.js';
import type { SqlSpec } from '../../shared/commands/spec.js';

export interface BoundInput {
  name: string;
  type: SqlSpec['parameters'][number]['type'];
  value: string | number | null;
}

export interface SqlStatement {
  text: string;
  inputs: BoundInput[];
}

const ALLOWED = new Set<string>(SQL_IDENTIFIERS);

export class SqlStatementError extends Error {}

export function buildSqlStatement(spec: SqlSpec): SqlStatement {
  const text = spec.statement.replace(/\{\{([a-z]+)\}\}/g, (_m, key: string) => {
    const id = Object.hasOwn(spec.identifiers, key) ? spec.identifiers[key] : undefined;
    // Identifiers are the one thing that is not bound, so they are re-checked here, not trusted.
    if (id === undefined || !ALLOWED.has(id)) throw new SqlStatementError(`identifier {{${key}}} is not on the allow-list`);
    return sqlBracket(id);
  });
  // `@name =` is a named procedure argument (EXEC proc @secondary_database = @database), not a variable.
  const used = new Set([...text.matchAll(/(?<!@)@([a-z][a-z0-9_]*)\b(?!\s*=)/g)].map((m) => m[1]));
  const declaredInStatement = new Set([...text.matchAll(/DECLARE\s+@([a-z][a-z0-9_]*)/gi)].map((m) => m[1]));
  for (const p of spec.parameters) {
    if (!used.has(p.name)) throw new SqlStatementError(`parameter @${p.name} is not used by the statement`);
  }
  for (const name of used) {
    if (!declaredInStatement.has(name) && !spec.parameters.some((p) => p.name === name)) {
      throw new SqlStatementError(`statement uses @${name} but no value is bound`);
    }
  }
  return { text, inputs: spec.parameters.map((p) => ({ name: p.name, type: p.type, value: p.value })) };
}
