import { Command, InvalidArgumentError, Option } from 'commander';
import type { AgentOptions } from '../agent/agent.js';
import { LOG_LEVELS, readConfigFile } from '../agent/config-file.js';
import { PROTOCOLS } from 'hearsay/core';
import { collect, parseCount, parseDuration, parsePositiveCount, parseProbability } from './parse.js';
import { addTimingOptions, timingOverrides } from './timing-options.js';

interface AgentFlags {
  name?: string;
  bind?: string;
  advertise?: string;
  join?: string[];
  retryJoin?: string[];
  retryInterval?: number;
  retryMax?: number;
  discover?: string;
  discoverInterface?: string;
  dnsServer?: string[];
  http?: string;
  httpToken?: string;
  httpAllowedHost?: string[];
  protocol?: string;
  pin?: string[];
  profile?: 'lan' | 'local' | 'wan';
  encrypt?: string;
  keyringFile?: string;
  tag?: [string, string][];
  tagsFile?: string;
  dropRate?: number;
  logLevel?: string;
  config?: string;
  queryHandler?: string[];
  queryHandlerConcurrency?: number;
  eventHandler?: string[];
  eventHandlerTimeout?: number;
  eventHandlerCoalesce?: number;
  snapshot?: string;
  rejoin?: boolean;
  rejoinAfterLeave?: boolean;
  dataDir?: string;
  eventWebhook?: string[];
  [key: string]: unknown;
}

