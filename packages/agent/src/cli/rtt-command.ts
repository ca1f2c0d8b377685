import { Command } from 'commander';
import { addAgentOptions, requestJson, tokenOf, type AgentFlags } from './cluster/api.js';
import { CommandFailure, failing } from './cluster/failure.js';
import { terminalText } from './terminal-text.js';

/** `hearsay rtt`: Serf's `serf rtt`, a round trip estimated from network coordinates, through an agent. */
export function rttCommand(): Command {
  return addAgentOptions(new Command('rtt'))
    .description('estimate the round trip between two members from their network coordinates, as `serf rtt` does')
    .argument('<node>', 'a member')
    .argument('[other]', 'another member (default: the agent itself)')
    .option('--json', 'print the API’s JSON answer')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (node: string, other: string | undefined, flags: AgentFlags & { json?: boolean }) => {
        const query = new URLSearchParams({ a: node, ...(other ? { b: other } : {}) });
        const answer = (await requestJson(flags.http, `/v1/rtt?${query}`, tokenOf(flags))) as { a?: unknown; b?: unknown; rttMs?: unknown };
        if (typeof answer.rttMs !== 'number')
          throw new CommandFailure(`the agent at ${flags.http} answered GET /v1/rtt with something that is not an estimate`);
        const estimate = `Estimated ${terminalText(String(answer.a))} <-> ${terminalText(String(answer.b))} rtt: ${answer.rttMs.toFixed(3)} ms`;
        process.stdout.write(flags.json ? `${JSON.stringify(answer)}\n` : `${estimate}\n`);
      }),
    );
}
