import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { resolveConfig, type Address, type ProfileName, type ProtocolConfig } from 'hearsay/core';
import { BindError, createNode, OptionError, type HearsayNode, type Protocol } from 'hearsay';
import { decodeKey, formatAddress, parseAddress, parseSeed } from 'hearsay/wire';
import { createAgentStats } from './agent-stats.js';
import { EventLog } from './event-log.js';
import { MEMBER_EVENTS } from './event-records.js';
import { EventStreams } from './event-streams.js';
import { parseWebhookUrl, startEventWebhooks } from './event-webhook.js';
import { createApi } from './http-api.js';
import { statePaths } from './data-dir.js';
import { readKeyringFile, writeKeyringFile } from './keyring-file.js';
import { startingTags, TagsFile } from './tags-file.js';
import { discoverySettings, startMdnsDiscovery, type MdnsDiscovery } from './mdns-discovery.js';
import type { LogMonitor } from './log-monitor.js';
import { createMetrics } from './metrics.js';
import { joinUntilAnswered } from './join-loop.js';
import { watchNameConflicts } from './name-conflicts.js';
import { readinessOf } from './readiness.js';
import { DEFAULT_HANDLER_CONCURRENCY } from './query-handlers.js';
import { handlerSpecs, planReload } from './config-reload.js';
import { attachEventHandlers, checkEventHandlerTiming, DEFAULT_EVENT_COALESCE_MS, DEFAULT_EVENT_HANDLER_TIMEOUT_MS } from './event-handlers.js';
import { allowedHosts } from './request-guard.js';

/** Everything an agent can be told, from flags or a JSON config file (flags win). */
export interface AgentOptions {
  name?: string;
  /** `host:port` for gossip (UDP and TCP); default 0.0.0.0:7946. */
  bind?: string;
  advertise?: string;
  join?: string[];
  /** Serf's `-retry-join`: seeds tried every `retryIntervalMs` until one answers; after `retryMax` failed retries (0: never) the agent stops with `failure` set. */
  retryJoin?: string[];
  /** Time between two retry-join attempts; default 30 s, as Serf's. */
  retryIntervalMs?: number;
  /** Retries after the first retry-join attempt before giving up (Serf's `-retry-max`); default 0: unlimited. */
  retryMax?: number;
  /** Serf's `-discover`: find and join peers advertising `_serf_NAME._tcp` by mDNS, and advertise this node there. */
  discover?: string;
  /** The network interface mDNS discovery uses (Serf's `-iface`); default every IPv4 interface. */
  discoverInterface?: string;
  /** DNS servers ("ip" or "ip:port") that resolve seeds given by name, instead of the system's. */
  dnsServers?: string[];
  /** `host:port` of the HTTP API; default 127.0.0.1 on the gossip port + 10000 (a host alone gets that port too). */
  http?: string;
  /** Required when the HTTP API listens beyond loopback. */
  httpToken?: string;
  /** Host names (besides localhost, 127.0.0.1, [::1] and the bound address) the HTTP API answers to; checked on loopback, or whenever given. */
  httpAllowedHosts?: string[];
  /** The failure detector to start with; a PUT /v1/protocol on any agent switches the whole cluster later. */
  protocol?: string;
  /** Members monitored by direct heartbeats in heartbeat and hybrid modes. */
  pinned?: string[];
  profile?: ProfileName;
  config?: Partial<ProtocolConfig>;
  /** Base64 key (as `serf keygen` prints). */
  encrypt?: string;
  /** A JSON array of base64 keys, the primary first (Serf's keyring file format). */
  keyringFile?: string;
  tags?: Record<string, string>;
  /** Serf's `-tags-file`: a JSON object of tags read at start and rewritten when the tags change through the API; excludes `tags`. */
  tagsFile?: string;
  dropRate?: number;
  logLevel?: string;
  /** `NAME=COMMAND`: answer queries named NAME (`*`: any) with the output of a shell command. */
  queryHandlers?: string[];
  /** Handler commands running at once (default 8); queries beyond wait in a bounded queue. */
  queryHandlerConcurrency?: number;
  /** Serf's `-event-handler`: `[FILTER=]COMMAND`, run through /bin/sh for the events the filter takes (docs/event-handlers.md). */
  eventHandlers?: string[];
  /** A member or user event handler still running after this is killed (default 60 s). */
  eventHandlerTimeoutMs?: number;
  /** Member events and coalesced user events are gathered this long before handlers run (default 200 ms; 0: none). */
  eventHandlerCoalesceMs?: number;
  /** Serf's `-snapshot`: membership and Lamport clocks kept across restarts (docs/persistence.md). */
  snapshot?: string;
  /** At start, join through the members the snapshot saw alive (Serf does so whenever it has a snapshot). */
  rejoin?: boolean;
  /** Rejoin even after a graceful leave (implies `rejoin`): what Serf's agent calls `-rejoin`. */
  rejoinAfterLeave?: boolean;
  /** One directory (created mode 0700) for the snapshot and the keyring, unless --snapshot or --keyring-file say otherwise. */
  dataDir?: string;
  /** URLs (http or https) each event is POSTed to as its JSON record (docs/event-webhooks.md). */
  eventWebhooks?: string[];
}