function parseTag(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${text}" is not a tag: use key=value, like role=web`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

function parsePositiveDuration(text: string): number {
  const value = parseDuration(text);
  if (value <= 0) throw new InvalidArgumentError(`"${text}" must be more than 0, like 30s`);
  return value;
}

/** Flags given on the command line, over the config file's values (flags win). */
export function mergeOptions(file: AgentOptions, flags: AgentFlags): AgentOptions {
  const merged: AgentOptions = { ...file };
  for (const key of [
    'name',
    'bind',
    'advertise',
    'http',
    'httpToken',
    'protocol',
    'profile',
    'encrypt',
    'keyringFile',
    'tagsFile',
    'dropRate',
    'logLevel',
    'queryHandlerConcurrency',
    'snapshot',
    'rejoin',
    'rejoinAfterLeave',
    'dataDir',
  ] as const) {
    if (flags[key] !== undefined) (merged as Record<string, unknown>)[key] = flags[key];
  }
  if (flags.join) merged.join = flags.join;
  if (flags.retryJoin) merged.retryJoin = flags.retryJoin;
  if (flags.retryInterval !== undefined) merged.retryIntervalMs = flags.retryInterval;
  if (flags.retryMax !== undefined) merged.retryMax = flags.retryMax;
  if (flags.discover !== undefined) merged.discover = flags.discover;
  if (flags.discoverInterface !== undefined) merged.discoverInterface = flags.discoverInterface;
  if (flags.dnsServer) merged.dnsServers = flags.dnsServer;
  if (flags.pin) merged.pinned = flags.pin;
  if (flags.queryHandler) merged.queryHandlers = flags.queryHandler;
  if (flags.eventHandler) merged.eventHandlers = flags.eventHandler;
  if (flags.eventHandlerTimeout !== undefined) merged.eventHandlerTimeoutMs = flags.eventHandlerTimeout;
  if (flags.eventHandlerCoalesce !== undefined) merged.eventHandlerCoalesceMs = flags.eventHandlerCoalesce;
  if (flags.eventWebhook) merged.eventWebhooks = flags.eventWebhook;
  if (flags.httpAllowedHost) merged.httpAllowedHosts = flags.httpAllowedHost;
  if (flags.tag) merged.tags = { ...file.tags, ...Object.fromEntries(flags.tag) };
  merged.config = { ...file.config, ...timingOverrides(flags) };
  return merged;
}

export function agentCommand(): Command {
  const command = new Command('agent')
    .description('run one cluster member with an HTTP control API, until SIGTERM or SIGINT (which leave gracefully); SIGHUP reloads --config')
    .option('--name <name>', 'node name, unique in the cluster (default: the hostname)')
    .option('--bind <host:port>', 'gossip address, UDP and TCP (default 0.0.0.0:7946; port 0: any free one)')
    .option('--advertise <host:port>', 'address others should use to reach this node')
    .addOption(new Option('--join <host:port>', 'seed to join through (repeatable); retried with backoff until it answers').argParser(collect(String)))
    .addOption(
      new Option('--retry-join <host:port>', "seed to join through (repeatable), as Serf's -retry-join: tried every --retry-interval").argParser(
        collect(String),
      ),
    )
    .addOption(new Option('--retry-interval <duration>', 'time between two retry-join attempts (default 30s)').argParser(parsePositiveDuration))
    .addOption(new Option('--retry-max <n>', 'retry-join retries before the agent gives up and exits 1 (default 0: unlimited)').argParser(parseCount))
    .option('--discover <name>', "find and join peers by mDNS, as Serf's -discover NAME (service _serf_NAME._tcp.local)")
    .option('--discover-interface <iface>', "network interface for --discover, as Serf's -iface (default: every IPv4 interface)")
    .addOption(
      new Option('--dns-server <ip[:port]>', 'DNS server resolving seeds given by name, instead of the system resolver (repeatable)').argParser(
        collect(String),
      ),
    )
    .option('--http <host:port>', 'HTTP API address (default 127.0.0.1 on the gossip port + 10000; a host alone gets that port too)')
    .option('--http-token <token>', 'require Authorization: Bearer <token> (mandatory beyond loopback)')
    .addOption(
      new Option(
        '--http-allowed-host <name>',
        'a host name the HTTP API answers to besides localhost, 127.0.0.1, [::1] and its address (repeatable; against DNS rebinding)',
      ).argParser(collect(String)),
    )
    .addOption(new Option('--protocol <name>', 'failure detector to start with; PUT /v1/protocol switches the whole cluster later').choices(PROTOCOLS))
    .addOption(new Option('--pin <name>', 'member to monitor by direct heartbeats in heartbeat and hybrid modes (repeatable)').argParser(collect(String)))
    .addOption(new Option('--profile <name>', 'memberlist timing profile').choices(['lan', 'local', 'wan']))
    .option('--encrypt <base64key>', 'AES key (16, 24 or 32 bytes, base64; serf keygen makes one)')
    .option('--keyring-file <path>', 'JSON array of base64 keys, the primary first')
    .addOption(new Option('--tag <key=value>', 'tag in the node meta (repeatable)').argParser(collect(parseTag)))
    .option('--tags-file <path>', "Serf's -tags-file: JSON object of tags read at start, rewritten when tags change through the API (not with --tag)")
    .addOption(new Option('--drop-rate <p>', 'drop this fraction of incoming packets (experiments)').argParser(parseProbability))
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS))
    .addOption(
      new Option(
        '--query-handler <NAME=COMMAND>',
        'answer queries named NAME (* for any) with the output of a shell command; payload on stdin (repeatable; same as --event-handler query:NAME=COMMAND)',
      ).argParser(collect(String)),
    )
    .addOption(
      new Option(
        '--event-handler <[FILTER=]COMMAND>',
        "Serf's -event-handler: run COMMAND through /bin/sh for the events FILTER takes (member-join, member-leave, member-failed, " +
          'member-update, member-reap, user[:NAME], query[:NAME], comma-separated; default *), with SERF_* variables and Serf’s stdin (repeatable; docs/event-handlers.md)',
      ).argParser(collect(String)),
    )
    .addOption(
      new Option('--event-handler-timeout <duration>', 'kill a member or user event handler still running after this (default 60s)').argParser(
        parsePositiveDuration,
      ),
    )
    .addOption(
      new Option(
        '--event-handler-coalesce <duration>',
        'gather member events and coalescing user events this long before handlers run (default 200ms; 0: none)',
      ).argParser(parseDuration),
    )
    .addOption(
      new Option('--query-handler-concurrency <n>', 'handler commands running at once; more queries wait in a bounded queue (default 8)').argParser(
        parsePositiveCount,
      ),
    )
    .addOption(
      new Option('--event-webhook <url>', 'POST each event as JSON to this http(s) URL, retried with backoff (repeatable; docs/event-webhooks.md)').argParser(
        collect(String),
      ),
    )
    .option('--snapshot <path>', "file keeping membership and Lamport clocks across restarts, Serf's -snapshot format (mode 0600)")
    .option('--rejoin', 'at start, join through the members the snapshot saw alive (running alone if none answers)')
    .option('--rejoin-after-leave', "--rejoin, even after a graceful leave (Serf's -rejoin)")
    .option('--data-dir <dir>', 'state directory (created 0700) holding serf.snapshot and keyring.json, unless --snapshot or --keyring-file say otherwise')
    .option('--config <file.json>', 'options from a JSON file (flags win); SIGHUP re-reads its tags, logLevel and handlers')
    .addHelpText(
      'after',
      '\nUnder a supervisor (systemd, a container, a process manager), run the bin itself, node_modules/.bin/hearsay agent …,\n' +
        'not npx: npm exec starts it through /bin/sh, and a sh that does not pass SIGTERM on (dash, Debian’s) leaves the agent running after npx exits.',
    );
  addTimingOptions(command);
  command.action(async (flags: AgentFlags) => {
    // Loaded here, not at the top: the server stack is only needed to run an agent, and every
    // other command (sim, members, cluster) would otherwise pay for loading it.
    const [{ pino }, { startAgent }, { LogMonitor }] = await Promise.all([import('pino'), import('../agent/agent.js'), import('../agent/log-monitor.js')]);
    const options = mergeOptions(flags.config ? await readConfigFile(flags.config) : {}, flags);
    // The agent's logger, to stderr and tapped for GET /v1/monitor.
    const monitor = new LogMonitor(options.logLevel ?? 'info', pino.destination(2));
    const agent = await startAgent(options, monitor.logger, monitor);
    const { log } = agent;
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        log.warn({ signal }, 'second signal: exiting at once');
        process.exit(1);
      }
      signalled = true;
      log.info({ signal }, 'leaving gracefully (send the signal again to exit at once)');
      void agent.leave();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // As Serf's agent: SIGHUP re-reads the config file and applies its reloadable parts; a bad file changes nothing.
    process.on('SIGHUP', () => {
      void (async () => {
        try {
          agent.reload(mergeOptions(flags.config ? await readConfigFile(flags.config) : {}, flags));
        } catch (error) {
          log.error({ err: (error as Error).message }, 'configuration not reloaded: the agent keeps running as it was');
        }
      })();
    });
    await agent.stopped;
    log.flush();
    // The failure is logged already, as the agent's last words; the exit code says it to a supervisor.
    process.exit(agent.failure ? 1 : 0);
  });
  return command;
}
