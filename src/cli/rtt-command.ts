import { Command, Option } from 'commander';
import { parseHttpAddress, requestJson } from './cluster/api.js';
import { CommandFailure, failing } from './cluster/failure.js';

/** `hearsay rtt`: Serf's `serf rtt`, a round trip estimated from network coordinates, through an agent. */
export function rttCommand(): Command {
  return new Command('rtt')
    .description('estimate the round trip between two members from their network coordinates, as `serf rtt` does')
    .argument('<node>', 'a member')
    .argument('[other]', 'another member (default: the agent itself)')
    .addOption(new Option('--http <host:port>', 'the agent’s HTTP API').argParser(parseHttpAddress).default('http://127.0.0.1:17946', '127.0.0.1:17946'))
    .option('--http-token <token>', 'the agent’s --http-token (default: $HEARSAY_HTTP_TOKEN)')
    .option('--json', 'print the API’s JSON answer')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (node: string, other: string | undefined, flags: { http: string; httpToken?: string; json?: boolean }) => {
        const query = new URLSearchParams({ a: node, ...(other ? { b: other } : {}) });
        const answer = (await requestJson(flags.http, `/v1/rtt?${query}`, flags.httpToken ? { token: flags.httpToken } : {})) as { a?: unknown; b?: unknown; rttMs?: unknown };
        if (typeof answer.rttMs !== 'number') throw new CommandFailure(`the agent at ${flags.http} answered GET /v1/rtt with something that is not an estimate`);
        process.stdout.write(flags.json ? `${JSON.stringify(answer)}\n` : `Estimated ${String(answer.a)} <-> ${String(answer.b)} rtt: ${answer.rttMs.toFixed(3)} ms\n`);
      }),
    );
}