export interface Agent {
  readonly node: HearsayNode;
  /** The agent's logger: each line names the node. */
  readonly log: Logger;
  /** Where the HTTP API listens. */
  readonly http: { host: string; port: number };
  /** Leaves gracefully (bounded), then stops. */
  leave(): Promise<void>;
  /** Stops at once. */
  close(): Promise<void>;
  /** Resolves when the agent has stopped, whoever stopped it. */
  readonly stopped: Promise<void>;
  /**
   * Applies the reloadable parts of re-read options (tags, log level, handlers), as Serf's SIGHUP
   * does: all or nothing, an error (OptionError) leaves the agent as it was. Resolves with what
   * changed and what changed but needs a restart.
   */
  reload(options: AgentOptions): { applied: string[]; restartNeeded: readonly string[] };
  /** Why the agent stopped on its own (retry-join gave up, or its name is held by another live node), once it has; undefined otherwise. */
  readonly failure: Error | undefined;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
const JOIN_BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000];
const DEFAULT_RETRY_INTERVAL_MS = 30_000;

/**
 * A seed checked now (an OptionError for one the library cannot read): an address written as
 * the library prints it, or a DNS name (`host:port`, `dns+srv:name`) kept for the library to
 * resolve at each attempt, as the names behind a Kubernetes headless Service appear only once
 * its pods run.
 */
function checkedSeed(seed: string): string {
  const parsed = parseSeed(seed);
  return parsed.kind === 'host' && !parsed.isName ? formatAddress(parsed) : seed.trim();
}

/** Retry-join's interval and count, checked here because a config file gives them too. */
function retryPolicy(options: AgentOptions): { intervalMs: number; max: number } {
  const intervalMs = options.retryIntervalMs ?? DEFAULT_RETRY_INTERVAL_MS;
  const max = options.retryMax ?? 0;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new OptionError(`the retry-join interval must be more than 0, got ${intervalMs} ms`);
  if (!Number.isSafeInteger(max) || max < 0) throw new OptionError(`the retry-join maximum must be a whole number, 0 for unlimited, got ${max}`);
  return { intervalMs, max };
}

/**
 * The keys of --encrypt and the keyring file, the former first. Decoded here, by the library's
 * decodeKey, so that an unusable key is refused saying where it came from (createNode could only
 * say which index of its list).
 */
async function keysFrom(options: AgentOptions, log: Logger): Promise<Uint8Array[] | undefined> {
  const keys: Uint8Array[] = [];
  const decode = (key: string, source: string) => {
    try {
      keys.push(decodeKey(key));
    } catch (error) {
      throw new OptionError(`${source}: ${(error as Error).message}`);
    }
  };
  if (options.encrypt !== undefined) decode(options.encrypt, '--encrypt');
  if (options.keyringFile) {
    const ring = await readKeyringFile(options.keyringFile, log);
    for (const [index, key] of ring.entries()) decode(key, `keyring file ${options.keyringFile}, key ${index + 1} of ${ring.length}`);
  }
  return keys.length > 0 ? keys : undefined;
}

