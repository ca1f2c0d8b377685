import { Command, InvalidArgumentError, Option } from 'commander';
import { addAgentOptions, requestJson, tokenOf, type AgentFlags } from './cluster/api.js';
import { CommandFailure, failing } from './cluster/failure.js';
import { collect, parseCount, parseDuration } from './parse.js';
import { terminalText } from './terminal-text.js';

interface QueryFlags extends AgentFlags {
  timeout?: number;
  node?: string[];
  tag?: [string, string][];
  ack: boolean;
  relayFactor?: number;
  json?: boolean;
}

interface QueryAnswer {
  acks: string[];
  responses: { from: string; payload: string; payloadBase64: string }[];
}

function parseTagFilter(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${text}" is not a tag filter: use key=regexp, like role=^web`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

function isAnswer(value: unknown): value is QueryAnswer {
  const v = value as QueryAnswer;
  return typeof v === 'object' && v !== null && Array.isArray(v.acks) && Array.isArray(v.responses);
}

/** `hearsay query`: Serf's `serf query` through an agent's HTTP API. */
export function queryCommand(): Command {
  return addAgentOptions(new Command('query'))
    .description('ask the cluster through an agent (a Serf query): prints the acks and answers that came back in time')
    .argument('<name>', 'query name (members answer from their query handlers)')
    .argument('[payload]', 'payload text', '')
    .addOption(
      new Option('--timeout <duration>', 'how long to collect answers (default: the agent’s, gossip interval × 16 × ceil(log10(n+1)))').argParser(
        parseDuration,
      ),
    )
    .addOption(new Option('--node <name>', 'only this member answers (repeatable)').argParser(collect(String)))
    .addOption(new Option('--tag <key=regexp>', 'only members whose tag matches answer (repeatable)').argParser(collect(parseTagFilter)))
    .option('--no-ack', 'do not ask members to acknowledge')
    .addOption(new Option('--relay-factor <n>', 'members also relay each answer through n others (0 … 5)').argParser(parseCount))
    .option('--json', 'print the API’s JSON answer')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (name: string, payload: string, flags: QueryFlags) => {
        const body = {
          name,
          payload,
          requestAck: flags.ack,
          ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
          ...(flags.node ? { nodes: flags.node } : {}),
          ...(flags.tag ? { tags: Object.fromEntries(flags.tag) } : {}),
          ...(flags.relayFactor !== undefined ? { relayFactor: flags.relayFactor } : {}),
        };
        // The agent answers when the query's own timeout has run out: wait that long and more.
        const answer = await requestJson(flags.http, '/v1/query', {
          method: 'POST',
          body,
          timeoutMs: (flags.timeout ?? 60_000) + 5_000,
          ...tokenOf(flags),
        });
        if (!isAnswer(answer)) throw new CommandFailure(`the agent at ${flags.http} answered POST /v1/query with something that is not a query result`);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(answer)}\n`);
          return;
        }
        // Members choose their names and answers: shown escaped.
        const lines = [`Query '${terminalText(name)}' dispatched`];
        for (const from of answer.acks) lines.push(`Ack from '${terminalText(String(from))}'`);
        for (const response of answer.responses)
          lines.push(`Response from '${terminalText(String(response.from))}': ${terminalText(String(response.payload))}`);
        if (flags.ack) lines.push(`Total Acks: ${answer.acks.length}`);
        lines.push(`Total Responses: ${answer.responses.length}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}
