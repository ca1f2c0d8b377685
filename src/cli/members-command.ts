import { Command, Option } from 'commander';
import { fetchMembers, parseHttpAddress } from './cluster/api.js';
import { failing } from './cluster/failure.js';
import { membersTable } from './cluster/render.js';

/** `hearsay members`: one agent's view of the membership, as a table or as the API's JSON. */
export function membersCommand(): Command {
  return new Command('members')
    .description("one agent's view of the membership (GET /v1/members), as a table or JSON")
    .addOption(new Option('--http <host:port>', 'the agent’s HTTP API').argParser(parseHttpAddress).default('http://127.0.0.1:17946', '127.0.0.1:17946'))
    .option('--http-token <token>', 'the agent’s --http-token (default: $HEARSAY_HTTP_TOKEN)')
    .option('--json', 'print the members as the API gives them (one JSON array)')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (flags: { http: string; httpToken?: string; json?: boolean }) => {
        if (flags.httpToken) process.env.HEARSAY_HTTP_TOKEN = flags.httpToken;
        const members = await fetchMembers(flags.http);
        process.stdout.write(flags.json ? `${JSON.stringify(members)}\n` : `${membersTable(members)}\n`);
      }),
    );
}
