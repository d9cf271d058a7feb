export { catalog, commandNames, commands, getCommand, type CommandName, type ParamsOf } from './catalog.js';
export { CommandInvocation, validateInvocation, type ValidatedInvocation, type InvocationError } from './invocation.js';
export { defineCommand, type CommandDefinition, type CommandKind, type Effect } from './define.js';
export { ExecutionSpec, PowerShellSpec, SqlSpec, FileSpec, ExeSpec, PsArgument, SqlParameter } from './spec.js';
export { renderSpec, renderSql } from './render.js';
export { psQuote, sqlLiteral, sqlBracket } from './quote.js';
