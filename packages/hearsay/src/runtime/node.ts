import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createRandom,
  HearsayError,
  type Address,
  type MemberEventType,
  type MemberNode,
  type Output,
  type Protocol,
  type VerdictRecord,
  type ViewSummary,
} from '../core/index.js';
import {
  ConflictAnswers,
  metaFor,
  SerfMember,
  type ConflictTally,
  type Coordinate,
  type KeyOperationResult,
  type QueryOptions,
  type SerfClocks,
  type SerfReport,
} from '../serf/index.js';
import { formatAddress, type Keyring } from '../wire/index.js';
import { checkNames, checkProtocol } from './options.js';
import { Driver } from './driver.js';
import { LiveMemberError, NameConflictError, ShutdownError, UnknownMemberError } from './errors.js';
import { callEachListener } from './listeners.js';
import { NoticeLimiter } from './notice-limiter.js';
import { publicMember } from './public-member.js';
import { Reaper } from './reaper.js';
import { NodeQueries } from './queries.js';
import { nameResolver, type NameResolver } from './resolve.js';
import { SeedJoiner } from './seed-joiner.js';
import type { SnapshotFile } from './snapshot-file.js';
import { countDrop } from './traffic.js';
import { closeListeners, type Listeners } from './transport.js';
import type { HearsayNodeEvents, Member, NodeStats, QueryResult } from './types.js';

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
  /** Serf's layer and coordinates over the core: what reaches the application besides membership. */
  readonly #serf: SerfMember;
  readonly #queries: NodeQueries;
  readonly #keyring: Keyring | undefined;
  readonly #joins = new Map<number, (contacted: number, errors: readonly string[]) => void>();
  #leaving: ((timedOut: boolean) => void) | undefined;
  #nextRequest = 1;
  #closed: Promise<void> | undefined;
  readonly #notices = new NoticeLimiter((level, text) => this.emit('notice', level, text));
  /** Events whose listeners have thrown already: only the first error of each is shown. */
  readonly #failedEvents = new Set<string | symbol>();
  readonly #snapshot: SnapshotFile | undefined;
  readonly #seeds: SeedJoiner;
  readonly #reaper: Reaper;
  /** A seed listed this node's name at another address during a join. */
  #claimedElsewhere: Address | undefined;

  /** Use `createNode`, which checks the options and binds the sockets first. */
  constructor(core: MemberNode, listeners: Listeners, keyring: Keyring | undefined, dropRate: number, discovery: Discovery = {}, snapshot?: SnapshotFile) {
    super();
    this.#core = core;
    this.#listeners = listeners;
    this.#keyring = keyring;
    this.#serf = new SerfMember({
      core,
      step: (input) => this.#driver.step(input),
      now: Date.now,
      random: Math.random,
      coordinateRandom: createRandom(randomInt(2 ** 31)),
      keyring,
      report: (report) => this.#onSerfReport(report),
    });
    this.#reaper = new Reaper(this.#serf);
    this.#queries = new NodeQueries(this.#serf, (query) => this.emit('query', query));
    this.#snapshot = snapshot?.attach(this, this.#serf.layer);
    this.#driver = new Driver({
      core,
      listeners,
      keyring,
      dropRate,
      onOutput: (output) => this.#onOutput(output),
      onStreamUser: (payload) => this.#serf.receiveUser(payload),
      onRemoteState: (message) => this.#serf.receiveState(message),
    });
    this.#seeds = new SeedJoiner({
      resolver: discovery.resolver ?? nameResolver(),
      seedRetryIntervalMs: discovery.seedRetryIntervalMs ?? 0,
      pushPull: (addresses) => this.#serf.layer.joining(() => this.#pushPull(addresses)),
      own: () => ({ bound: this.address, advertised: this.advertised }),
      alone: () => !this.#core.members().some((member) => member.name !== this.name && (member.status === 'alive' || member.status === 'suspect')),
      assertOpen: () => this.#assertOpen(),
      notice: (level, text) => this.#notices.notice(level, text),
    });
    this.#driver.start();
    this.#serf.start();
  }

  /**
   * Calls every listener whatever the others do. What an application's listener throws (or a
   * promise it returns rejects with) is counted in `stats.traffic.dropped['listener-error']` and
   * shown once per event as a notice: it never reaches the socket handler that received the
   * message, where it would end the process.
   */
  override emit<K extends keyof HearsayNodeEvents>(event: K, ...args: HearsayNodeEvents[K]): boolean {
    return callEachListener(this.rawListeners(event), this, args, (error) => this.#listenerFailed(event, error));
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

  /**
   * Every member this node knows, itself included, in any status: failed ones until
   * `reconnectTimeoutMs` and left ones until `tombstoneTimeoutMs` after they departed (then a
   * `reap` event), as Serf lists them.
   */
  members(): Member[] {
    return [...this.#core.members(), ...this.#serf.departed()].map(publicMember);
  }

  /** The member of that name; undefined if this node does not know it (or it was reaped). */
  member(name: string): Member | undefined {
    const member = this.#core.member(name) ?? this.#serf.departed().find((departed) => departed.name === name);
    return member && publicMember(member);
  }

  /**
   * The verdicts this node reached or heard about the member called `name`, oldest first (at most
   * 16): each suspicion with its accuser, this node's probe evidence when it was its own, the
   * confirmations, its health score, and how it ended. Times are epoch milliseconds.
   */
  history(name: string): VerdictRecord[] {
    return this.#core.history(name);
  }

  /** Members this node has reached only through helpers or TCP lately (degraded pairs), since when. */
  degradedPeers(): { member: string; since: number }[] {
    return this.#core.degradedPeers();
  }

  /** This node's view digest, and how the digests its peers sent in the last 10 probe intervals compare. */
  views(): ViewSummary {
    return this.#core.views();
  }

  /** The failure detector in use. */
  get protocol(): Protocol {
    return this.#core.protocol;
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
      serf: structuredClone(this.#serf.layer.stats),
      seeds: { ...this.#seeds.counts },
    };
  }

  /** Serf's Lamport clocks, the last time each has seen: member (intents), event and query (as `serf info` shows them). */
  get clocks(): SerfClocks {
    return this.#serf.layer.clocks;
  }

  /**
   * Joins through seeds by a push/pull with each address they resolve to: `host:port` (an IP or
   * a DNS name, every address of which is tried; no port means 7946) or `dns+srv:name` (SRV
   * records). Resolves with how many answered (0 when the seeds name only this node), or rejects
   * with a JoinError if none did, naming each seed's failure (an OptionError for a seed it cannot
   * read). The seeds of a successful join are kept: while alone, the node tries them again.
   */
  async join(seeds: string[]): Promise<number> {
    this.#assertOpen();
    const contacted = await this.#seeds.join(seeds);
    const claimed = this.#claimedElsewhere;
    if (claimed) {
      this.#claimedElsewhere = undefined;
      throw new NameConflictError(`the name ${this.name} is held by a live member at ${formatAddress(claimed)}: start under another name`, claimed);
    }
    return contacted;
  }

  /**
   * Asks the cluster who holds this node's name, as Serf does on a `conflict` about its own name
   * (`_serf_conflict`): resolves after the query's timeout with how many answers name this
   * node's address, and `keep` false when that is not a majority (Serf's agent then shuts down).
   */
  resolveConflict(): Promise<ConflictTally> {
    this.#assertOpen();
    const answers = new ConflictAnswers();
    const asked = this.#serf.askConflict(answers);
    return new Promise((resolve) =>
      setTimeout(() => {
        asked.finish();
        resolve(answers.tally(this.advertised));
      }, asked.timeoutMs),
    );
  }

  #pushPull(addresses: Address[]): Promise<[contacted: number, errors: readonly string[]]> {
    const request = this.#nextRequest++;
    return new Promise((resolve) => {
      this.#joins.set(request, (contacted, errors) => resolve([contacted, errors]));
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
    this.#serf.broadcastEvent(name, payload);
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
    return this.#queries.query(name, payload, options);
  }

  /** This node's network coordinate (Vivaldi, as Serf's), refined by every direct probe. */
  get coordinate(): Coordinate {
    return this.#serf.coordinates.coordinate;
  }

  /** A member's coordinate as its latest ack carried it (this node's own for itself); undefined if none came yet. */
  coordinateOf(name: string): Coordinate | undefined {
    return this.#serf.coordinates.coordinateOf(name);
  }

  /**
   * The round trip (ms) between two members estimated from their coordinates (as `serf rtt`
   * does), `b` defaulting to this node; undefined while either coordinate is unknown.
   */
  estimateRtt(a: string, b: string = this.name): number | undefined {
    return this.#serf.coordinates.estimateRtt(a, b);
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
    return this.#queries.keyOperation(operation, key);
  }

  /** Replaces this node's tags and announces them. */
  setTags(tags: Record<string, string>): void {
    this.#assertOpen();
    this.#driver.step({ kind: 'setMeta', meta: metaFor(tags) });
  }

  /**
   * Forces a failed member out, as `serf force-leave` does: a leave intent gossiped to the
   * cluster makes it `left` on every member (Serf agents included); with `prune` it is removed
   * at once (a `reap` event). A member already `left` may be pruned. Throws UnknownMemberError
   * for a name not listed here and LiveMemberError for an alive or suspect member (this node too).
   */
  forceLeave(name: string, options: { readonly prune?: boolean } = {}): 'left' | 'pruned' {
    this.#assertOpen();
    const member = this.member(name);
    if (!member) throw new UnknownMemberError(`no member named ${JSON.stringify(name)} is known here`);
    if (member.status === 'alive' || member.status === 'suspect') {
      throw new LiveMemberError(`${name} is ${member.status}: only a failed member can be forced to leave`);
    }
    const prune = options.prune ?? false;
    this.#serf.forceLeave(name, prune);
    this.#reaper.arm();
    return prune ? 'pruned' : 'left';
  }

  /**
   * Leaves gracefully: Serf's leave intent first (so Serf agents show `left`, not `failed`),
   * then memberlist's own leave; resolves once the announcement has gone out, or rejects when
   * `timeoutMs` (default 5000 ms) ran out first. The node keeps answering until `shutdown()`.
   */
  async leave(timeoutMs = 5000): Promise<void> {
    this.#assertOpen();
    this.#seeds.stop();
    await this.#snapshot?.leave();
    const headStartMs = this.#serf.announceLeave();
    await new Promise((resolve) => setTimeout(resolve, headStartMs));
    const timedOut = await new Promise<boolean>((resolve) => {
      this.#leaving = resolve;
      this.#driver.step({ kind: 'leave', timeoutMs });
    });
    if (timedOut) throw new HearsayError(`the leave announcement did not go out within ${timeoutMs} ms`);
  }

  /** Stops at once (peers will see a failure unless `leave()` came first) and frees every socket and timer. */
  shutdown(): Promise<void> {
    this.#closed ??= (async () => {
      this.#seeds.stop();
      this.#reaper.stop();
      this.#queries.finishAll();
      this.#driver.close();
      this.#notices.flush();
      this.#core.stop();
      for (const settle of this.#joins.values()) settle(0, ['node shut down']);
      this.#joins.clear();
      this.#leaving?.(true);
      await Promise.all([closeListeners(this.#listeners, this.#driver.sockets), this.#snapshot?.close()]);
    })();
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ShutdownError(`node ${this.name} has been shut down`);
  }

  #onOutput(output: Output): void {
    switch (output.kind) {
      case 'event': {
        // Serf's layer may tell a move apart from a join (a departed member back at a new address).
        const event = this.#serf.consume(output) ?? output.event;
        this.emit(event.type satisfies MemberEventType, publicMember(event.member));
        this.#reaper.arm();
        break;
      }
      case 'conflict':
        this.#notices.notice('warn', `${formatAddress(output.claimed)} claims the name ${output.name}, held by ${formatAddress(output.known)}: ignored`);
        this.emit('conflict', {
          name: output.name,
          known: { address: output.known.host, port: output.known.port },
          claimed: { address: output.claimed.host, port: output.claimed.port },
        });
        break;
      case 'message':
        this.#serf.consume(output);
        break;
      case 'joined': {
        if (output.conflict) this.#claimedElsewhere = output.conflict.address;
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
        this.#serf.consume(output);
        break;
      case 'protocol':
        this.emit('protocol', output.protocol, output.epoch, output.origin);
        break;
      case 'degraded':
        this.emit('degraded', output.member, output.degraded);
        break;
      default:
        break;
    }
  }

  #onSerfReport(report: SerfReport): void {
    switch (report.kind) {
      case 'event':
        this.emit('message', report.payload, report.name, { ltime: report.ltime, coalesce: report.coalesce });
        break;
      case 'query':
        this.emit('query', report.query);
        break;
      case 'keys':
        this.emit('keys', this.keys!);
        break;
      case 'dropped':
        countDrop(this.#driver.traffic, report.reason);
        break;
      case 'reap':
        this.emit('reap', publicMember(report.member));
        break;
      case 'left':
        this.emit('left', publicMember(report.member));
        this.#reaper.arm();
        break;
    }
  }
}

/** How the node finds its seeds: the resolver for names, and how often to retry them while alone (0: never). */
export interface Discovery {
  readonly resolver?: NameResolver;
  readonly seedRetryIntervalMs?: number;
}
