import { Command } from 'commander';
import { addAgentOptions, requestJson, tokenOf, type AgentFlags } from './cluster/api.js';
import { CommandFailure, failing } from './cluster/failure.js';
import { terminalText } from './terminal-text.js';

interface KeysFlags extends AgentFlags {
  list?: boolean;
  install?: string;
  use?: string;
  remove?: string;
  json?: boolean;
}

interface KeyResult {
  ok: boolean;
  nodes: number;
  responses: number;
  errors: Record<string, string>;
  keys: Record<string, number>;
  primaryKeys: Record<string, number>;
}

function isKeyResult(value: unknown): value is KeyResult {
  const v = value as KeyResult;
  return typeof v === 'object' && v !== null && typeof v.ok === 'boolean' && typeof v.nodes === 'number' && typeof v.errors === 'object';
}

/** `hearsay keys`: Serf's `serf keys` (cluster-wide keyring management) through an agent. */
export function keysCommand(): Command {
  return addAgentOptions(new Command('keys'))
    .description('manage the encryption keyring of every member through an agent, as `serf keys` does (Serf agents take part)')
    .option('--list', 'list every key in the cluster, with how many members hold it and use it as primary')
    .option('--install <key>', 'install a key on every member (it decrypts; it does not encrypt yet)')
    .option('--use <key>', 'make an installed key the primary on every member')
    .option('--remove <key>', 'remove a key from every member (not the primary)')
    .option('--json', 'print the API’s JSON answer')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (flags: KeysFlags, command: Command) => {
        const chosen = (['list', 'install', 'use', 'remove'] as const).filter((action) => flags[action] !== undefined);
        if (chosen.length !== 1) command.error('give exactly one of --list, --install <key>, --use <key>, --remove <key>', { exitCode: 2 });
        const action = chosen[0]!;
        const options = { timeoutMs: 60_000, ...tokenOf(flags) };
        const result =
          action === 'list'
            ? await requestJson(flags.http, '/v1/keys', options)
            : await requestJson(flags.http, `/v1/keys/${action}`, { ...options, method: 'POST', body: { key: flags[action] } });
        if (!isKeyResult(result)) throw new CommandFailure(`the agent at ${flags.http} answered with something that is not a key operation result`);
        if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else process.stdout.write(describe(action, result));
        if (!result.ok) {
          throw new CommandFailure(`${result.responses - Object.keys(result.errors).length}/${result.nodes} members reported success`);
        }
      }),
    );
}

function describe(action: string, result: KeyResult): string {
  const lines: string[] = [];
  // Members name themselves and word their errors: shown escaped.
  for (const [member, error] of Object.entries(result.errors)) lines.push(`${terminalText(member)}: ${terminalText(String(error))}`);
  if (action === 'list') {
    for (const [key, count] of Object.entries(result.keys)) {
      const primary = result.primaryKeys[key] ?? 0;
      lines.push(`${terminalText(key)}  [${count}/${result.nodes}]${primary > 0 ? `  primary on ${primary}` : ''}`);
    }
  } else if (result.ok) {
    lines.push(
      `${action === 'install' ? 'Installed the key' : action === 'use' ? 'Changed the primary key' : 'Removed the key'} on all ${result.nodes} members`,
    );
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
