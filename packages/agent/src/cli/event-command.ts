import { Command } from 'commander';
import { addAgentOptions, requestJson, tokenOf, type AgentFlags } from './cluster/api.js';
import { failing } from './cluster/failure.js';
import { terminalText } from './terminal-text.js';

/** `hearsay event`: Serf's `serf event`, a user event broadcast to every member through an agent. */
export function eventCommand(): Command {
  return addAgentOptions(new Command('event'))
    .description('broadcast a user event to every member through an agent, as `serf event` does (Serf agents get it too)')
    .argument('<name>', 'event name')
    .argument('[payload]', 'payload text', '')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (name: string, payload: string, flags: AgentFlags) => {
        await requestJson(flags.http, '/v1/event', { method: 'POST', body: { name, payload }, ...tokenOf(flags) });
        process.stdout.write(`Event '${terminalText(name)}' dispatched (${Buffer.byteLength(payload)} bytes)\n`);
      }),
    );
}
