import { type Command, Option } from 'commander';
import { agentCommand } from '../agent-command.js';

/**
 * The flags `cluster up` decides for each agent itself; every other flag of `hearsay agent`
 * (`--profile`, every timing override such as `--probe-interval 500ms`, `--tag k=v`,
 * `--log-level`, `--encrypt`, …) is taken by `cluster up` and passed to every agent as given.
 * `--http-token` is left out too: the cluster commands talk to the agents without a token.
 */
const DECIDED_HERE = new Set([
  '--name',
  '--bind',
  '--advertise',
  '--join',
  // How agents find each other is the cluster's to decide: every one joins through a live one.
  '--retry-join',
  '--retry-interval',
  '--retry-max',
  '--discover',
  '--discover-interface',
  '--dns-server',
  // One file per agent: a snapshot or a data directory shared by all would mix their states.
  '--snapshot',
  '--rejoin',
  '--rejoin-after-leave',
  '--data-dir',
  '--http',
  '--http-token',
  '--config',
]);

/** Long flag (`--probe-interval`) of each pass-through option, by commander attribute name. */
const passThrough = new Map<string, { long: string; takesValue: boolean }>();

/**
 * Adds `hearsay agent`'s own options (copied from its command, so the two never drift apart) to
 * a command. Values are checked with the agent's parsers and choices, so a typo is a usage error
 * here rather than N agents failing to start, but kept as typed (`500ms`, not 500), in order,
 * every occurrence.
 */
export function addAgentFlags(command: Command): Command {
  for (const option of agentCommand().options) {
    if (!option.long || DECIDED_HERE.has(option.long)) continue;
    const copy = new Option(option.flags, option.description).helpGroup('Agent options (passed to every agent):');
    if (option.argChoices) copy.choices(option.argChoices);
    const takesValue = option.required || option.optional;
    if (takesValue) {
      const check = option.parseArg;
      copy.argParser((text: string, previous: string[] | undefined) => {
        check?.(text, undefined);
        return [...(previous ?? []), text];
      });
    }
    command.addOption(copy);
    passThrough.set(copy.attributeName(), { long: option.long, takesValue });
  }
  return command;
}

/** The pass-through flags given on the command line, as agent arguments. */
export function agentFlagsFrom(command: Command): string[] {
  const flags: string[] = [];
  for (const [attribute, { long, takesValue }] of passThrough) {
    if (command.getOptionValueSource(attribute) !== 'cli') continue;
    const value = command.getOptionValue(attribute) as unknown;
    if (!takesValue) {
      if (value === true) flags.push(long);
    } else {
      for (const item of value as string[]) flags.push(long, item);
    }
  }
  return flags;
}
