import { Command, Option } from 'commander';
import { parseDuration } from '../parse.js';
import { CommandFailure, failing } from './failure.js';
import { stopAgent, type StopOutcome } from './spawn.js';
import { hearsayHome, readState, removeState } from './state.js';

const SAY: Record<StopOutcome, string> = {
  'not running': 'was not running',
  stopped: 'stopped (SIGTERM: left the cluster)',
  killed: 'did not stop in time: killed (SIGKILL)',
  'still running': 'is STILL RUNNING after SIGKILL',
};

export function downCommand(): Command {
  return new Command('down')
    .description('stop every agent the cluster commands started (SIGTERM, then SIGKILL after a grace period) and remove the state')
    .addOption(new Option('--grace <duration>', 'time to leave gracefully before SIGKILL').argParser(parseDuration).default(10_000, '10s'))
    .option('--keep-logs', 'keep the agents’ log files')
    .action(failing((flags: { grace: number; keepLogs?: boolean }) => down(flags)));
}

async function down(flags: { grace: number; keepLogs?: boolean }): Promise<void> {
  const home = hearsayHome();
  const state = readState(home);
  if (!state) {
    process.stdout.write(`No cluster is recorded in ${home}: nothing to stop\n`);
    return;
  }
  const outcomes = await Promise.all(state.nodes.map((node) => stopAgent(node.pid, node.name, flags.grace)));
  state.nodes.forEach((node, i) => {
    process.stdout.write(`${node.name} (pid ${node.pid}) ${SAY[outcomes[i]!]}\n`);
  });
  const stuck = state.nodes.filter((_, i) => outcomes[i] === 'still running');
  if (stuck.length > 0) {
    throw new CommandFailure(`could not stop ${stuck.map((n) => `${n.name} (pid ${n.pid})`).join(', ')}; the state in ${home} is kept`);
  }
  removeState(home, state, flags.keepLogs ?? false);
  process.stdout.write(`Cluster down; removed its state from ${home}\n`);
}
