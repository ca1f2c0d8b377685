import { Command } from 'commander';
import { addAgentOptions, fetchMembers, type AgentFlags } from './cluster/api.js';
import { failing } from './cluster/failure.js';
import { membersTable } from './cluster/render.js';

/** `hearsay members`: one agent's view of the membership, as a table or as the API's JSON. */
export function membersCommand(): Command {
  return addAgentOptions(new Command('members').description("one agent's view of the membership (GET /v1/members), as a table or JSON"))
    .option('--json', 'print the members as the API gives them (one JSON array)')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (flags: AgentFlags & { json?: boolean }) => {
        const members = await fetchMembers(flags.http, undefined, flags.httpToken);
        process.stdout.write(flags.json ? `${JSON.stringify(members)}\n` : `${membersTable(members)}\n`);
      }),
    );
}
