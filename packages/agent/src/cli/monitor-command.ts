import { Command, Option } from 'commander';
import { MONITOR_LEVELS } from '../agent/monitor-levels.js';
import { addAgentOptions, AgentUnreachable, reason, refusal, type AgentFlags } from './cluster/api.js';
import { CommandFailure, failing } from './cluster/failure.js';
import { terminalText } from './terminal-text.js';

interface MonitorFlags extends AgentFlags {
  logLevel: string;
  json?: boolean;
}

/** pino's level numbers, as the agent's JSON lines carry them. */
const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One JSON log record as a line to read: `time [LEVEL] message key=value …`. Whatever it quotes is escaped. */
function logLine(record: Record<string, unknown>): string {
  const { time, level, msg, ...fields } = record;
  const when = typeof time === 'number' ? new Date(time).toISOString() : String(time ?? '');
  const rest = Object.entries(fields).map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return terminalText([when, `[${LEVEL_NAMES[level as number] ?? String(level)}]`, String(msg ?? ''), ...rest].join(' '));
}

/** `hearsay monitor`: Serf's `serf monitor`, the agent's log lines as it writes them, until Ctrl-C (exit 0) or the agent stops (exit 1). */
export function monitorCommand(): Command {
  return addAgentOptions(new Command('monitor'))
    .description('follow an agent’s log as it is written (GET /v1/monitor), at a level of its own: the agent logs more while you watch, as serf monitor')
    .addOption(new Option('--log-level <level>', 'the least severe lines to show').choices(MONITOR_LEVELS).default('info'))
    .option('--json', 'print each line as the JSON record the agent logged')
    .showHelpAfterError('(run with --help for usage)')
    .action(
      failing(async (flags: MonitorFlags) => {
        const token = flags.httpToken ?? process.env.HEARSAY_HTTP_TOKEN;
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        let response: Response;
        try {
          response = await fetch(`${flags.http}/v1/monitor?level=${flags.logLevel}`, {
            headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
            signal: stop.signal,
          });
        } catch (error) {
          if (stop.signal.aborted) return;
          throw new AgentUnreachable(flags.http, reason(error));
        }
        if (!response.ok || !response.body) {
          throw refusal(flags.http, 'GET', '/v1/monitor', response.status, await response.text().catch(() => ''));
        }
        const decoder = new TextDecoder();
        let pending = '';
        try {
          for await (const chunk of response.body) {
            pending += decoder.decode(chunk, { stream: true });
            let end = pending.indexOf('\n\n');
            while (end >= 0) {
              const frame = pending.slice(0, end);
              pending = pending.slice(end + 2);
              end = pending.indexOf('\n\n');
              const data = frame.split('\n').find((line) => line.startsWith('data: '));
              if (data === undefined) continue;
              const json = data.slice('data: '.length);
              process.stdout.write(`${flags.json ? json : logLine(JSON.parse(json) as Record<string, unknown>)}\n`);
            }
          }
        } catch (error) {
          if (!stop.signal.aborted) throw error;
        }
        // Ctrl-C is how a monitor is meant to end; the stream ending by itself means the agent went away.
        if (!stop.signal.aborted) throw new CommandFailure(`the agent at ${flags.http} ended the monitor: it stopped (or crashed)`);
      }),
    );
}
