// Turns an execution spec into the line an operator would type, so what the plan shows and
// what the runner does cannot drift apart: both come from the same spec.
import type { ExecutionSpec, PsArgument, PowerShellSpec, SqlSpec, FileSpec, ExeSpec } from './spec.js';
import { psList, psQuote, sqlBracket, sqlLiteral } from './quote.js';

function renderPsArgument(a: PsArgument): string {
  switch (a.kind) {
    case 'switch':
      return a.value ? `-${a.name}` : `-${a.name}:$false`;
    case 'null':
      return `-${a.name} $null`;
    case 'listAdd':
      return `-${a.name} @{Add=${psList(a.value)}}`;
    case 'listRemove':
      return `-${a.name} @{Remove=${psList(a.value)}}`;
    case 'credential':
      return `-${a.name} (Get-Secret -Name ${psQuote(a.secret)})`;
    case 'value':
      if (typeof a.value === 'number') return `-${a.name} ${a.value}`;
      if (Array.isArray(a.value)) return `-${a.name} ${psList(a.value)}`;
      return `-${a.name} ${psQuote(a.value)}`;
  }
}

function renderPowerShell(spec: PowerShellSpec): string {
  const line = [spec.cmdlet, ...spec.arguments.map(renderPsArgument)].join(' ');
  return spec.pipeline ? `${psList(spec.pipeline.values)} | ${line}` : line;
}

/** Inlines bound values as literals; the runner binds them instead. */
export function renderSql(spec: SqlSpec): string {
  let text = spec.statement.replace(/\{\{([a-z]+)\}\}/g, (_m, key: string) => {
    const id = spec.identifiers[key];
    if (!id) throw new Error(`statement uses {{${key}}} but no identifier was given`);
    return sqlBracket(id);
  });
  for (const p of [...spec.parameters].sort((a, b) => b.name.length - a.name.length)) {
    text = text.replace(new RegExp(`@${p.name}\\b`, 'g'), () => (p.display === 'identifier' && typeof p.value === 'string' ? sqlBracket(p.value) : sqlLiteral(p.value)));
  }
  return text.replace(/\s+/g, ' ').trim();
}

function cmdArg(value: string): string {
  return /[\s"]/.test(value) ? `"${value.replace(/"/g, '\\"')}"` : value;
}

function renderFile(spec: FileSpec): string {
  if (spec.operation === 'list') {
    return `Get-ChildItem -LiteralPath ${psQuote(spec.folder)} -Filter ${psQuote(spec.pattern)} -File`;
  }
  if (spec.operation === 'prune') {
    // What the worker does with Node's fs, as an operator would type it: by the date in the name.
    const keep = `${spec.folder.replace(/\\$/, '')}\\${spec.keep}`;
    return `if (-not (Test-Path -LiteralPath ${psQuote(keep)})) { throw 'missing: ${keep.replace(/'/g, "''")}' }; Get-ChildItem -LiteralPath ${psQuote(spec.folder)} -Filter ${psQuote(`${spec.prefix}????-??-??${spec.extension}`)} -File | Where-Object { $_.BaseName.Substring(${spec.prefix.length}) -lt ${psQuote(spec.before)} } | Where-Object Name -ne ${psQuote(spec.keep)} | Remove-Item`;
  }
  const sources = spec.files.map((f) => `${spec.sourceFolder.replace(/\\$/, '')}\\${f}`);
  return `Copy-Item -LiteralPath ${psList(sources)} -Destination ${psQuote(spec.destinationFolder)}${spec.overwrite ? ' -Force' : ''}`;
}

function renderExe(spec: ExeSpec): string {
  return [spec.executable, ...spec.args.map(cmdArg)].join(' ');
}

export function renderSpec(spec: ExecutionSpec): string {
  switch (spec.kind) {
    case 'powershell':
      return renderPowerShell(spec);
    case 'sql':
      return renderSql(spec);
    case 'file':
      return renderFile(spec);
    case 'exe':
      return renderExe(spec);
  }
}
