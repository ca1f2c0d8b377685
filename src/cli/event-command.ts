import { Command, Option } from 'commander';
import { parseHttpAddress, requestJson } from './cluster/api.js';
import { failing } from './cluster/failure.js';

/** `hearsay event`: Serf's `serf event`, a user event broadcast to every member through an agent. */
export function eventCommand(): Command {
  return new Command('event')
    .description('broadcast a user event to every member through an agent, as `serf event` does (Serf agents get it too)')
    .argument('<name>', 'event name')
    .argument('[payload]', 'payload text', '')
    .addOption(new Option('--http <host:port>', 'the agent’s HTTP API').argParser(parseHttpAddress).default('http://127.0.0.1:17946', '127.0.0.1:17946'))
    .option('--http-token <token>', 'the agent’s --http-token (default: $HEARSAY_HTTP_TOKEN)')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (name: string, payload: string, flags: { http: string; httpToken?: string }) => {
        await requestJson(flags.http, '/v1/event', { method: 'POST', body: { name, payload }, ...(flags.httpToken ? { token: flags.httpToken } : {}) });
        process.stdout.write(`Event '${name}' dispatched (${Buffer.byteLength(payload)} bytes)\n`);
      }),
    );
}
