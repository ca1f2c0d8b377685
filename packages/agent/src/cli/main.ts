#!/usr/bin/env node
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { HearsayError } from 'hearsay/core';
import { agentCommand } from './agent-command.js';
import { clusterCommand } from './cluster/index.js';
import { eventCommand } from './event-command.js';
import { experimentCommand, experimentNames } from './experiment-command.js';
import { keysCommand } from './keys-command.js';
import { membersCommand } from './members-command.js';
import { queryCommand } from './query-command.js';
import { rttCommand } from './rtt-command.js';
import { simCommand } from './sim-command.js';
import { terminalLines } from './terminal-text.js';

/** Exit codes: 0 success, 1 failure, 2 usage error. */
const USAGE = 2;
const FAILURE = 1;

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

async function program(): Promise<Command> {
  const root = new Command('hearsay')
    .description('cluster membership and failure detection by gossip (SWIM with Lifeguard)')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  root.addCommand(simCommand().exitOverride());
  root.addCommand(agentCommand().exitOverride());
  root.addCommand(membersCommand().exitOverride()).addCommand(clusterCommand().exitOverride());
  root
    .addCommand(eventCommand().exitOverride())
    .addCommand(queryCommand().exitOverride())
    .addCommand(keysCommand().exitOverride())
    .addCommand(rttCommand().exitOverride());
  root.addCommand(experimentCommand(await experimentNames()).exitOverride());
  return root;
}

try {
  await (await program()).parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version are not errors; everything else commander rejects is a usage error.
    process.exitCode = error.exitCode === 0 ? 0 : USAGE;
  } else if (error instanceof HearsayError) {
    process.stderr.write(`hearsay: ${terminalLines(error.message)}\n`);
    process.exitCode = USAGE;
  } else {
    // An unexpected error may quote what an agent sent.
    process.stderr.write(`hearsay: ${terminalLines(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
    process.exitCode = FAILURE;
  }
}