/**
 * The port text such as `host:port` names; undefined for a bare host. (parseAddress fills a
 * missing port with whatever default it is given: only a named port comes back the same under two.)
 */
function namedPort(text: string): number | undefined {
  const { port } = parseAddress(text, 0);
  return port === parseAddress(text, 1).port ? port : undefined;
}

/** Where the HTTP API listens: as --http says, a missing port (or no --http) meaning the gossip port + 10000, on 127.0.0.1 by default. */
function httpAddressFor(http: string | undefined, gossipPort: number): Address | undefined {
  const host = http === undefined ? '127.0.0.1' : parseAddress(http, 0).host;
  const port = (http === undefined ? undefined : namedPort(http)) ?? gossipPort + 10_000;
  return port > 65535 ? undefined : { host, port };
}

/**
 * Starts a node and its HTTP API; joins in the background, retrying with backoff. What it logs
 * once the node runs goes to a child of `baseLog` that names the node (as `agent.log`). The
 * node's options (name, bind, protocol, profile, tags, …) are createNode's to check (OptionError);
 * the agent checks its own, and the seeds now, since it joins them later in the background.
 * `monitor`, whose logger `baseLog` is, serves its lines on GET /v1/monitor.
 */
export async function startAgent(options: AgentOptions, baseLog: Logger, monitor?: LogMonitor): Promise<Agent> {
  const join = (options.join ?? []).map(checkedSeed);
  const retryJoin = (options.retryJoin ?? []).map(checkedSeed);
  const retry = retryPolicy(options);
  const discover = options.discover === undefined ? undefined : discoverySettings(options.discover, options.discoverInterface);
  const httpGiven = options.http !== undefined ? parseAddress(options.http, 0) : undefined;
  if (httpGiven && !LOOPBACK.test(httpGiven.host) && !options.httpToken) {
    throw new OptionError(`the HTTP API on ${options.http} would be reachable beyond this machine: give --http-token`);
  }
  const hostNames = options.httpAllowedHosts ?? [];
  if (!Array.isArray(hostNames) || !hostNames.every((name) => typeof name === 'string' && /^[^\s:/[\]]+$|^\[?[0-9a-fA-F:.]+\]?$/.test(name))) {
    throw new OptionError('allowed HTTP host names must be names or addresses without a port, like agent.example or 10.0.0.5');
  }
  const concurrency = options.queryHandlerConcurrency ?? DEFAULT_HANDLER_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024)
    throw new OptionError(`query handler concurrency must be an integer within 1 … 1024, got ${concurrency}`);
  const state = await statePaths(options);
  const keys = await keysFrom({ ...options, keyringFile: state.keyringToRead }, baseLog);
  const tags = await startingTags(options);
  const eventHandlers = handlerSpecs(options);
  const handlerTimeoutMs = options.eventHandlerTimeoutMs ?? DEFAULT_EVENT_HANDLER_TIMEOUT_MS;
  const coalesceMs = options.eventHandlerCoalesceMs ?? DEFAULT_EVENT_COALESCE_MS;
  checkEventHandlerTiming(handlerTimeoutMs, coalesceMs);
  const webhookUrls = (options.eventWebhooks ?? []).map(parseWebhookUrl);

  const node = await createNode({
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.bind !== undefined ? { bind: options.bind } : {}),
    ...(options.advertise ? { advertise: options.advertise } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    config: options.config ?? {},
    tags,
    ...(keys ? { keys } : {}),
    dropRate: options.dropRate ?? 0,
    ...(options.protocol !== undefined ? { protocol: options.protocol as Protocol } : {}),
    ...(options.pinned ? { pinned: options.pinned } : {}),
    ...(options.dnsServers ? { dnsServers: options.dnsServers } : {}),
    ...(state.snapshot ? { snapshotPath: state.snapshot, rejoin: options.rejoin ?? false, rejoinAfterLeave: options.rejoinAfterLeave ?? false } : {}),
  });
  const httpAddress = httpAddressFor(options.http, node.address.port);
  if (!httpAddress) {
    await node.shutdown();
    throw new OptionError(`no default HTTP port for gossip port ${node.address.port} (+10000 > 65535): give --http with a port`);
  }
  // Every line from here on names the node, once: pino would write a binding and a field of the same name both.
  const log = baseLog.child({ node: node.name });

  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let closing: Promise<void> | undefined;
  let joining = true;
  let discovery: MdnsDiscovery | undefined;
  let failure: Error | undefined;
  const close = () => {
    closing ??= (async () => {
      joining = false;
      await discovery?.stop();
      eventHandlersAttached.stop();
      stopWebhooks();
      await api.close();
      await node.shutdown();
      log.info('agent stopped');
      stop();
    })();
    return closing;
  };
  const leave = async () => {
    log.info('leaving the cluster');
    try {
      await node.leave(5000);
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'leave did not complete');
    }
    await close();
  };

  const stats = createAgentStats();
  monitor?.countDropsIn(stats);
  const events = new EventLog(node);
  const streams = new EventStreams(events, stats, log);
  const stopWebhooks = startEventWebhooks(webhookUrls, events, { log, stats });
  const metrics = createMetrics(node, stats, streams, monitor);
  // DNS rebinding only threatens an API a browser reaches by a name it resolves: loopback's, or the names given.
  const checkHosts = LOOPBACK.test(httpAddress.host) || hostNames.length > 0;
  const api: FastifyInstance = createApi({
    node,
    metrics,
    token: options.httpToken,
    allowedHosts: checkHosts ? allowedHosts(httpAddress.host, hostNames) : undefined,
    leave,
    stats,
    streams,
    events,
    monitor,
    ...(options.tagsFile !== undefined ? { tagsFile: new TagsFile(options.tagsFile) } : {}),
    readiness: () =>
      readinessOf(node, {
        seeksCluster: join.length > 0 || retryJoin.length > 0 || discover !== undefined || Boolean(options.rejoin || options.rejoinAfterLeave),
        maxHealthScore: resolveConfig(options.profile ?? 'lan', options.config ?? {}).awarenessMaxMultiplier - 1,
      }),
  });
  try {
    await api.listen({ host: httpAddress.host, port: httpAddress.port });
  } catch (error) {
    await node.shutdown();
    const code = (error as NodeJS.ErrnoException).code;
    throw new BindError(
      code === 'EADDRINUSE'
        ? `HTTP port ${formatAddress(httpAddress)} is already in use: give another --http`
        : `cannot serve HTTP on ${formatAddress(httpAddress)}: ${(error as Error).message}`,
    );
  }
  const port = (api.server.address() as { port: number }).port;
  const http = { host: httpAddress.host, port };

  for (const type of MEMBER_EVENTS) {
    node.on(type, (member) => log.info({ event: type, member: member.name, incarnation: member.incarnation }, `member ${type}`));
  }
  node.on('degraded', (member, degraded) => {
    if (degraded) log.warn({ member }, `degraded pair: ${member} answers this node's probes only through helpers or TCP (direct pings fail)`);
    else log.info({ member }, `degraded pair ended: ${member} answered a direct ping again, or left the member list`);
  });
  node.on('notice', (level, text) => (level === 'warn' ? log.warn(text) : log.debug(text)));
  watchNameConflicts(node, log, async (error) => {
    failure = error;
    await close();
  });
  const eventHandlersAttached = attachEventHandlers(node, eventHandlers, {
    log,
    stats,
    timeoutMs: handlerTimeoutMs,
    coalesceMs,
    queryConcurrency: concurrency,
  });
  let keyringWritten = Promise.resolve();
  node.on('keys', (ring) => {
    log.info({ keys: ring.length }, 'keyring changed by a key query');
    // As Serf does: the keyring file follows rotations, so that a restart keeps the new keys. One write at a time, in order.
    const file = state.keyringFile;
    if (file) {
      keyringWritten = keyringWritten.then(() =>
        writeKeyringFile(file, ring).catch((error: Error) => log.error({ file, err: error.message }, 'cannot write the keyring file')),
      );
    }
  });
  const { keyringFile } = state;
  if (keyringFile && !state.keyringToRead && node.keys) {
    // The data directory keeps the --encrypt key, so that a restart needs no key on its command line.
    const ring = node.keys;
    keyringWritten = writeKeyringFile(keyringFile, ring).catch((error: Error) =>
      log.error({ file: keyringFile, err: error.message }, 'cannot write the keyring file'),
    );
  }
  node.on('protocol', (switched, epoch, origin) => {
    log.info({ protocol: switched, epoch, origin }, 'failure detector switched');
    warnIfHeartbeats(log, switched);
  });
  warnIfHeartbeats(log, node.protocol);
  log.info(
    {
      gossip: formatAddress(node.address),
      advertise: formatAddress(node.advertised),
      http: `${isIP(http.host) === 6 ? `[${http.host}]` : http.host}:${http.port}`,
      protocol: node.protocol,
    },
    'agent ready',
  );

  const joinContext = {
    node,
    log,
    running: () => joining,
    giveUp: async (error: Error) => {
      failure = error;
      await close();
    },
  };
  if (join.length > 0) {
    const waitMs = (attempt: number) => JOIN_BACKOFF_MS[Math.min(attempt, JOIN_BACKOFF_MS.length - 1)]!;
    void joinUntilAnswered(join, { label: '', waitMs, maxRetries: Infinity }, joinContext);
  }
  if (retryJoin.length > 0) {
    // As Serf's retryJoin: a first attempt, then up to `max` retries (any number when 0), `intervalMs` apart.
    const policy = { label: 'retry-join: ', waitMs: () => retry.intervalMs, maxRetries: retry.max > 0 ? retry.max : Infinity };
    void joinUntilAnswered(retryJoin, policy, joinContext);
  }

  if (discover) {
    try {
      discovery = await startMdnsDiscovery({ settings: discover, node, log, stats });
    } catch (error) {
      await close();
      throw error;
    }
  }

  let running = options;
  const reload = (next: AgentOptions) => {
    const plan = planReload(running, next);
    const applied: string[] = [];
    if (plan.tags) {
      node.setTags(plan.tags);
      applied.push('tags');
    }
    if (plan.logLevel !== undefined) {
      if (monitor) monitor.setLevel(plan.logLevel);
      else baseLog.level = plan.logLevel;
      applied.push('logLevel');
    }
    if (plan.handlers) {
      eventHandlersAttached.replace(plan.handlers);
      applied.push('handlers');
    }
    // Options that need a restart stay as they run, so that the next reload compares with what runs.
    running = {
      ...running,
      tags: plan.tags ?? running.tags,
      logLevel: plan.logLevel ?? running.logLevel,
      ...(plan.handlers ? { eventHandlers: next.eventHandlers ?? [], queryHandlers: next.queryHandlers ?? [] } : {}),
    };
    log.info({ applied, restartNeeded: plan.restartNeeded }, applied.length > 0 ? 'configuration reloaded' : 'configuration reloaded: nothing to apply');
    if (plan.restartNeeded.length > 0) log.warn({ options: plan.restartNeeded }, 'changed options that apply only at start: restart the agent for them');
    return { applied, restartNeeded: plan.restartNeeded };
  };

  return {
    node,
    http,
    log,
    leave,
    close,
    reload,
    stopped,
    get failure() {
      return failure;
    },
  };
}

/** Heartbeat modes judge members by messages only hearsay sends; mixed clusters must know. */
function warnIfHeartbeats(log: Logger, protocol: Protocol): void {
  if (protocol === 'swim') return;
  log.warn(
    { protocol },
    `${protocol} detection needs every member to run hearsay: Serf and memberlist agents drop heartbeats and will be judged failed (switch back with PUT /v1/protocol {"protocol": "swim"})`,
  );
}
