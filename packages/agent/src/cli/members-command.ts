import { Command, InvalidArgumentError, Option } from 'commander';
import { ApiError } from '../agent/api-error.js';
import { anchoredPattern, parseStatuses, parseTagFilter } from '../agent/member-filters.js';
import { addAgentOptions, getJson, type AgentFlags, type Member } from './cluster/api.js';
import { CommandFailure, failing } from './cluster/failure.js';
import { defaultColors, type ExtraColumns, membersTable } from './cluster/render.js';
import { collect } from './parse.js';
import { terminalText } from './terminal-text.js';

interface MembersFlags extends AgentFlags {
  json?: boolean;
  status?: string[];
  name?: string;
  tag?: string[];
  detailed?: boolean;
}

/** A version range as the API gives it with each member. */
interface VersionRange {
  min: number;
  max: number;
  current: number;
}

/** A filter flag checked here as the agent checks it, so that a bad one is a usage error (exit 2) even before any agent is asked. */
function checked<T>(check: (text: string) => T): (text: string) => string {
  return (text) => {
    try {
      check(text);
    } catch (error) {
      if (error instanceof ApiError) throw new InvalidArgumentError(error.message);
      throw error;
    }
    return text;
  };
}

/** GET /v1/members with the filters as query parameters. */
function membersPath(flags: MembersFlags): string {
  const query = new URLSearchParams();
  if (flags.status) query.set('status', flags.status.join(','));
  if (flags.name !== undefined) query.set('name', flags.name);
  for (const tag of flags.tag ?? []) query.append('tag', tag);
  const text = query.toString();
  return text ? `/v1/members?${text}` : '/v1/members';
}

/** `3 [1, 5]`: the version in use and the range spoken, as `serf members -detailed` shows them; `-` from an agent that does not say. */
function versionText(range: VersionRange | undefined): string {
  return range ? `${range.current} [${range.min}, ${range.max}]` : '-';
}

/** `serf members -detailed`'s version columns, after hearsay's own. */
const versionColumns: ExtraColumns = {
  head: ['Protocol', 'Serf protocol'],
  cells: (m) => {
    const versions = (m as { versions?: { protocol?: VersionRange; delegate?: VersionRange } }).versions;
    return [terminalText(versionText(versions?.protocol)), terminalText(versionText(versions?.delegate))];
  },
};

/** `hearsay members`: one agent's view of the membership, filtered as `serf members` filters it, as a table or as the API's JSON. */
export function membersCommand(): Command {
  return addAgentOptions(new Command('members').description("one agent's view of the membership (GET /v1/members), as a table or JSON"))
    .addOption(
      new Option('--status <list>', 'only members with one of these statuses: alive, suspect, failed, left (comma list; repeatable)').argParser(
        collect(checked((text) => parseStatuses([text]))),
      ),
    )
    .addOption(
      new Option('--name <regexp>', 'only members whose whole name matches (RE2 syntax, as Serf’s -name)').argParser(
        checked((text) => anchoredPattern(text, 'the name filter')),
      ),
    )
    .addOption(
      new Option('--tag <key=regexp>', 'only members whose tag key matches as a whole (RE2; a missing tag is empty text; repeatable)').argParser(
        collect(checked(parseTagFilter)),
      ),
    )
    .option('--detailed', 'also show the protocol versions each member speaks (memberlist’s and Serf’s), as serf members -detailed')
    .option('--json', 'print the members as the API gives them (one JSON array)')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (flags: MembersFlags) => {
        const members = await getJson(flags.http, membersPath(flags), undefined, flags.httpToken);
        if (!Array.isArray(members) || !members.every((m) => typeof m?.name === 'string' && typeof m?.status === 'string')) {
          throw new CommandFailure(`the agent at ${flags.http} answered GET /v1/members with something that is not a list of members`);
        }
        const list = members as Member[];
        process.stdout.write(
          flags.json ? `${JSON.stringify(list)}\n` : `${membersTable(list, defaultColors, Date.now(), flags.detailed ? versionColumns : undefined)}\n`,
        );
      }),
    );
}
