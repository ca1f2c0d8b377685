import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname, networkInterfaces } from 'node:os';
import {
  createRandom,
  DEFAULT_VSN,
  HearsayError,
  isProfileName,
  MemberNode,
  PROTOCOLS,
  resolveConfig,
  type Address,
  type CoreStats,
  type Member as CoreMember,
  type MemberEventType,
  type Output,
  type ProfileName,
  type Protocol,
  type Status,
  type SwimConfig,
  startingIncarnation,
} from '../core/index.js';
import { CoordinateClient, DEFAULT_COORDINATE_CONFIG, distanceBetween, type Coordinate } from '../core/coordinate.js';
import { decodeCoordinatePayload, decodeTags, encodeCoordinatePayload, encodeSerfKeyRequest, encodeTags, Keyring, MAX_QUERY_BYTES } from '../wire/index.js';
import { formatAddress, parseAddress } from './address.js';
import { Driver } from './driver.js';
import { checkKeyBytes, decodeKey } from './encryption-key.js';
import { OptionError } from '../core/errors.js';
import { JoinError, ShutdownError } from './errors.js';
import { tallyKeyResponses, type KeyOperationResult } from './key-results.js';
import { checkQueryFilters, SerfLayer, type IncomingQuery, type QueryOptions, type SerfStats } from './serf-layer.js';
import { NoticeLimiter } from './notice-limiter.js';
import { countDrop, type TrafficStats } from './traffic.js';
import { closeListeners, listen, type Listeners } from './transport.js';

/** A member as the library reports it: a snapshot, taken when it was asked for or the event fired. */
export interface Member {
  /** The member's name, unique in the cluster. */
  name: string;
  /** The IP address it advertises (where others reach it). */
  address: string;
  /** Its gossip port (UDP and TCP). */
  port: number;
  /** `alive`, `suspect`, `failed` or `left`, as this node sees it. */
  status: Status;
  /** The member's incarnation: it raises it to refute a suspicion, and a newer one wins. */
  incarnation: number;
  /** Serf-compatible tags decoded from the meta bytes (none when the meta is not Serf's tag map). */
  tags: Record<string, string>;
  /** The meta bytes the member gossips (Serf's encoded tags, up to 512 bytes). */
  meta: Uint8Array;
  /** Wall-clock time (ms since the epoch) of the last status change, as this node saw it. */
  since: number;
  /** Smoothed round-trip time (ms) this node measured to the member; absent until measured. */
  rttMs?: number;
}

/**
 * What `createNode` takes; every field is optional. Unknown fields and values of the wrong type
 * are refused with an OptionError, for callers that TypeScript does not check.
 */
export interface NodeOptions {
  /** Unique in the cluster, 1 to 255 characters; default: this machine's hostname. */
  name?: string;
  /** `host:port` to listen on (UDP and TCP); port 0 picks a free one, no port means 7946. Default `0.0.0.0:7946`. */
  bind?: string;
  /** `host:port` others should use to reach this node; default: the bound address (a wildcard bind advertises the first non-internal IPv4 address). */
  advertise?: string;
  /** Seeds to join through at start, as a list of `host:port` (no port means 7946); `createNode` rejects with a JoinError if none answers. */
  join?: string[];
  /** memberlist's timing profile: `lan` (the default), `local` (faster, for one machine) or `wan` (slower). */
  profile?: ProfileName;
  /** Protocol settings over the profile's, each `…Ms` in milliseconds (see the configuration docs); checked by the core. */
  config?: Partial<SwimConfig>;
  /** Serf-compatible tags carried in the node's meta (at most 512 bytes encoded); default none. */
  tags?: Record<string, string>;
  /** AES keys (16, 24 or 32 bytes, or their base64 as `serf keygen` prints it); the first encrypts, all decrypt. Default: no encryption. */
  keys?: (Uint8Array | string)[];
  /** Drop this fraction (0 … 1) of incoming packets on purpose, for experiments; default 0. */
  dropRate?: number;
  /**
   * The failure detector to start with (default 'swim'). Heartbeat and hybrid need every member
   * to run hearsay: Serf and memberlist nodes send no heartbeats and would be judged failed.
   */
  protocol?: Protocol;
  /** Members this node monitors by direct heartbeats in heartbeat and hybrid modes, whatever the cluster size. */
  pinned?: string[];
}

