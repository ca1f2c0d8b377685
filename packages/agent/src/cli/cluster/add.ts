import { Command, Option } from 'commander';
import { parseDuration } from '../parse.js';
import { CommandFailure, failing } from './failure.js';
import { launchNode, startFailure, stopStarted, waitReady } from './launch.js';
import { nextFreePort } from './ports.js';
import { findNode, hearsayHome, HOST, HTTP_OFFSET, nextNodeName, type NodeRecord, requireState, writeState } from './state.js';
import { isLive } from './views.js';

export function addCommand(): Command {
  return new Command('add')
    .description('start one more agent (next free name and port), joining through a random live node')
    .option('--peer <name>', 'join through this node instead of a random live one')
    .addOption(new Option('--wait <duration>', 'how long to wait for the agent to answer').argParser(parseDuration).default(20_000, '20s'))
    .action(failing((flags: { peer?: string; wait: number }) => add(flags)));
}

async function add(flags: { peer?: string; wait: number }): Promise<void> {
  const home = hearsayHome();
  const state = requireState(home);
  const live = state.nodes.filter(isLive);
  let peer: NodeRecord;
  if (flags.peer !== undefined) {
    peer = findNode(state, flags.peer);
    if (!live.includes(peer)) {
      throw new CommandFailure(`${peer.name} is down: join through a live node (${live.map((n) => n.name).join(', ') || 'none is live'})`);
    }
  } else {
    if (live.length === 0) throw new CommandFailure(`no node of the cluster recorded in ${home} is running: nothing to join through`);
    peer = live[Math.floor(Math.random() * live.length)]!;
  }

  const name = nextNodeName(state);
  const taken = new Set(state.nodes.flatMap((n) => [n.port, n.port + HTTP_OFFSET]));
  const port = await nextFreePort(Math.max(state.base_port - 1, ...state.nodes.map((n) => n.port)) + 1, taken);
  const launched = launchNode(home, name, port, [`${HOST}:${peer.port}`], state.agent_flags, peer.name);
  state.nodes.push(launched.record);
  writeState(home, state);

  const failure = await waitReady([launched], Date.now() + flags.wait);
  if (failure) {
    await stopStarted([launched]);
    state.nodes = state.nodes.filter((n) => n !== launched.record);
    writeState(home, state);
    throw new CommandFailure(`${startFailure(failure.node, failure.why)}\nstopped it; the cluster is as it was`);
  }
  process.stdout.write(`Added ${name} at ${HOST}:${port} (HTTP ${launched.record.http}), joined through ${peer.name}\n`);
}
