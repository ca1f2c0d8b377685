import { Command } from 'commander';
import { addCommand } from './add.js';
import { downCommand } from './down.js';
import { killCommand } from './kill.js';
import { clusterMembersCommand } from './members.js';
import { upCommand } from './up.js';
import { watchCommand } from './watch.js';

/**
 * `hearsay cluster up | members | add | kill | watch | down`: a local cluster of agents on
 * 127.0.0.1, started as background processes and recorded in $HEARSAY_HOME (default ./.hearsay).
 */
export function clusterCommand(): Command {
  const cluster = new Command('cluster')
    .description('run a local cluster of agents on 127.0.0.1 (state in $HEARSAY_HOME, default ./.hearsay)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const sub of [upCommand(), clusterMembersCommand(), addCommand(), killCommand(), watchCommand(), downCommand()]) {
    // Subcommands added this way inherit nothing: errors must reach main as usage errors (exit 2).
    cluster.addCommand(sub.exitOverride().showHelpAfterError('(run with --help for usage)'));
  }
  return cluster;
}
