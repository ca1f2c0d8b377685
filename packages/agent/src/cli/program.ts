/** The `hearsay` command tree, without running it: main.ts parses argv with it, the docs test walks it. */
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { agentCommand } from './agent-command.js';
import { clusterCommand } from './cluster/index.js';
import { eventCommand } from './event-command.js';
import { experimentCommand, experimentNames } from './experiment-command.js';
import { forceLeaveCommand } from './force-leave-command.js';
import { infoCommand } from './info-command.js';
import { keygenCommand } from './keygen-command.js';
import { keysCommand } from './keys-command.js';
import { membersCommand } from './members-command.js';
import { monitorCommand } from './monitor-command.js';
import { joinCommand, leaveCommand } from './membership-commands.js';
import { queryCommand } from './query-command.js';
import { reachabilityCommand } from './reachability-command.js';
import { rttCommand } from './rtt-command.js';
import { simCommand } from './sim-command.js';
import { tagsCommand } from './tags-command.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export async function buildProgram(): Promise<Command> {
  const root = new Command('hearsay')
    .description('cluster membership and failure detection by gossip (SWIM with Lifeguard)')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  root.addCommand(simCommand().exitOverride());
  root.addCommand(agentCommand().exitOverride());
  root.addCommand(membersCommand().exitOverride()).addCommand(clusterCommand().exitOverride());
  root.addCommand(joinCommand().exitOverride()).addCommand(leaveCommand().exitOverride());
  root.addCommand(tagsCommand().exitOverride()).addCommand(forceLeaveCommand().exitOverride());
  root
    .addCommand(eventCommand().exitOverride())
    .addCommand(queryCommand().exitOverride())
    .addCommand(keysCommand().exitOverride())
    .addCommand(keygenCommand().exitOverride())
    .addCommand(rttCommand().exitOverride());
  root.addCommand(infoCommand().exitOverride()).addCommand(monitorCommand().exitOverride()).addCommand(reachabilityCommand().exitOverride());
  root.addCommand(experimentCommand(await experimentNames()).exitOverride());
  return root;
}
