import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import multicastDns from 'multicast-dns';
import type { Logger } from 'pino';
import { BindError, JoinError, OptionError, type HearsayNode } from 'hearsay';
import { formatAddress } from 'hearsay/wire';
import type { AgentStats } from './agent-stats.js';

/**
 * `--discover NAME`, as Serf's agent does it (agent/mdns.go over hashicorp/mdns), so that hearsay
 * and Serf agents find each other on one link:
 *
 * - the service is `_serf_NAME._tcp.local`, the instance the node name, the TXT record
 *   `Serf 'NAME' cluster`, the port and address the advertised gossip address;
 * - Serf's browser asks from a port of its own (legacy unicast, RFC 6762 §6.7) and reads every
 *   record from the answer section; its responder answers by unicast to whoever asked. So the
 *   responder here answers a question from another port by unicast, with the query's id and
 *   question, and one from 5353 by multicast, all records in the answer section;
 * - the browser asks from a port of its own too, so that answers reach this process even when
 *   another responder (avahi) shares 5353.
 *
 * IPv4 multicast only (224.0.0.251): Serf listens and asks on IPv4 and IPv6 both, so IPv4 is
 * enough to find it. A peer found is joined unless it is already a member.
 */

type Answer = multicastDns.ResponseOutgoingPacket['answers'][number];
type Question = multicastDns.QueryPacket['questions'][number];

const MDNS_GROUP = '224.0.0.251';
const MDNS_PORT = 5353;
/** Serf's records live 120 s; legacy unicast answers at most 10 s (RFC 6762 §6.7). */
const TTL_S = 120;
const LEGACY_TTL_S = 10;
/** The browser asks at start, then after 1 s, doubling (RFC 6762 §5.2) up to Serf's period of 60 s. */
const FIRST_QUERY_INTERVAL_MS = 1000;
const QUERY_INTERVAL_MS = 60_000;
/** Serf waits this long after an answer for more before joining them together. */
const QUIET_MS = 100;
/** Per interval between two queries: answers handled, queries answered, peers joined. Beyond, packets are dropped and counted. */
const ANSWERS_PER_INTERVAL = 256;
const QUERIES_PER_INTERVAL = 256;
const JOINS_PER_INTERVAL = 16;
/** An address joined (or tried) is not tried again for this long; at most this many are remembered. */
const RETRY_PEER_AFTER_MS = 5 * 60_000;
const MAX_REMEMBERED_PEERS = 1024;

/** What `--discover` and `--discover-interface` ask for, checked before the agent starts. */
export interface DiscoverySettings {
  /** The cluster name: Serf's `-discover`. */
  readonly cluster: string;
  /** The network interface to send and receive multicast on (Serf's `-iface`); undefined: every IPv4 interface. */
  readonly interfaceName: string | undefined;
  /** That interface's IPv4 address. */
  readonly via: string | undefined;
}

export interface MdnsDiscoveryOptions {
  readonly settings: DiscoverySettings;
  readonly node: HearsayNode;
  readonly log: Logger;
  readonly stats: AgentStats;
}

export interface MdnsDiscovery {
  /** Stops answering and asking; closes both sockets. */
  stop(): Promise<void>;
}

/** The IPv4 address multicast goes out of and is joined on, for `--discover-interface`. */
function interfaceAddress(name: string): string {
  const addresses = networkInterfaces()[name];
  if (!addresses) throw new OptionError(`--discover-interface ${name}: no such network interface (have ${Object.keys(networkInterfaces()).join(', ')})`);
  const v4 = addresses.find((address) => address.family === 'IPv4');
  if (!v4) throw new OptionError(`--discover-interface ${name}: the interface has no IPv4 address`);
  return v4.address;
}

/** The service's DNS names, compared without case as DNS does. */
function namesFor(cluster: string, nodeName: string) {
  const service = `_serf_${cluster}._tcp.local`;
  return { service, instance: `${nodeName}.${service}`, enumeration: '_services._dns-sd._udp.local' };
}

/** Checks the cluster name and finds the interface's address; an OptionError says what is wrong. */
export function discoverySettings(cluster: string, interfaceName: string | undefined): DiscoverySettings {
  // One DNS label after `_serf_`: 63 bytes at most, no dot (it would split the service name).
  if (!/^[\w-]{1,57}$/.test(cluster)) {
    throw new OptionError(`--discover "${cluster}": use letters, digits, dashes and underscores, at most 57 of them (the service name is _serf_NAME._tcp)`);
  }
  return { cluster, interfaceName, via: interfaceName === undefined ? undefined : interfaceAddress(interfaceName) };
}

