// Assembles the lyncdr command line. Each area registers its commands from its own module
// in cli/commands/; add new ones (lab, plan, ...) to the list below.
import { Command } from 'commander';
import { registerTopologyCommands } from './commands/topology.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerLabCommands } from './commands/lab.js';
import { registerRunCommands } from './commands/run.js';
import { registerPlanCommands } from './commands/plan.js';

export function buildProgram(): Command {
  const program = new Command('lyncdr')
    .description('Disaster-recovery orchestrator for Lync Server 2013 / Skype for Business Server estates')
    .showHelpAfterError();

  registerTopologyCommands(program);
  registerAuditCommands(program);
  registerLabCommands(program);
  registerRunCommands(program);
  registerPlanCommands(program);

  return program;
}