/** A node's counters since it started (cumulative), as `node.stats` gives them: a copy, not live. */
export interface NodeStats {
  /** The protocol core's: probes, suspicions, refutations, failures declared, what it dropped and why. */
  core: CoreStats;
  /** What crossed the network: packets, bytes, messages by type, streams, drops by reason. */
  traffic: TrafficStats;
  /** Lifeguard's local health: 0 when this node is keeping up, higher when its probes go unanswered (it then probes more slowly). */
  healthScore: number;
  /** Updates waiting in the gossip queue. */
  broadcastQueue: number;
  /** Serf-layer activity: queries, answers, relays, key changes, events caught up by push/pull. */
  serf: SerfStats;
}

/**
 * The events a node emits, with their listeners' arguments: `node.on('join', (member) => …)`.
 * A listener that throws (or whose promise rejects) is counted and reported once as a notice;
 * it never reaches the network code.
 */
export interface HearsayNodeEvents {
  /** A member joined, or this node learnt of it (once per member, itself included at start). */
  join: [member: Member];
  /** A member's meta (its tags) or address changed. */
  update: [member: Member];
  /** A member is suspected of having failed; it has the suspicion timeout to refute it. */
  suspect: [member: Member];
  /** A suspected or failed member is alive again (it refuted, or came back). */
  alive: [member: Member];
  /** A member was declared failed (its suspicion ran out, or another node said so). */
  failed: [member: Member];
  /** A member left gracefully. */
  left: [member: Member];
  /**
   * A broadcast (a Serf user event of any name) reached this node, once per event. Serf's user
   * events name no sender, and they arrive from whichever member relayed them: put the sender in
   * the payload if it matters.
   */
  message: [payload: Uint8Array, name: string];
  /** Something worth logging: dropped or conflicting updates, internal errors (held back when they repeat). */
  notice: [level: 'debug' | 'warn', text: string];
  /** A probe or direct heartbeat of `member` was answered after `ms` milliseconds. */
  rtt: [member: string, ms: number];
  /** The failure detector changed: this node's own switch, or one that reached it by gossip; `origin` names the member that asked for it. */
  protocol: [protocol: Protocol, epoch: number, origin: string];
  /** A query (Serf's or a hearsay node's) this node passes the filters of; `query.respond()` answers it. */
  query: [query: IncomingQuery];
  /** A `serf keys` (or `installKey` …) query changed this node's keyring: the keys in base64, the primary first. */
  keys: [keys: string[]];
}

/** What a query collected by its deadline. */
export interface QueryResult {
  /** Members that acknowledged it (with `requestAck`). */
  acks: string[];
  /** Answers in arrival order. */
  responses: { from: string; payload: Uint8Array }[];
}

const DEFAULT_BIND = '0.0.0.0:7946';

/**
 * A cluster member on the real network: the protocol core driven over UDP and TCP with
 * memberlist's wire format, so that it can join hearsay nodes and Serf agents alike. Made by
 * `createNode`; it emits the membership events of {@link HearsayNodeEvents}, and runs until
 * `shutdown()` (after `leave()`, to part gracefully).
 */
export class HearsayNode extends EventEmitter<HearsayNodeEvents> {
  readonly #core: MemberNode;
  readonly #driver: Driver;
  readonly #listeners: Listeners;
  readonly #serf: SerfLayer;
  readonly #keyring: Keyring | undefined;
  /** This node's Vivaldi coordinate, refined from every direct ack that carries the member's. */
  readonly #coordinates: CoordinateClient;
  /** Members' coordinates as their latest acks carried them. */
  readonly #memberCoordinates = new Map<string, Coordinate>();
  readonly #joins = new Map<number, (contacted: number, errors: readonly string[]) => void>();
  /** Ends each query still collecting answers (at shutdown). */
  readonly #pendingQueries = new Set<() => void>();
  #leaving: ((timedOut: boolean) => void) | undefined;
  #nextRequest = 1;
  #closed: Promise<void> | undefined;
  readonly #notices = new NoticeLimiter((level, text) => this.emit('notice', level, text));
  /** Events whose listeners have thrown already: only the first error of each is shown. */
  readonly #failedEvents = new Set<string | symbol>();