/** The browser's own socket, on a port of its own: multicast goes out of the chosen interface, answers come back to it. */
async function browserSocket(via: string | undefined): Promise<Socket> {
  const socket = createSocket({ type: 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.setMulticastTTL(255);
  if (via) socket.setMulticastInterface(via);
  return socket;
}

/** Answers for this node and asks for its peers, joining those it finds, until `stop()`. An unusable port 5353 is a BindError. */
export async function startMdnsDiscovery(options: MdnsDiscoveryOptions): Promise<MdnsDiscovery> {
  const { node, log, stats } = options;
  const { cluster, via } = options.settings;
  const names = namesFor(cluster, node.name);
  const drop = (reason: string) => (stats.dropped[reason] = (stats.dropped[reason] ?? 0) + 1);
  // multicast-dns warns of packets it cannot decode, and of sockets' passing troubles (a membership refused): those carry a code.
  const notice = (error: Error, side: string) => {
    if ((error as NodeJS.ErrnoException).code === undefined) drop('mdns-malformed');
    else log.debug({ cluster, err: error.message }, `mDNS ${side}: ${error.message}`);
  };

  // The target of the SRV record is the instance itself, not the host name: a host's own mDNS
  // name (avahi's) may carry other addresses, and node names are unique where host names are not.
  const own = node.advertised;
  const ownRecords = (ttl: number): Answer[] => [
    { name: names.instance, type: 'SRV', ttl, data: { priority: 10, weight: 1, port: own.port, target: names.instance } },
    { name: names.instance, type: 'TXT', ttl, data: [`Serf '${cluster}' cluster`] },
    isIP(own.host) === 6 ? { name: names.instance, type: 'AAAA', ttl, data: own.host } : { name: names.instance, type: 'A', ttl, data: own.host },
  ];
  const answersTo = (question: Question, ttl: number): Answer[] => {
    const name = question.name.toLowerCase();
    const any = (question.type as string) === 'ANY';
    if (name === names.service.toLowerCase() && (any || question.type === 'PTR')) {
      return [{ name: names.service, type: 'PTR', ttl, data: names.instance }, ...ownRecords(ttl)];
    }
    if (name === names.instance.toLowerCase()) {
      // hashicorp/mdns asks again by PTR for an instance it knows too little of: answer every type with the lot.
      const records = ownRecords(ttl);
      return any || question.type === 'PTR' ? records : records.filter((record) => record.type === question.type);
    }
    if (name === names.enumeration && (any || question.type === 'PTR')) return [{ name: names.enumeration, type: 'PTR', ttl, data: names.service }];
    return [];
  };

  let queriesLeft = QUERIES_PER_INTERVAL;
  let answersLeft = ANSWERS_PER_INTERVAL;
  let joinsLeft = JOINS_PER_INTERVAL;

  const browser = multicastDns({ socket: await browserSocket(via), port: 0, multicast: false });
  browser.on('warning', (error: Error) => notice(error, 'browser'));
  browser.on('error', (error: Error) => log.warn({ cluster, err: error.message }, 'mDNS browser error'));

  const responder = multicastDns({ ...(via ? { interface: via, bind: '0.0.0.0' } : {}) });
  try {
    await new Promise((resolve, reject) => {
      responder.once('ready', resolve);
      responder.once('error', reject);
    });
  } catch (error) {
    browser.destroy();
    responder.destroy();
    throw new BindError(`--discover: cannot listen for mDNS on port ${MDNS_PORT}: ${(error as Error).message}`);
  }
  // From now on a socket error is logged, never thrown: discovery is a convenience, the node runs on.
  responder.on('error', (error: Error) => log.warn({ cluster, err: error.message }, 'mDNS responder error'));
  responder.on('query', (query, from: RemoteInfo) => {
    const legacy = from.port !== MDNS_PORT;
    const questions = query.questions.filter((question) => answersTo(question, TTL_S).length > 0);
    if (questions.length === 0) return;
    if (queriesLeft <= 0) return void drop('mdns-queries-over-budget');
    queriesLeft--;
    const answers = questions.flatMap((question) => answersTo(question, legacy ? LEGACY_TTL_S : TTL_S));
    if (legacy) responder.respond({ id: query.id, questions, answers }, { address: from.address, port: from.port });
    else responder.respond({ answers });
  });
  responder.on('warning', (error: Error) => notice(error, 'responder'));

  /** Addresses joined or tried, when: not tried again soon (bounded, oldest forgotten first). */
  const tried = new Map<string, number>();
  let pending = new Set<string>();
  let quiet: NodeJS.Timeout | undefined;
  let stopped = false;

  const memberAddresses = () =>
    new Set(
      node
        .members()
        .filter((member) => member.status === 'alive' || member.status === 'suspect')
        .map((member) => formatAddress({ host: member.address, port: member.port })),
    );

  const joinPending = async () => {
    quiet = undefined;
    const peers = [...pending];
    pending = new Set();
    if (stopped || peers.length === 0) return;
    try {
      const contacted = await node.join(peers);
      log.info({ cluster, peers, contacted }, 'joined peers found by mDNS');
    } catch (error) {
      if (stopped) return;
      if (error instanceof JoinError) log.warn({ cluster, peers, err: error.message }, 'peers found by mDNS did not answer');
      else log.error({ cluster, peers, err: (error as Error).message }, 'joining peers found by mDNS failed');
    }
  };

  const consider = (address: string) => {
    const now = Date.now();
    const last = tried.get(address);
    if (last !== undefined && now - last < RETRY_PEER_AFTER_MS) return;
    if (joinsLeft <= 0) return void drop('mdns-joins-over-budget');
    joinsLeft--;
    tried.delete(address);
    tried.set(address, now);
    if (tried.size > MAX_REMEMBERED_PEERS) tried.delete(tried.keys().next().value!);
    pending.add(address);
    quiet ??= setTimeout(() => void joinPending(), QUIET_MS);
  };

  browser.on('response', (response) => {
    const records = [...(response.answers ?? []), ...(response.additionals ?? [])];
    if (answersLeft < records.length) return void drop('mdns-answers-over-budget');
    answersLeft -= records.length;
    const service = names.service.toLowerCase();
    const ports = new Map<string, { port: number; target: string }>();
    const addresses = new Map<string, string[]>();
    for (const record of records) {
      const name = typeof record.name === 'string' ? record.name.toLowerCase() : '';
      if (record.type === 'SRV' && name.endsWith(`.${service}`)) {
        const data = record.data as { port?: unknown; target?: unknown };
        if (typeof data?.port !== 'number' || typeof data.target !== 'string' || data.port === 0) return void drop('mdns-malformed');
        ports.set(name, { port: data.port, target: data.target.toLowerCase() });
      } else if ((record.type === 'A' || record.type === 'AAAA') && typeof record.data === 'string' && isIP(record.data)) {
        addresses.set(name, [...(addresses.get(name) ?? []), record.data]);
      }
    }
    if (ports.size === 0) return;
    const members = memberAddresses();
    const self = formatAddress(own);
    for (const [instance, { port, target }] of ports) {
      if (instance === names.instance.toLowerCase()) continue;
      for (const host of addresses.get(target) ?? addresses.get(instance) ?? []) {
        const address = formatAddress({ host, port });
        if (address !== self && !members.has(address)) consider(address);
      }
    }
  });

  let wait = FIRST_QUERY_INTERVAL_MS;
  let next: NodeJS.Timeout | undefined;
  const ask = () => {
    queriesLeft = QUERIES_PER_INTERVAL;
    answersLeft = ANSWERS_PER_INTERVAL;
    joinsLeft = JOINS_PER_INTERVAL;
    browser.query({ questions: [{ name: names.service, type: 'PTR' }] }, { address: MDNS_GROUP, port: MDNS_PORT }, (error) => {
      if (error && !stopped) log.warn({ cluster, err: error.message }, 'cannot send the mDNS query');
    });
    next = setTimeout(ask, wait);
    next.unref();
    wait = Math.min(wait * 2, QUERY_INTERVAL_MS);
  };

  ask();
  log.info({ cluster, service: names.service, instance: names.instance, interface: options.settings.interfaceName ?? 'all' }, 'mDNS discovery started');

  return {
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(next);
      clearTimeout(quiet);
      await Promise.all([new Promise<void>((resolve) => responder.destroy(resolve)), new Promise<void>((resolve) => browser.destroy(resolve))]);
    },
  };
}
