import { Command, InvalidArgumentError, Option } from 'commander';
import { addAgentOptions, requestJson, tokenOf, type AgentFlags } from './cluster/api.js';
import { CommandFailure, failing } from './cluster/failure.js';
import { collect } from './parse.js';

interface TagsFlags extends AgentFlags {
  set?: [string, string][];
  delete?: string[];
}

function parseSet(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${text}" is not a tag: use key=value, like role=web`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** `hearsay tags`: Serf's `serf tags`, changes an agent's tags while it runs; the cluster (Serf agents included) sees them. */
export function tagsCommand(): Command {
  return addAgentOptions(new Command('tags'))
    .description("change a running agent's tags, as `serf tags` does (kept in its --tags-file if it has one)")
    .addOption(new Option('--set <key=value>', 'set a tag (repeatable)').argParser(collect(parseSet)))
    .addOption(new Option('--delete <key>', 'delete a tag (repeatable)').argParser(collect(String)))
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (flags: TagsFlags, command: Command) => {
        const set = flags.set ?? [];
        const deleted = flags.delete ?? [];
        if (set.length === 0 && deleted.length === 0) command.error('give at least one --set key=value or --delete key', { exitCode: 2 });
        const options = tokenOf(flags);
        // Every key to delete is checked first, so that a mistyped one changes nothing.
        const { tags } = (await requestJson(flags.http, '/v1/tags', options)) as { tags: Record<string, string> };
        const missing = deleted.filter((key) => !Object.hasOwn(tags, key) && !set.some(([setKey]) => setKey === key));
        if (missing.length > 0) throw new CommandFailure(`the agent at ${flags.http} has no tag ${missing.join(', ')}: nothing changed`);
        if (set.length > 0) await requestJson(flags.http, '/v1/tags', { ...options, method: 'PUT', body: { tags: Object.fromEntries(set) } });
        for (const key of deleted) await requestJson(flags.http, `/v1/tags/${encodeURIComponent(key)}`, { ...options, method: 'DELETE' });
        process.stdout.write('Successfully updated agent tags\n');
      }),
    );
}
