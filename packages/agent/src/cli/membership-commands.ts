import { Command } from 'commander';
import { addAgentOptions, requestJson, tokenOf, type AgentFlags } from './cluster/api.js';
import { CommandFailure, failing } from './cluster/failure.js';

/** A join may wait for each seed's TCP timeout (10 s on the lan profile) and DNS lookups. */
const JOIN_TIMEOUT_MS = 30_000;

/** `hearsay join`: Serf's `serf join`, the agent joins through more seeds. */
export function joinCommand(): Command {
  return addAgentOptions(new Command('join'))
    .description('tell an agent to join through these seeds, as `serf join` does')
    .argument('<address...>', 'seeds: host:port (an IP or a DNS name) or dns+srv:NAME')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (addrs: string[], flags: AgentFlags) => {
        const answer = (await requestJson(flags.http, '/v1/join', { method: 'POST', body: { addrs }, timeoutMs: JOIN_TIMEOUT_MS, ...tokenOf(flags) })) as {
          joined?: unknown;
        };
        if (typeof answer.joined !== 'number') throw new CommandFailure(`the agent at ${flags.http} answered POST /v1/join with something that is not a count`);
        process.stdout.write(`Successfully joined cluster by contacting ${answer.joined} nodes.\n`);
      }),
    );
}

/** `hearsay leave`: Serf's `serf leave`, the agent leaves the cluster gracefully and stops. */
export function leaveCommand(): Command {
  return addAgentOptions(new Command('leave'))
    .description('tell an agent to leave the cluster gracefully and stop, as `serf leave` does')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (flags: AgentFlags) => {
        await requestJson(flags.http, '/v1/leave', { method: 'POST', ...tokenOf(flags) });
        process.stdout.write('Leaving gracefully: the agent stops once its leave has gone out\n');
      }),
    );
}
