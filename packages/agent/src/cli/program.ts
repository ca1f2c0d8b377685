/** The `hearsay` command tree, without running it: main.ts parses argv with it, the docs test walks it. */
import { createRequire } from 'node:module';
import { Command } from 'commander';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/**
 * Each command's module, loaded only when needed: `hearsay agent` need not load the simulator,
 * the local-cluster tool and the experiments before it starts (help loads them all).
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Command>]> = [
  ['sim', async () => (await import('./sim-command.js')).simCommand()],
  ['tune', async () => (await import('./tune-command.js')).tuneCommand()],
  ['agent', async () => (await import('./agent-command.js')).agentCommand()],
  ['members', async () => (await import('./members-command.js')).membersCommand()],
  ['cluster', async () => (await import('./cluster/index.js')).clusterCommand()],
  ['join', async () => (await import('./membership-commands.js')).joinCommand()],
  ['leave', async () => (await import('./membership-commands.js')).leaveCommand()],
  ['tags', async () => (await import('./tags-command.js')).tagsCommand()],
  ['force-leave', async () => (await import('./force-leave-command.js')).forceLeaveCommand()],
  ['event', async () => (await import('./event-command.js')).eventCommand()],
  ['query', async () => (await import('./query-command.js')).queryCommand()],
  ['keys', async () => (await import('./keys-command.js')).keysCommand()],
  ['keygen', async () => (await import('./keygen-command.js')).keygenCommand()],
  ['rtt', async () => (await import('./rtt-command.js')).rttCommand()],
  ['info', async () => (await import('./info-command.js')).infoCommand()],
  ['monitor', async () => (await import('./monitor-command.js')).monitorCommand()],
  ['reachability', async () => (await import('./reachability-command.js')).reachabilityCommand()],
  ['why', async () => (await import('./why-command.js')).whyCommand()],
  [
    'experiment',
    async () => {
      const { experimentCommand, experimentNames } = await import('./experiment-command.js');
      return experimentCommand(await experimentNames());
    },
  ],
];

/**
 * The command tree. Given the command line's arguments (after node and the script), only the
 * command they name is loaded; without them, or when they name none (help, a typo), all are.
 */
export async function buildProgram(args?: readonly string[]): Promise<Command> {
  const root = new Command('hearsay')
    .description('cluster membership and failure detection by gossip (SWIM with Lifeguard)')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  const named = COMMANDS.find(([name]) => name === args?.[0]);
  for (const [, load] of named ? [named] : COMMANDS) root.addCommand((await load()).exitOverride());
  return root;
}
