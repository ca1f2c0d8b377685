import { Command } from 'commander';
import { addAgentOptions, getJson, type AgentFlags } from './cluster/api.js';
import { CommandFailure, failing } from './cluster/failure.js';
import { terminalLines } from './terminal-text.js';
import { type MemberHistory, whyText } from './verdict-text.js';

function isHistory(value: unknown): value is MemberHistory {
  const v = value as MemberHistory;
  return typeof v === 'object' && v !== null && typeof v.member === 'string' && typeof v.node === 'string' && Array.isArray(v.history);
}

/**
 * `hearsay why NODE`: why the agent holds a member suspect, failed or left (or held it so): its
 * verdicts about it, each with the evidence (its own probe: direct ping, each helper's answer,
 * the TCP ping; or whose rumour), the confirmations and how it ended (GET /v1/members/NAME/history).
 */
export function whyCommand(): Command {
  return addAgentOptions(new Command('why'))
    .description('why the agent suspected, declared failed or saw a member leave: its verdicts with their evidence, newest last')
    .argument('<node>', 'the member’s name')
    .option('--json', 'print the API’s JSON answer (the verdict records, times as epoch milliseconds and ISO 8601)')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (name: string, flags: AgentFlags & { json?: boolean }) => {
        // An unknown member is the agent's 404: exit 1 with its message, as `hearsay force-leave`; a name too long its 400, exit 2.
        const path = `/v1/members/${encodeURIComponent(name)}/history`;
        const answer = await getJson(flags.http, path, undefined, flags.httpToken);
        if (!isHistory(answer)) throw new CommandFailure(`the agent at ${flags.http} answered GET ${path} with something that is not a member's history`);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(answer)}\n`);
          return;
        }
        // Names, reasons and the TCP ping's error come from the network: shown escaped.
        process.stdout.write(terminalLines(whyText(answer)));
      }),
    );
}
