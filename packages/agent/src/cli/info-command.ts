import { Command } from 'commander';
import { addAgentOptions, getJson, type AgentFlags } from './cluster/api.js';
import { CommandFailure, failing } from './cluster/failure.js';
import { terminalText } from './terminal-text.js';

/** `key = value` lines of one section, nested objects as dotted keys, in the order the agent gave them. */
function sectionLines(value: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, field]) => {
    const name = `${prefix}${key}`;
    if (typeof field === 'object' && field !== null && !Array.isArray(field)) return sectionLines(field as Record<string, unknown>, `${name}.`);
    const text = Array.isArray(field) ? field.join(', ') : String(field);
    // The node's name and tags are chosen by whoever started it: shown escaped.
    return [`\t${terminalText(name)} = ${terminalText(text)}`];
  });
}

/** `hearsay info`: Serf's `serf info`, the agent's sections as `key = value` lines (or the API's JSON). */
export function infoCommand(): Command {
  return addAgentOptions(new Command('info'))
    .description('what an agent knows about itself (GET /v1/info): agent, runtime, protocol, encryption, counts, health, versions, tags — as serf info')
    .option('--json', 'print the API’s JSON answer')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (flags: AgentFlags & { json?: boolean }) => {
        const info = await getJson(flags.http, '/v1/info', undefined, flags.httpToken);
        if (typeof info !== 'object' || info === null || Array.isArray(info)) {
          throw new CommandFailure(`the agent at ${flags.http} answered GET /v1/info with something that is not an object`);
        }
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(info)}\n`);
          return;
        }
        const lines = Object.entries(info as Record<string, unknown>).flatMap(([section, fields]) => [
          `${terminalText(section)}:`,
          ...(typeof fields === 'object' && fields !== null ? sectionLines(fields as Record<string, unknown>) : [`\t${terminalText(String(fields))}`]),
        ]);
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}
