import { Command } from 'commander';
import { addAgentOptions, requestJson, tokenOf, type AgentFlags } from './cluster/api.js';
import { failing } from './cluster/failure.js';

interface ForceLeaveFlags extends AgentFlags {
  prune?: boolean;
}

/** `hearsay force-leave`: Serf's `serf force-leave`, a failed member is made `left` across the cluster (Serf agents included). */
export function forceLeaveCommand(): Command {
  return addAgentOptions(new Command('force-leave'))
    .description('make a failed member `left` across the cluster through an agent, as `serf force-leave` does')
    .argument('<node>', 'the failed member’s name')
    .option('--prune', 'remove it from the member lists at once, rather than keeping it as left until reaped')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (name: string, flags: ForceLeaveFlags) => {
        // Silent on success, as `serf force-leave`; an unknown member (404) or a live one (409) exits 1 with the agent's message.
        await requestJson(flags.http, '/v1/force-leave', { method: 'POST', body: { node: name, prune: flags.prune === true }, ...tokenOf(flags) });
      }),
    );
}
