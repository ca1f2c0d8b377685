import { Command, Option } from 'commander';
import { addAgentOptions, requestJson, tokenOf, type AgentFlags } from './cluster/api.js';
import { CommandFailure, failing } from './cluster/failure.js';
import { parseDuration } from './parse.js';
import { terminalText } from './terminal-text.js';

interface ReachabilityFlags extends AgentFlags {
  timeout?: number;
  verbose?: boolean;
  json?: boolean;
}

interface Silent {
  name: string;
  address: string;
  port: number;
  status: string;
}

interface Reachability {
  members: number;
  acks: string[];
  silent: Silent[];
  unexpected: string[];
  elapsedMs: number;
}

/** What a member's silence suggests, by the status this agent gives it. */
const SILENCE_MEANS: Record<string, string> = {
  alive:
    'listed alive, so probes reach it, yet its ack did not come back: UDP from it to this agent may be blocked (a firewall, NAT, a wrong --advertise), or its process is stalled',
  suspect: 'already suspected: it answers probes no better — down, paused, overloaded or cut off from part of the cluster',
  failed: 'declared failed: down or unreachable for a while (hearsay force-leave NODE if it is gone for good)',
};

const TIPS = `Things to check:
  * every member reaches every other on its gossip address and port, UDP and TCP alike
  * an --advertise address routes to the address the member binds
  * no member sits behind NAT, and firewalls let the gossip port through both ways
  * the members share the encryption keys (hearsay keys --list)`;

function isReachability(value: unknown): value is Reachability {
  const v = value as Reachability;
  return typeof v === 'object' && v !== null && Array.isArray(v.acks) && Array.isArray(v.silent) && Array.isArray(v.unexpected);
}

/** `hearsay reachability`: Serf's `serf reachability`, a `_serf_ping` query to every member with acks requested; exit 1 when one did not ack. */
export function reachabilityCommand(): Command {
  return addAgentOptions(new Command('reachability'))
    .description('test that every member answers this agent: a _serf_ping query with acks, as serf reachability (exit 1 when one does not)')
    .addOption(
      new Option('--timeout <duration>', 'how long to wait for acks (default: the agent’s query timeout, gossip interval × 16 × ceil(log10(n+1)))').argParser(
        parseDuration,
      ),
    )
    .option('--verbose', 'also list each ack and the time taken')
    .option('--json', 'print the API’s JSON answer')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (flags: ReachabilityFlags) => {
        if (!flags.json) process.stdout.write('Starting reachability test...\n');
        const answer = await requestJson(flags.http, '/v1/reachability', {
          method: 'POST',
          body: flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {},
          timeoutMs: (flags.timeout ?? 60_000) + 5_000,
          ...tokenOf(flags),
        });
        if (!isReachability(answer))
          throw new CommandFailure(`the agent at ${flags.http} answered POST /v1/reachability with something that is not a reachability result`);
        const complete = answer.silent.length === 0 && answer.unexpected.length === 0;
        if (!complete) process.exitCode = 1;
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(answer)}\n`);
          return;
        }
        // Members choose their names: shown escaped.
        const lines: string[] = [];
        if (flags.verbose) {
          for (const from of answer.acks) lines.push(`\tAck from '${terminalText(from)}'`);
          lines.push(`Query time: ${(answer.elapsedMs / 1000).toFixed(2)} s`);
        }
        lines.push(`Members expected to answer: ${answer.members}, acks: ${answer.acks.length}`);
        if (answer.silent.length === 0) lines.push('Every member acknowledged.');
        else {
          lines.push('No ack from:');
          for (const m of answer.silent) {
            lines.push(
              `\t${terminalText(m.name)} (${terminalText(`${m.address}:${m.port}`)}, ${terminalText(m.status)}): ${SILENCE_MEANS[m.status] ?? 'no ack'}`,
            );
          }
        }
        if (answer.unexpected.length > 0) {
          lines.push(`Acks from names this agent does not list, or lists as left: ${answer.unexpected.map((name) => terminalText(name)).join(', ')}`);
          lines.push('Its view of the membership lags the cluster’s (lost gossip, a one-way network problem), or two members share a name.');
        }
        if (!complete) lines.push(TIPS);
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}
