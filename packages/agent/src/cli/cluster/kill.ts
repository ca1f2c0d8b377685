import { Command } from 'commander';
import { CommandFailure, failing } from './failure.js';
import { killAgent } from './spawn.js';
import { findNode, hearsayHome, type NodeRecord, requireState, writeState } from './state.js';
import { isLive } from './views.js';

export function killCommand(): Command {
  return new Command('kill')
    .description('SIGKILL one agent (a random live one unless named), by its recorded PID; it stays recorded, as down')
    .option('--node <name>', 'the node to kill')
    .action(failing((flags: { node?: string }) => kill(flags)));
}

async function kill(flags: { node?: string }): Promise<void> {
  const home = hearsayHome();
  const state = requireState(home);
  let node: NodeRecord;
  if (flags.node !== undefined) {
    node = findNode(state, flags.node);
    if (node.down) throw new CommandFailure(`${node.name} is already down (killed at ${node.down_at ?? 'an earlier time'})`);
  } else {
    const live = state.nodes.filter(isLive);
    if (live.length === 0) throw new CommandFailure(`no node of the cluster recorded in ${home} is running: nothing to kill`);
    node = live[Math.floor(Math.random() * live.length)]!;
  }
  const killed = await killAgent(node.pid, node.name);
  node.down = true;
  node.down_at = new Date().toISOString();
  writeState(home, state);
  if (!killed) throw new CommandFailure(`${node.name} (pid ${node.pid}) was not running (its agent had already stopped); marked down`);
  process.stdout.write(`Killed ${node.name} (pid ${node.pid}) with SIGKILL\n`);
}
