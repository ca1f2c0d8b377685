import { Command, InvalidArgumentError, Option } from 'commander';
import { parseDuration, parsePositiveCount } from '../parse.js';
import { addAgentFlags, agentFlagsFrom } from './agent-flags.js';
import { CommandFailure, failing } from './failure.js';
import { launchNode, startFailure, stopStarted, waitReady, type Launched } from './launch.js';
import { checkPortRange, portsFor, requireFreePorts } from './ports.js';
import { agentRunning } from './spawn.js';
import { HOST, HTTP_OFFSET, hearsayHome, readState, removeState, writeState, type ClusterState } from './state.js';

export function parsePort(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1 || value > 65_535) {
    throw new InvalidArgumentError(`"${text}" is not a port: use a whole number from 1 to 65535`);
  }
  return value;
}

interface UpFlags {
  size: number;
  basePort: number;
  wait: number;
}

export function upCommand(): Command {
  const command = new Command('up')
    .description('start N agents on 127.0.0.1 as background processes (node-0 … node-{N−1}; node-0 is the seed)')
    .addOption(new Option('--size <n>', 'how many agents').argParser(parsePositiveCount).makeOptionMandatory())
    .addOption(new Option('--base-port <port>', 'gossip port of node-0; node-i uses base+i, its HTTP API base+i+10000').argParser(parsePort).default(7946))
    .addOption(new Option('--wait <duration>', 'how long to wait for every agent to answer').argParser(parseDuration).default(20_000, '20s'));
  addAgentFlags(command);
  command.action(failing(async (flags: UpFlags, self: Command) => up(flags, agentFlagsFrom(self))));
  return command;
}

async function up(flags: UpFlags, agentFlags: string[]): Promise<void> {
  const home = hearsayHome();
  const previous = readState(home);
  if (previous) {
    const running = previous.nodes.filter((node) => agentRunning(node.pid, node.name));
    if (running.length > 0) {
      throw new CommandFailure(
        `a cluster is already running (recorded in ${home}: ${running.map((n) => `${n.name} pid ${n.pid}`).join(', ')}): ` +
          'stop it with `hearsay cluster down` first, or use another HEARSAY_HOME',
      );
    }
    process.stderr.write(`hearsay: replacing the record of a stopped cluster in ${home}\n`);
    removeState(home, previous);
  }
  checkPortRange(flags.basePort, flags.size);
  const planned = Array.from({ length: flags.size }, (_, i) => ({ name: `node-${i}`, port: flags.basePort + i }));
  await requireFreePorts(portsFor(planned));

  const state: ClusterState = { version: 1, host: HOST, base_port: flags.basePort, agent_flags: agentFlags, nodes: [] };
  const started: Launched[] = [];
  const deadline = Date.now() + flags.wait;
  const fail = async (node: Launched, why: string): Promise<never> => {
    await stopStarted(started);
    removeState(home, state, true);
    throw new CommandFailure(`${startFailure(node, why)}\nstopped the ${started.length} agent(s) started; no cluster is recorded`);
  };
  const start = (name: string, port: number, seeds: string[]) => {
    const launched = launchNode(home, name, port, seeds, agentFlags);
    started.push(launched);
    state.nodes.push(launched.record);
    writeState(home, state); // recorded at once, so `cluster down` can stop it even if this command dies
    return launched;
  };

  // The seed first: the others join through it, so it must be listening.
  const [first, ...rest] = planned;
  const seed = start(first!.name, first!.port, []);
  const seedFailure = await waitReady([seed], deadline);
  if (seedFailure) return fail(seedFailure.node, seedFailure.why);
  const others = rest.map((node) => start(node.name, node.port, [`${HOST}:${first!.port}`]));
  const failure = await waitReady(others, deadline);
  if (failure) return fail(failure.node, failure.why);

  process.stdout.write(
    `Cluster of ${flags.size} node${flags.size === 1 ? '' : 's'} up on ${HOST}, ports ${flags.basePort}…${flags.basePort + flags.size - 1} ` +
      `(HTTP +10000); recorded in ${home}\n` +
      `Live view of ${first!.name}: http://${HOST}:${first!.port + HTTP_OFFSET}/ (any node's HTTP port serves one)\n`,
  );
}