  /** Use `createNode`, which checks the options and binds the sockets first. */
  constructor(core: MemberNode, listeners: Listeners, keyring: Keyring | undefined, dropRate: number) {
    super();
    this.#core = core;
    this.#listeners = listeners;
    this.#keyring = keyring;
    this.#coordinates = new CoordinateClient(DEFAULT_COORDINATE_CONFIG, createRandom(randomInt(2 ** 31)));
    this.#serf = new SerfLayer({
      name: core.name,
      address: { host: core.profile.host, port: core.profile.port },
      tags: () => this.self.tags,
      sendTo: (to, payload) => this.#driver.step({ kind: 'send', to, payload }),
      broadcast: (key, payload) => this.#driver.step({ kind: 'broadcast', key, payload }),
      peers: () =>
        this.#core
          .members()
          .filter((member) => member.status === 'alive' && member.name !== this.name)
          .map((member) => ({ name: member.name, address: { host: member.host, port: member.port } })),
      isMemberAddress: (address) => this.#core.members().some((member) => isLive(member) && member.port === address.port && member.host === address.host),
      member: (name) => {
        const member = this.#core.member(name);
        if (!member) return undefined;
        const status = member.status === 'suspect' ? 'alive' : member.status;
        return { name, host: member.host, port: member.port, tags: tagsOf(member.meta), status, vsn: member.vsn };
      },
      keyring,
      keysChanged: () => this.emit('keys', this.keys!),
      setUserState: (state) => this.#driver.step({ kind: 'setUserState', state }),
      now: Date.now,
      random: Math.random,
    });
    this.#driver = new Driver({
      core,
      listeners,
      keyring,
      dropRate,
      onOutput: (output) => this.#onOutput(output),
      onStreamUser: (payload) => this.#onUser(payload),
      onRemoteState: (message) => {
        if (message.type !== 'pushPull') return;
        for (const event of this.#serf.observeState(message)) this.emit('message', event.payload, event.name);
      },
    });
    this.#driver.start();
    // Acks carry our coordinate, as Serf's do: Serf agents (and hearsay nodes) place us with it.
    this.#driver.step({ kind: 'setAckPayload', payload: encodeCoordinatePayload(this.#coordinates.coordinate) });
  }

  /**
   * Calls every listener whatever the others do. What an application's listener throws (or a
   * promise it returns rejects with) is counted in `stats.traffic.dropped['listener-error']` and
   * shown once per event as a notice: it never reaches the socket handler that received the
   * message, where it would end the process.
   */
  override emit<K extends keyof HearsayNodeEvents>(event: K, ...args: HearsayNodeEvents[K]): boolean {
    const listeners = this.rawListeners(event) as ((...values: unknown[]) => unknown)[];
    for (const listener of listeners) {
      try {
        const result = listener.apply(this, args);
        if (result instanceof Promise) result.catch((error: unknown) => this.#listenerFailed(event, error));
      } catch (error) {
        this.#listenerFailed(event, error);
      }
    }
    return listeners.length > 0;
  }

  #listenerFailed(event: string | symbol, error: unknown): void {
    countDrop(this.#driver.traffic, 'listener-error');
    // A throwing 'notice' listener would only fail again on the notice about it.
    if (event === 'notice' || this.#failedEvents.has(event)) return;
    this.#failedEvents.add(event);
    const detail = (error as Error)?.stack ?? String(error);
    this.#notices.notice('warn', `a '${String(event)}' listener threw (counted as listener-error; later ones are only counted): ${detail}`);
  }

  /** This node's name, unique in the cluster. */
  get name(): string {
    return this.#core.name;
  }

  /** Where this node listens (the real port when bound to port 0). */
  get address(): Address {
    return { host: this.#listeners.host, port: this.#listeners.port };
  }

  /** What this node tells others to use to reach it. */
  get advertised(): Address {
    return { host: this.#core.profile.host, port: this.#core.profile.port };
  }

  /** This node as a member of the cluster. */
  get self(): Member {
    return publicMember(this.#core.member(this.name)!);
  }

  /** Every member this node knows, itself included, in any status (failed and left ones until they are reaped). */
  members(): Member[] {
    return this.#core.members().map(publicMember);
  }

  /** The member of that name; undefined if this node does not know it. */
  member(name: string): Member | undefined {
    const member = this.#core.member(name);
    return member && publicMember(member);
  }

  /** The failure detector in use. */
  get protocol(): Protocol {
    return this.#core.detector;
  }

  /** The switch in force: its epoch (0: the detector this node was started with) and who asked for it. */
  get protocolSwitch(): { readonly epoch: number; readonly origin: string } {
    return this.#core.protocolSwitch;
  }

  /** Members monitored by direct heartbeats in heartbeat and hybrid modes. */
  get pinned(): readonly string[] {
    return this.#core.pinned;
  }

  /** Whether heartbeats now go directly to every member (hybrid, while the cluster is small). */
  get allToAll(): boolean {
    return this.#core.allToAll;
  }

  /**
   * Switches the failure detector of the whole cluster, keeping the membership: the switch
   * spreads by gossip and the latest one wins everywhere (see the README). Emits 'protocol'.
   */
  setProtocol(protocol: Protocol): void {
    this.#assertOpen();
    this.#driver.step({ kind: 'setProtocol', protocol: checkProtocol(protocol) });
  }

  /** Replaces the members this node monitors directly (heartbeat and hybrid modes); local to this node. */
  pin(names: string[]): void {
    this.#assertOpen();
    this.#driver.step({ kind: 'pin', names: checkNames(names) });
  }

  /** This node's counters since it started: a copy taken now. */
  get stats(): NodeStats {
    return {
      core: structuredClone(this.#core.stats),
      traffic: structuredClone(this.#driver.traffic),
      healthScore: this.#core.healthScore,
      broadcastQueue: this.#core.queuedBroadcasts,
      serf: structuredClone(this.#serf.stats),
    };
  }

  /**
   * Joins through seeds (`host:port`, no port meaning 7946) by a push/pull with each; resolves
   * with how many answered, or rejects with a JoinError if none did (an OptionError for an address it cannot read).
   */
  join(seeds: string[]): Promise<number> {
    this.#assertOpen();
    if (!isTextList(seeds)) return Promise.reject(new OptionError(`join takes a list of "host:port" seeds, like ["10.0.0.1:7946"], not ${quoted(seeds)}`));
    if (seeds.length === 0) return Promise.reject(new OptionError('join needs at least one seed address'));
    const addresses = seeds.map((seed) => parseAddress(seed));
    const request = this.#nextRequest++;
    return new Promise((resolve, reject) => {
      this.#joins.set(request, (contacted, errors) => {
        if (contacted > 0) resolve(contacted);
        else reject(new JoinError(`no seed could be reached: ${errors.join('; ')}; check the addresses and that the seeds run`, errors));
      });
      this.#driver.step({ kind: 'join', request, seeds: addresses });
    });
  }

  /**
   * Sends `payload` to every member, as a Serf user event named `name` (default `hearsay`;
   * Serf agents show it as one, hearsay nodes emit 'message'). Delivery is best effort, like
   * Serf's: gossiped with the retransmit limit and relayed by every node that receives it, once.
   * Throws an OptionError when name and payload do not fit in one packet (about 1.3 KB on the
   * default profile) or exceed Serf's 9 KiB limit.
   */
  broadcast(payload: Uint8Array, name = 'hearsay'): void {
    this.#assertOpen();
    const event = this.#serf.userEvent(name, payload);
    if (event.bytes.length > this.#core.config.udpBufferSize - 64) {
      throw new OptionError(
        `a broadcast of ${payload.length} bytes does not fit in one packet: keep it under about ${this.#core.config.udpBufferSize - 128} bytes`,
      );
    }
    this.#driver.step({ kind: 'broadcast', key: event.key, payload: event.bytes });
  }

  /**
   * Asks every member (or those the filters pick) and collects acks and answers until the
   * timeout, as `serf query` does; Serf agents take part. Members answer from their 'query'
   * listeners. Resolves with what arrived in time (see {@link QueryOptions} for the defaults).
   * Throws an OptionError for a name, payload, timeout or filter that cannot be sent: an empty
   * name, a query over Serf's size limit, a timeout beyond 1 … 3 600 000 ms, a tag filter RE2 does not compile.
   */
  query(name: string, payload: Uint8Array = new Uint8Array(0), options: QueryOptions = {}): Promise<QueryResult> {
    this.#assertOpen();
    if (!name) throw new OptionError('a query needs a name');
    const relayFactor = options.relayFactor ?? 0;
    if (!Number.isInteger(relayFactor) || relayFactor < 0 || relayFactor > 5)
      throw new OptionError(`relayFactor must be an integer within 0 … 5, got ${relayFactor}`);
    const timeoutMs = options.timeoutMs ?? this.#defaultQueryTimeout();
    if (!(timeoutMs > 0 && timeoutMs <= 3_600_000)) throw new OptionError(`a query timeout must be within 1 ms … 1 h, got ${timeoutMs}`);
    checkQueryFilters(options);
    const size = name.length * 3 + payload.length + 128 + 64 * (options.nodes?.length ?? 0);
    if (size > MAX_QUERY_BYTES)
      throw new OptionError(`a query of about ${size} bytes is over Serf's limit of ${MAX_QUERY_BYTES}: shorten its name, payload or filters`);
    const result: QueryResult = { acks: [], responses: [] };
    const seen = { acks: new Set<string>(), responses: new Set<string>() };
    const asked = this.#serf.ask(
      name,
      payload,
      { ...options, requestAck: options.requestAck ?? true, timeoutMs },
      {
        // Relays make duplicates on purpose: keep the first of each.
        onAck: (from) => {
          if (seen.acks.has(from)) return;
          seen.acks.add(from);
          result.acks.push(from);
        },
        onResponse: (from, answer) => {
          if (seen.responses.has(from)) return;
          seen.responses.add(from);
          result.responses.push({ from, payload: answer });
          if (result.responses.length === options.expectedResponses) done();
        },
      },
    );
    let done = () => {};
    const finished = new Promise<QueryResult>((resolve) => {
      const timer = setTimeout(() => done(), timeoutMs);
      done = () => {
        clearTimeout(timer);
        this.#pendingQueries.delete(done);
        asked.finish();
        resolve(result);
      };
      this.#pendingQueries.add(done);
    });
    if (asked.local) this.emit('query', asked.local);
    return finished;
  }

  /** Members alive or suspect, this node included: those that hear and answer queries. */
  #liveCount(): number {
    return this.#core.members().filter(isLive).length;
  }

  /** Serf's default: gossip interval × 16 × ceil(log10(n + 1)). */
  #defaultQueryTimeout(): number {
    const n = this.#liveCount();
    return this.#core.config.gossipIntervalMs * 16 * Math.max(1, Math.ceil(Math.log10(n + 1)));
  }

  /** This node's network coordinate (Vivaldi, as Serf's), refined by every direct probe. */
  get coordinate(): Coordinate {
    return this.#coordinates.coordinate;
  }

  /** A member's coordinate as its latest ack carried it (this node's own for itself); undefined if none came yet. */
  coordinateOf(name: string): Coordinate | undefined {
    if (name === this.name) return this.coordinate;
    if (!this.#core.member(name)) {
      this.#memberCoordinates.delete(name);
      this.#coordinates.forgetNode(name);
      return undefined;
    }
    const coordinate = this.#memberCoordinates.get(name);
    return coordinate && { ...coordinate, vec: [...coordinate.vec] };
  }

  /**
   * The round trip (ms) between two members estimated from their coordinates (as `serf rtt`
   * does), `b` defaulting to this node; undefined while either coordinate is unknown.
   */
  estimateRtt(a: string, b: string = this.name): number | undefined {
    const first = this.coordinateOf(a);
    const second = this.coordinateOf(b);
    return first && second ? distanceBetween(first, second) * 1000 : undefined;
  }

  /** This node's encryption keys in base64, the primary first; undefined without encryption. */
  get keys(): string[] | undefined {
    return this.#keyring?.keys.map((key) => Buffer.from(key).toString('base64'));
  }

  /** Installs a key on every member (Serf's `serf keys -install`); members answer how it went. */
  installKey(key: string): Promise<KeyOperationResult> {
    return this.#keyQuery('install-key', key);
  }

  /** Makes an installed key the primary on every member (`serf keys -use`). */
  useKey(key: string): Promise<KeyOperationResult> {
    return this.#keyQuery('use-key', key);
  }

  /** Removes a key from every member (`serf keys -remove`); the primary cannot be removed. */
  removeKey(key: string): Promise<KeyOperationResult> {
    return this.#keyQuery('remove-key', key);
  }

  /** Every member's keys, counted (`serf keys -list`). */
  listKeys(): Promise<KeyOperationResult> {
    return this.#keyQuery('list-keys');
  }

  async #keyQuery(operation: string, key?: string): Promise<KeyOperationResult> {
    this.#assertOpen();
    const payload = key === undefined ? new Uint8Array(0) : encodeSerfKeyRequest(decodeKey(key));
    const members = this.#liveCount();
    // Every live member answers a key query: no need to wait out the timeout once all have, nor for acks (Serf asks none).
    const { responses } = await this.query(`_serf_${operation}`, payload, { expectedResponses: members, requestAck: false });
    return tallyKeyResponses(members, responses);
  }

  /** Replaces this node's tags and announces them. */
  setTags(tags: Record<string, string>): void {
    this.#assertOpen();
    this.#driver.step({ kind: 'setMeta', meta: metaFor(tags) });
  }

  /**
   * Leaves gracefully: Serf's leave intent first (so Serf agents show `left`, not `failed`),
   * then memberlist's own leave; resolves once the announcement has gone out, or rejects when
   * `timeoutMs` (default 5000 ms) ran out first. The node keeps answering until `shutdown()`.
   */
  async leave(timeoutMs = 5000): Promise<void> {
    this.#assertOpen();
    this.#driver.step({ kind: 'broadcast', key: 'serf-intent', payload: this.#serf.leaveIntent(this.name) });
    // Give the intent a gossip round's head start: Serf must see it before the dead message.
    await new Promise((resolve) => setTimeout(resolve, this.#core.config.gossipIntervalMs * 2));
    const timedOut = await new Promise<boolean>((resolve) => {
      this.#leaving = resolve;
      this.#driver.step({ kind: 'leave', timeoutMs });
    });
    if (timedOut) throw new HearsayError(`the leave announcement did not go out within ${timeoutMs} ms`);
  }

  /** Stops at once (peers will see a failure unless `leave()` came first) and frees every socket and timer. */
  shutdown(): Promise<void> {
    this.#closed ??= (async () => {
      for (const done of this.#pendingQueries) done();
      this.#driver.close();
      this.#notices.flush();
      this.#core.stop();
      for (const settle of this.#joins.values()) settle(0, ['node shut down']);
      this.#joins.clear();
      this.#leaving?.(true);
      await closeListeners(this.#listeners, this.#driver.sockets);
    })();
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ShutdownError(`node ${this.name} has been shut down`);
  }

  #onOutput(output: Output): void {
    switch (output.kind) {
      case 'event':
        this.emit(output.event.type satisfies MemberEventType, publicMember(output.event.member));
        break;
      case 'message':
        this.#onUser(output.payload);
        break;
      case 'joined': {
        const settle = this.#joins.get(output.request);
        this.#joins.delete(output.request);
        settle?.(output.contacted, output.errors);
        break;
      }
      case 'left':
        this.#leaving?.(output.timedOut);
        this.#leaving = undefined;
        break;
      case 'notice':
        this.#notices.notice(output.level, output.text);
        break;
      case 'rtt':
        this.emit('rtt', output.member, output.ms);
        if (output.payload && output.payload.length > 0) this.#observeCoordinate(output.member, output.payload, output.ms);
        break;
      case 'protocol':
        this.emit('protocol', output.protocol, output.epoch, output.origin);
        break;
      default:
        break;
    }
  }

  /** A member's coordinate from its ack, and the round trip it took: both refine ours. */
  #observeCoordinate(member: string, payload: Uint8Array, ms: number): void {
    let theirs: Coordinate;
    try {
      theirs = decodeCoordinatePayload(payload);
      this.#coordinates.update(member, theirs, ms / 1000);
    } catch {
      // Not a coordinate we can use (another application's payload, a zero RTT, a forged value out of range): ours stays.
      countDrop(this.#driver.traffic, 'bad-coordinate');
      return;
    }
    this.#memberCoordinates.set(member, theirs);
    // Members reaped from the table are forgotten here too, once they could outnumber the table.
    if (this.#memberCoordinates.size > this.#core.config.maxMembers) {
      for (const name of this.#memberCoordinates.keys()) {
        if (this.#core.member(name)) continue;
        this.#memberCoordinates.delete(name);
        this.#coordinates.forgetNode(name);
      }
    }
    this.#driver.step({ kind: 'setAckPayload', payload: encodeCoordinatePayload(this.#coordinates.coordinate) });
  }

  #onUser(payload: Uint8Array): void {
    const arrival = this.#serf.observe(payload);
    if (arrival.kind === 'query') {
      this.emit('query', arrival.query);
      return;
    }
    if (arrival.kind !== 'event' || !arrival.fresh) return;
    // Pass it on, as Serf does, so that it reaches everyone whoever first heard it.
    this.#driver.step({ kind: 'broadcast', key: arrival.key, payload });
    this.emit('message', arrival.payload, arrival.name);
  }
}

/**
 * Creates a node: checks the options, binds its UDP and TCP sockets and, if seeds are given,
 * joins through them. The node runs until `shutdown()` (after `leave()`, to part gracefully).
 *
 * @example
 * const node = await createNode({ name: 'web-1', bind: '0.0.0.0:7946', join: ['10.0.0.2:7946'], tags: { role: 'web' } });
 * node.on('failed', (member) => console.log(`${member.name} failed`));
 *
 * @throws {@link OptionError} for an option it cannot use (unknown, of the wrong type, or out of range).
 * @throws {@link BindError} when the address cannot be bound.
 * @throws {@link JoinError} when seeds were given and none answered.
 */
export async function createNode(options: NodeOptions = {}): Promise<HearsayNode> {
  checkOptions(options);
  const name = options.name ?? hostname();
  if (name.length === 0 || name.length > 255) throw new OptionError('name must be 1 to 255 characters');
  const bind = parseAddress(options.bind ?? DEFAULT_BIND);
  const keyring = options.keys && options.keys.length > 0 ? keyringFrom(options.keys) : undefined;
  const dropRate = options.dropRate ?? 0;
  if (!(dropRate >= 0 && dropRate <= 1)) throw new OptionError(`dropRate must be within 0 … 1, got ${dropRate}`);
  const meta = metaFor(options.tags ?? {});
  const config = resolveConfig(options.profile ?? 'lan', { ...options.config, packetOverheadBytes: keyring ? 29 : 0 });
  const detector = options.protocol ?? 'swim';
  const pinned = checkNames(options.pinned ?? []);

  const listeners = await listen(bind.host, bind.port);
  let advertise: Address;
  try {
    advertise = advertisedAddress(options.advertise, listeners);
  } catch (error) {
    await closeListeners(listeners, []);
    throw error;
  }
  const core = new MemberNode({
    profile: { name, host: advertise.host, port: advertise.port, meta, vsn: DEFAULT_VSN },
    config,
    random: createRandom(randomInt(2 ** 31)),
    now: Date.now(),
    // Unix seconds grow across restarts without saved state (core/restart.ts).
    incarnation: startingIncarnation(Date.now() / 1000),
    detector,
    pinned,
  });
  const node = new HearsayNode(core, listeners, keyring, dropRate);
  if (options.join && options.join.length > 0) {
    try {
      await node.join(options.join);
    } catch (error) {
      await node.shutdown();
      throw error;
    }
  }
  return node;
}

const isText = (value: unknown): value is string => typeof value === 'string';
const isTextList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isText);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What each option must be, as the error says it: TypeScript checks typed callers, this checks the rest. */
const OPTION_SHAPES: { readonly [K in keyof Required<NodeOptions>]: readonly [fits: (value: unknown) => boolean, want: string] } = {
  name: [isText, 'a string'],
  bind: [isText, 'a "host:port" string'],
  advertise: [isText, 'a "host:port" string'],
  join: [isTextList, 'a list of "host:port" strings, like ["10.0.0.1:7946"]'],
  profile: [(value) => isText(value) && isProfileName(value), 'one of "lan", "local", "wan"'],
  config: [isObject, 'an object of protocol settings, like { probeIntervalMs: 500 }'],
  tags: [(value) => isObject(value) && Object.values(value).every(isText), 'an object of strings, like { role: "web" }'],
  keys: [(value) => Array.isArray(value) && value.every((key) => isText(key) || key instanceof Uint8Array), 'a list of keys (base64 strings or bytes)'],
  dropRate: [(value) => typeof value === 'number', 'a number from 0 to 1'],
  protocol: [(value) => (PROTOCOLS as readonly unknown[]).includes(value), `one of ${PROTOCOLS.map((p) => `"${p}"`).join(', ')}`],
  pinned: [isTextList, 'a list of member names'],
};

/** A value as an error message quotes it: JSON, cut short. */
function quoted(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}…` : json;
}

/** Refuses an unknown option, or one of the wrong type (an absent or undefined one is the default). */
function checkOptions(options: unknown): void {
  if (!isObject(options)) throw new OptionError(`createNode takes an options object, like { name: "web-1" }, not ${quoted(options)}`);
  for (const [key, value] of Object.entries(options)) {
    if (!Object.hasOwn(OPTION_SHAPES, key)) throw new OptionError(`unknown option "${key}": createNode takes ${Object.keys(OPTION_SHAPES).join(', ')}`);
    const [fits, want] = OPTION_SHAPES[key as keyof NodeOptions];
    if (value !== undefined && !fits(value)) throw new OptionError(`option "${key}" must be ${want}, not ${quoted(value)}`);
  }
}

function checkProtocol(protocol: unknown): Protocol {
  if (!(PROTOCOLS as readonly unknown[]).includes(protocol)) {
    throw new OptionError(`unknown protocol ${JSON.stringify(protocol)}: use ${PROTOCOLS.join(', ')}`);
  }
  return protocol as Protocol;
}

function checkNames(names: unknown): string[] {
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) {
    throw new OptionError('pinned members must be a list of member names');
  }
  const bad = names.find((name: string) => name.length === 0 || name.length > 255);
  if (bad !== undefined) throw new OptionError(`pinned member name "${bad.slice(0, 40)}" must be 1 to 255 characters`);
  return names;
}

function keyringFrom(keys: (Uint8Array | string)[]): Keyring {
  const bytes = keys.map((key, index) => {
    try {
      return typeof key === 'string' ? decodeKey(key) : checkKeyBytes(key);
    } catch (error) {
      throw new OptionError(`keys[${index}]: ${(error as Error).message}`);
    }
  });
  try {
    return new Keyring(bytes);
  } catch (error) {
    throw new OptionError(`bad encryption key: ${(error as Error).message}`, { cause: error });
  }
}

function metaFor(tags: Record<string, string>): Uint8Array {
  try {
    return encodeTags(tags);
  } catch (error) {
    throw new OptionError(`tags do not fit in the 512 bytes of node meta: ${(error as Error).message}`, { cause: error });
  }
}

/** The advertised address: as given, else the bound one (a wildcard bind picks an interface). */
function advertisedAddress(advertise: string | undefined, listeners: Listeners): Address {
  if (advertise) {
    const address = parseAddress(advertise, listeners.port);
    return { host: address.host, port: address.port || listeners.port };
  }
  if (listeners.host !== '0.0.0.0' && listeners.host !== '::') return { host: listeners.host, port: listeners.port };
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return { host: address.address, port: listeners.port };
    }
  }
  throw new OptionError(`bound to ${formatAddress({ host: listeners.host, port: listeners.port })} but found no address to advertise: pass advertise`);
}

function publicMember(member: CoreMember): Member {
  return {
    name: member.name,
    address: member.host,
    port: member.port,
    status: member.status,
    incarnation: member.incarnation,
    tags: tagsOf(member.meta),
    meta: member.meta,
    since: member.since,
    ...(member.rttMs === undefined ? {} : { rttMs: member.rttMs }),
  };
}

function isLive(member: CoreMember): boolean {
  return member.status === 'alive' || member.status === 'suspect';
}

/** Tags from meta bytes; meta that is not Serf's tag map (another application's) gives none. */
function tagsOf(meta: Uint8Array): Record<string, string> {
  try {
    return decodeTags(meta);
  } catch {
    return {};
  }
}
