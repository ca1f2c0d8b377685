import { createHash } from 'node:crypto';
import { RE2JS } from 're2js';
import type { Address, PushPullMessage } from '../core/index.js';
import {
  MAX_QUERY_RESPONSE_BYTES,
  QueryFlag,
  decodeSerfKeyResponse,
  SerfMessageType,
  decodeSerfKeyRequest,
  decodeSerfMessage,
  decodeSerfQuery,
  decodeSerfQueryResponse,
  decodeSerfRelay,
  encodeSerfConflictResponse,
  encodeSerfKeyResponse,
  encodeSerfLeave,
  encodeSerfQuery,
  encodeSerfQueryResponse,
  encodeSerfRelay,
  encodeSerfUserEvent,
  encodeSerfUserState,
  parseSerfUserState,
  type Keyring,
  type QueryFilter,
  type SerfConflictMember,
  type SerfKeyResponse,
  type SerfQuery,
  type SerfQueryResponse,
} from '../wire/index.js';
import { OptionError } from '../core/errors.js';
import { QueryError } from './errors.js';
import { countDrop } from './traffic.js';

/**
 * Serf's EventBuffer and QueryBuffer: recent events and queries are remembered by LTime modulo
 * this (events are also replayed in push/pulls), and those older than the clock minus this are refused.
 */
const EVENT_BUFFER = 512;
const QUERY_BUFFER = 512;
/** Distinct events, and queries, remembered at one LTime: Serf keeps any number, so one peer could grow a slot without end. */
const EVENTS_PER_LTIME = 64;
const QUERIES_PER_LTIME = 256;
/** Serf's ceiling on a user event's name + payload (UserEventSizeLimit may be configured up to it, never past). */
export const MAX_USER_EVENT_BYTES = 9 * 1024;
/** Name + payload bytes of the recent events replayed in push/pulls; past it, events are remembered but not replayed. */
const REPLAY_BYTES = 256 * 1024;
/** Bytes of push/pull state encoded per second: a flood of fresh events cannot make each one re-encode the whole buffer. */
const PUBLISH_BYTES_PER_SECOND = 2 * 1024 * 1024;
/** A peer's push/pull user state past this size is not read (ours stays under REPLAY_BYTES plus framing). */
const MAX_USER_STATE_BYTES = 2 * 1024 * 1024;
/** Serf sends its messages in UDP datagrams: anything larger was never sent by a Serf or hearsay node. */
const MAX_SERF_MESSAGE_BYTES = 65_507;
/** Filters in one query, and characters in one tag filter's regular expression. */
const MAX_QUERY_FILTERS = 16;
const MAX_FILTER_EXPR_CHARS = 256;
/** RE2 instructions compiled per second for peers' tag filters (about 3 µs each): costly patterns get a bounded share of the CPU. */
const FILTER_COMPILE_BUDGET = 20_000;
/** Compiled tag filters kept, so that the same filter asked again costs nothing. */
const FILTER_CACHE_SIZE = 64;
/** Relays one answer goes through at most (Consul's cap, and hearsay's own; Serf's CLI lets a query ask up to 255). */
const MAX_RELAY_FACTOR = 5;
/** How long a peer's query may keep an answer wanted (Go's Timeout reaches 292 years). */
const MAX_QUERY_TIMEOUT_MS = 3_600_000;
/** Keys one member may report in a key answer (Serf trims its answers to 1 KiB: a dozen keys). */
const MAX_KEYS_PER_ANSWER = 64;
const INTERNAL_PREFIX = '_serf_';
const KEY_QUERIES = new Set(['_serf_install-key', '_serf_use-key', '_serf_remove-key', '_serf_list-keys']);
const UINT64 = 1n << 64n;

/**
 * Serf's LamportClock, exactly: a Go uint64 that wraps at 2^64. Witnessing a time not older than
 * the clock moves the clock one past it (so a witnessed 2^64 − 1 wraps it to 0, as in Go).
 */
export class LamportClock {
  // Serf starts its clocks at 1, so that no message of its own carries LTime 0.
  #time = 1n;

  get time(): bigint {
    return this.#time;
  }

  increment(): bigint {
    this.#time = (this.#time + 1n) % UINT64;
    return this.#time;
  }

  witness(ltime: bigint): void {
    if (ltime >= this.#time) this.#time = (ltime + 1n) % UINT64;
  }

  /** The time a new message carries: the current time, then one tick (Serf's `Time()` then `Increment()`). */
  stamp(): bigint {
    const ltime = this.#time;
    this.increment();
    return ltime;
  }
}

/** Serf's rule for a message too old to remember: more than a buffer's length behind the clock (uint64 order, as Go compares). */
function tooOld(ltime: bigint, clock: bigint, buffer: number): boolean {
  const span = BigInt(buffer);
  return clock > span && ltime < clock - span;
}

/** The events seen at one LTime: digests to recognise repeats, and those kept to replay in push/pulls. */
interface EventSlot {
  readonly ltime: bigint;
  readonly digests: string[];
  readonly replay: { name: string; payload: Uint8Array }[];
  replayBytes: number;
}

/** The query IDs seen at one LTime. */
interface QuerySlot {
  readonly ltime: bigint;
  readonly ids: number[];
}

/** A query this node asked, still collecting. */
interface AskedEntry {
  readonly collector: QueryCollector;
  /** A `_serf_*-key(s)` query: its answers must be key answers of a sane size. */
  readonly keyQuery: boolean;
}

/** What the Serf layer needs from the node it runs in. */
export interface SerfHost {
  readonly name: string;
  /** Where answers to this node's queries must be sent: its advertised address. */
  readonly address: Address;
  tags(): Readonly<Record<string, string>>;
  /** Sends a Serf message straight to an address, as a memberlist user message in one UDP packet. */
  sendTo(to: Address, payload: Uint8Array): void;
  /** Gossips a Serf message to every member (replacing an earlier one with the same key). */
  broadcast(key: string, payload: Uint8Array): void;
  /** Alive members other than this node: candidates to relay an answer. */
  peers(): readonly { name: string; address: Address }[];
  /** Whether a live member (this node included) is at this address: the only places answers and relays go. */
  isMemberAddress(address: Address): boolean;
  /** A member as a `_serf_conflict` answer describes it; undefined for a name unknown here (whose query answers are not taken). */
  member(name: string): SerfConflictMember | undefined;
  readonly keyring: Keyring | undefined;
  /** A key query changed the keyring. */
  keysChanged(): void;
  /** The state to send with every push/pull changed (Serf's user state: clocks and recent events). */
  setUserState(state: Uint8Array): void;
  now(): number;
  /** Uniform in [0, 1). */
  random(): number;
}

/** What the Serf layer has done since the node started (cumulative). */
export interface SerfStats {
  /** Distinct queries that reached this node (its own included). */
  queriesReceived: number;
  /** Queries this node asked. */
  queriesAsked: number;
  /** Acks this node sent to queries that asked for them. */
  acksSent: number;
  /** Answers sent (application and internal queries). */
  responsesSent: number;
  /** Answers relayed on for other members. */
  relaysForwarded: number;
  /** Keyring changes made by key queries. */
  keyChanges: number;
  /** Events first learnt from a peer's push/pull state rather than by gossip. */
  eventsFromState: number;
  /** Serf messages that could not be decoded, dropped. */
  malformed: number;
  /** Serf messages (or parts of them) refused by a bound, by reason. */
  dropped: Record<string, number>;
}

/** What a user payload turned out to be, for the node to act on. */
export type SerfArrival =
  | { readonly kind: 'intent' }
  | { readonly kind: 'event'; readonly name: string; readonly payload: Uint8Array; readonly key: string; readonly fresh: boolean }
  /** A new application query this node passes the filters of: the application may answer it. */
  | { readonly kind: 'query'; readonly query: IncomingQuery }
  /** Taken care of here: query traffic, relays, internal queries, repeats. */
  | { readonly kind: 'handled' }
  | { readonly kind: 'other' };

/** What a query asks for, beyond its name and payload. */
export interface QueryOptions {
  /** How long to collect answers, in ms (1 … 3 600 000); default gossipInterval × 16 × ceil(log10(n + 1)), as Serf. */
  readonly timeoutMs?: number;
  /** Only these members answer (by name); default: every member. */
  readonly nodes?: readonly string[];
  /** Only members whose tag matches the regular expression (RE2 syntax, as Go's, unanchored) answer; at most 16 filters, 256 characters each. An expression that does not compile is an OptionError. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Members that pass the filters acknowledge receipt; default true, as `serf query` (Serf's Go library defaults to false). */
  readonly requestAck?: boolean;
  /** Each answer is also relayed through this many other members (0 … 5; default 0), for lossy networks. */
  readonly relayFactor?: number;
  /** Finish as soon as this many members have answered, rather than at the timeout; default: wait for the timeout. */
  readonly expectedResponses?: number;
}

/**
 * Refuses, as an OptionError, the filters of a query that no member could apply: a tag's regular
 * expression that RE2 (Go's syntax, which Serf uses) does not compile, or that is longer than
 * members try, or more filters than members take a query with.
 */
export function checkQueryFilters(options: QueryOptions): void {
  const { nodes, tags } = options;
  if (nodes !== undefined && !(Array.isArray(nodes) && nodes.every((name) => typeof name === 'string'))) {
    throw new OptionError('nodes must be a list of member names');
  }
  if (tags !== undefined && !(typeof tags === 'object' && tags !== null && Object.values(tags).every((expr) => typeof expr === 'string'))) {
    throw new OptionError('tags must be an object of tag name → regular expression, like { role: "^web" }');
  }
  const filters = Object.entries(tags ?? {});
  if (filters.length + (nodes && nodes.length > 0 ? 1 : 0) > MAX_QUERY_FILTERS) {
    throw new OptionError(`a query takes at most ${MAX_QUERY_FILTERS} filters (each tag one, the node list one): members drop it with more`);
  }
  for (const [tag, expr] of filters) {
    if (expr.length > MAX_FILTER_EXPR_CHARS) {
      throw new OptionError(`the filter for tag "${tag}" is ${expr.length} characters long: members try at most ${MAX_FILTER_EXPR_CHARS}`);
    }
    try {
      RE2JS.compile(expr);
    } catch (error) {
      throw new OptionError(`the filter for tag "${tag}" is not a regular expression (RE2 syntax, as Go's): ${(error as Error).message}`);
    }
  }
}

/** Called for each ack and each answer to a query this node asked, until it is finished. */
export interface QueryCollector {
  onAck(from: string): void;
  onResponse(from: string, payload: Uint8Array): void;
}

/** A query this node asked: the application's own copy of it, and how to stop collecting answers. */
export interface AskedQuery {
  /** For this node's own 'query' listeners, when it passes its own filters. */
  readonly local: IncomingQuery | undefined;
  readonly finish: () => void;
}

/** A query that reached this node, as 'query' listeners get it; `respond` answers it once, before its deadline. */
export class IncomingQuery {
  /** The query's name (Serf's; `serf query NAME`). */
  readonly name: string;
  /** What the asker sent with it. */
  readonly payload: Uint8Array;
  /** The member that asked (named in the query itself, whoever relayed it). */
  readonly from: string;
  /** The query's Lamport time: a Go uint64, hence a bigint (`String(ltime)` for JSON or an environment). */
  readonly ltime: bigint;
  /** The asker's random ID for the query: with `ltime`, what tells queries apart. */
  readonly id: number;
  /** Local time (ms) after which an answer is no longer wanted. */
  readonly deadline: number;
  readonly #layer: SerfLayer;
  readonly #query: SerfQuery;
  #responded = false;

  /** Made by the node for each query that reaches it; applications only receive them. */
  constructor(layer: SerfLayer, query: SerfQuery, now: number) {
    this.#layer = layer;
    this.#query = query;
    this.name = query.name;
    this.payload = query.payload;
    this.from = query.sourceNode;
    this.ltime = query.ltime;
    this.id = query.id;
    this.deadline = now + query.timeoutMs;
  }

  /** Answers the asker (at most 1024 bytes once encoded, as Serf allows). Throws a QueryError for a second answer, one past the deadline, or one too large. */
  respond(payload: Uint8Array): void {
    if (this.#responded) throw new QueryError(`query "${this.name}" has already been answered`);
    this.#layer.respond(this.#query, this.deadline, payload);
    this.#responded = true;
  }
}

/**
 * Serf's layer as a hearsay node speaks it, to be an ordinary member of a Serf cluster and to
 * offer Serf's features between hearsay nodes: the Lamport clocks of intents, events and
 * queries (so that our leave intent, events and queries are newer than what Serf holds); user
 * events, which carry hearsay's broadcasts; and queries — answered with acks, application
 * responses and relays, and the internal `_serf_ping`, `_serf_conflict` and key management
 * queries (`serf keys` reaches hearsay nodes). Every Serf message arrives here through
 * `observe`; sending goes through the host. What a peer can make it hold or do is bounded (the
 * constants above), and what passes a bound is counted in `stats.dropped` by reason.
 */
export class SerfLayer {
  readonly stats: SerfStats = {
    queriesReceived: 0,
    queriesAsked: 0,
    acksSent: 0,
    responsesSent: 0,
    relaysForwarded: 0,
    keyChanges: 0,
    eventsFromState: 0,
    malformed: 0,
    dropped: {},
  };
  /** Serf's three clocks: member intents, user events, queries. */
  readonly #clock = new LamportClock();
  readonly #eventClock = new LamportClock();
  readonly #queryClock = new LamportClock();
  readonly #host: SerfHost;
  /** Queries this node asked that are still collecting, by `ltime:id`. */
  readonly #asked = new Map<string, AskedEntry>();
  /** Recent events and queries, slot = LTime modulo the buffer length, as Serf keeps them. */
  readonly #events: (EventSlot | undefined)[] = new Array(EVENT_BUFFER);
  readonly #queries: (QuerySlot | undefined)[] = new Array(QUERY_BUFFER);
  #replayBytes = 0;
  /** The push/pull state changed since it was last handed to the host. */
  #stateDirty = false;
  #publishBudget = PUBLISH_BYTES_PER_SECOND;
  #publishBudgetAt: number;
  /** Compiled tag filters by expression (null: it does not compile), oldest first. */
  readonly #filters = new Map<string, RE2JS | null>();
  #compileBudget = FILTER_COMPILE_BUDGET;
  #compileBudgetAt: number;

  constructor(host: SerfHost) {
    this.#host = host;
    this.#publishBudgetAt = this.#compileBudgetAt = host.now();
  }

  /** The member clock (Serf's `clock`): a leave intent carries it. */
  get ltime(): bigint {
    return this.#clock.time;
  }

  observe(payload: Uint8Array): SerfArrival {
    if (payload.length > MAX_SERF_MESSAGE_BYTES) {
      this.#drop('serf-message-oversized');
      return { kind: 'other' };
    }
    try {
      switch (payload[0]) {
        case SerfMessageType.query:
          return this.#onQuery(payload, decodeSerfQuery(payload));
        case SerfMessageType.queryResponse:
          this.#onQueryResponse(decodeSerfQueryResponse(payload));
          return { kind: 'handled' };
        case SerfMessageType.relay:
          this.#onRelay(payload);
          return { kind: 'handled' };
        default:
          return this.#onMessage(payload);
      }
    } catch {
      this.stats.malformed++;
      return { kind: 'other' };
    } finally {
      this.#flushState();
    }
  }

  #onRelay(payload: Uint8Array): void {
    const relay = decodeSerfRelay(payload);
    const to = { host: relay.host, port: relay.port };
    // Serf forwards any message to any address; only answers, and only to members, keep this node from being a reflector.
    if (relay.inner[0] !== SerfMessageType.queryResponse) {
      this.#drop('relay-not-response');
      return;
    }
    if (!this.#host.isMemberAddress(to)) {
      this.#drop('relay-to-stranger');
      return;
    }
    this.stats.relaysForwarded++;
    this.#host.sendTo(to, relay.inner);
  }

  #onMessage(payload: Uint8Array): SerfArrival {
    const message = decodeSerfMessage(payload);
    switch (message.type) {
      case 'leave':
      case 'join':
        // Serf records intents per member; hearsay keeps no intent state, only the clock moves.
        this.#clock.witness(message.ltime);
        return { kind: 'intent' };
      case 'event':
        return this.#onEvent(message.ltime, message.name, message.payload);
      case 'other':
        return { kind: 'other' };
    }
  }

  /**
   * A peer's push/pull state: its clocks, and the recent events it holds. Returns the events new
   * here — delivered late rather than never; like Serf, not gossiped on from there. Events in a
   * join's exchange are only recorded as seen.
   */
  observeState(message: PushPullMessage): Extract<SerfArrival, { kind: 'event' }>[] {
    if (message.userState.length === 0) return [];
    if (message.userState.length > MAX_USER_STATE_BYTES) {
      this.#drop('state-oversized');
      return [];
    }
    const state = parseSerfUserState(message.userState);
    if (!state) return [];
    // As Serf: one less, since no message carries the sender's current time yet.
    if (state.ltime > 0n) this.#clock.witness(state.ltime - 1n);
    if (state.eventLTime > 0n) this.#eventClock.witness(state.eventLTime - 1n);
    if (state.queryLTime > 0n) this.#queryClock.witness(state.queryLTime - 1n);
    const fresh = [];
    // Serf sends EventBuffer slots, holding no more events than a slot here keeps: the excess is skipped unread.
    let excess = state.events.length > EVENT_BUFFER;
    for (const slot of state.events.slice(0, EVENT_BUFFER)) {
      excess ||= slot.events.length > EVENTS_PER_LTIME;
      for (const event of slot.events.slice(0, EVENTS_PER_LTIME)) {
        const arrival = this.#onEvent(slot.ltime, event.name, event.payload);
        if (arrival.fresh) fresh.push(arrival);
      }
    }
    if (excess) this.#drop('state-events-skipped');
    this.#flushState();
    if (!message.join) this.stats.eventsFromState += fresh.length;
    // A joining node does not replay the cluster's past events (Serf's agent default, no -replay).
    return message.join ? [] : fresh;
  }

  /** Serf's handleUserEvent: witness the time, refuse what is too old, remember the rest once. */
  #onEvent(ltime: bigint, name: string, payload: Uint8Array): Extract<SerfArrival, { kind: 'event' }> {
    const size = Buffer.byteLength(name) + payload.length;
    const digest = eventDigest(name, payload);
    const arrival = { kind: 'event', name, payload, key: `event:${ltime}:${digest}`, fresh: false } as const;
    if (size > MAX_USER_EVENT_BYTES) {
      this.#drop('event-oversized');
      return arrival;
    }
    this.#eventClock.witness(ltime);
    if (tooOld(ltime, this.#eventClock.time, EVENT_BUFFER)) {
      this.#drop('event-too-old');
      return arrival;
    }
    const index = Number(ltime % BigInt(EVENT_BUFFER));
    let slot = this.#events[index];
    if (slot?.ltime !== ltime) {
      this.#replayBytes -= slot?.replayBytes ?? 0;
      this.#events[index] = slot = { ltime, digests: [], replay: [], replayBytes: 0 };
    }
    if (slot.digests.includes(digest)) return arrival;
    if (slot.digests.length >= EVENTS_PER_LTIME) {
      this.#drop('event-ltime-full');
      return arrival;
    }
    slot.digests.push(digest);
    if (this.#replayBytes + size <= REPLAY_BYTES) {
      slot.replay.push({ name, payload });
      slot.replayBytes += size;
      this.#replayBytes += size;
      this.#stateDirty = true;
    } else {
      // Still delivered and recognised if repeated; only the push/pull replay misses it.
      this.#drop('event-replay-full');
    }
    return { ...arrival, fresh: true };
  }

  /**
   * Hands the host the state to send with push/pulls (clocks and recent events) once it changed,
   * within a byte budget per second; past it, the state waits for the next message to go out.
   */
  #flushState(): void {
    if (!this.#stateDirty) return;
    const now = this.#host.now();
    const elapsed = Math.max(0, now - this.#publishBudgetAt);
    this.#publishBudget = Math.min(PUBLISH_BYTES_PER_SECOND, this.#publishBudget + (elapsed * PUBLISH_BYTES_PER_SECOND) / 1000);
    this.#publishBudgetAt = now;
    if (this.#publishBudget <= 0) return;
    const state = encodeSerfUserState({
      ltime: this.#clock.time,
      eventLTime: this.#eventClock.time,
      queryLTime: this.#queryClock.time,
      events: this.#events.flatMap((slot) => (slot && slot.replay.length > 0 ? [{ ltime: slot.ltime, events: slot.replay }] : [])),
    });
    this.#publishBudget -= state.length;
    this.#stateDirty = false;
    this.#host.setUserState(state);
  }

  /** A leave intent for `node`, stamped after everything seen so far. */
  leaveIntent(node: string): Uint8Array {
    return encodeSerfLeave({ ltime: this.#clock.stamp(), node, prune: false });
  }

  /** A new user event, and the key under which it is disseminated and recognised. Throws OptionError past Serf's size ceiling. */
  userEvent(name: string, payload: Uint8Array): { bytes: Uint8Array; key: string } {
    const size = Buffer.byteLength(name) + payload.length;
    if (size > MAX_USER_EVENT_BYTES) {
      throw new OptionError(`a user event's name and payload take ${size} bytes, over Serf's limit of ${MAX_USER_EVENT_BYTES}`);
    }
    const ltime = this.#eventClock.stamp();
    const { key } = this.#onEvent(ltime, name, payload);
    this.#flushState();
    return { bytes: encodeSerfUserEvent({ ltime, name, payload, coalesce: false }), key };
  }

  /**
   * Asks the cluster: gossips the query and handles it here too (this node acks and answers
   * its own queries, as Serf does). Answers go to `collector` until `finish` is called.
   */
  ask(name: string, payload: Uint8Array, options: QueryOptions & { timeoutMs: number }, collector: QueryCollector): AskedQuery {
    this.stats.queriesAsked++;
    const query: SerfQuery = {
      ltime: this.#queryClock.stamp(),
      id: Math.floor(this.#host.random() * 2 ** 32),
      host: this.#host.address.host,
      port: this.#host.address.port,
      sourceNode: this.#host.name,
      filters: [
        ...(options.nodes && options.nodes.length > 0 ? [{ kind: 'nodes', names: options.nodes } as const] : []),
        ...Object.entries(options.tags ?? {}).map(([tag, expr]) => ({ kind: 'tag', tag, expr }) as const),
      ],
      flags: options.requestAck ? QueryFlag.ack : 0,
      relayFactor: options.relayFactor ?? 0,
      timeoutMs: options.timeoutMs,
      name,
      payload,
    };
    const key = queryKey(query);
    this.#asked.set(key, { collector, keyQuery: KEY_QUERIES.has(name) });
    const arrival = this.#onQuery(encodeSerfQuery(query), query);
    return { local: arrival.kind === 'query' ? arrival.query : undefined, finish: () => this.#asked.delete(key) };
  }

  /** Sends an answer to `query` straight to its asker, and through relays if it asked for them. */
  respond(query: SerfQuery, deadline: number, payload: Uint8Array): void {
    if (this.#host.now() > deadline) throw new QueryError(`query "${query.name}" is past its deadline`);
    const response = { ltime: query.ltime, id: query.id, from: this.#host.name, flags: 0, payload };
    const bytes = encodeSerfQueryResponse(response);
    if (bytes.length > MAX_QUERY_RESPONSE_BYTES) {
      throw new QueryError(`a query answer of ${bytes.length} bytes encoded is over Serf's limit of ${MAX_QUERY_RESPONSE_BYTES}`);
    }
    this.#answer(query, response, bytes);
    this.stats.responsesSent++;
  }

  /** Serf's handleQuery: witness the time, refuse what is too old, act once on each LTime and ID. */
  #onQuery(payload: Uint8Array, received: SerfQuery): SerfArrival {
    if (received.filters.length > MAX_QUERY_FILTERS) {
      this.#drop('query-filters');
      return { kind: 'handled' };
    }
    this.#queryClock.witness(received.ltime);
    if (tooOld(received.ltime, this.#queryClock.time, QUERY_BUFFER)) {
      this.#drop('query-too-old');
      return { kind: 'handled' };
    }
    const index = Number(received.ltime % BigInt(QUERY_BUFFER));
    let slot = this.#queries[index];
    if (slot?.ltime !== received.ltime) this.#queries[index] = slot = { ltime: received.ltime, ids: [] };
    if (slot.ids.includes(received.id)) return { kind: 'handled' };
    if (slot.ids.length >= QUERIES_PER_LTIME) {
      this.#drop('query-ltime-full');
      return { kind: 'handled' };
    }
    slot.ids.push(received.id);
    this.stats.queriesReceived++;
    if ((received.flags & QueryFlag.noBroadcast) === 0) this.#host.broadcast(queryKey(received), payload);
    const query = this.#bounded(received);
    if (!this.#passes(query.filters)) return { kind: 'handled' };
    if ((query.flags & QueryFlag.ack) !== 0) {
      const ack = { ltime: query.ltime, id: query.id, from: this.#host.name, flags: QueryFlag.ack, payload: new Uint8Array(0) };
      this.#answer(query, ack, encodeSerfQueryResponse(ack));
      this.stats.acksSent++;
    }
    if (query.name.startsWith(INTERNAL_PREFIX)) {
      this.#internal(query);
      return { kind: 'handled' };
    }
    return { kind: 'query', query: new IncomingQuery(this, query, this.#host.now()) };
  }

  /** The query as this node acts on it: at most Serf's 5 relays, an answer wanted for an hour at most. */
  #bounded(query: SerfQuery): SerfQuery {
    if (query.relayFactor <= MAX_RELAY_FACTOR && query.timeoutMs <= MAX_QUERY_TIMEOUT_MS) return query;
    if (query.relayFactor > MAX_RELAY_FACTOR) this.#drop('query-relay-factor');
    if (query.timeoutMs > MAX_QUERY_TIMEOUT_MS) this.#drop('query-timeout');
    const relayFactor = Math.min(query.relayFactor, MAX_RELAY_FACTOR);
    return { ...query, relayFactor, timeoutMs: Math.min(query.timeoutMs, MAX_QUERY_TIMEOUT_MS) };
  }

  #answer(query: SerfQuery, response: SerfQueryResponse, bytes: Uint8Array): void {
    const asker = { host: query.host, port: query.port };
    // A forged query naming someone else's address would turn every member into a reflector.
    if (!this.#host.isMemberAddress(asker)) {
      this.#drop('answer-to-stranger');
      return;
    }
    this.#host.sendTo(asker, bytes);
    if (query.relayFactor === 0) return;
    const relayed = encodeSerfRelay(asker, query.sourceNode, encodeSerfQueryResponse(response));
    const peers = this.#host.peers().filter((peer) => peer.name !== query.sourceNode);
    for (let i = 0; i < Math.min(query.relayFactor, peers.length); i++) {
      // A partial Fisher–Yates: relays through distinct random members.
      const j = i + Math.floor(this.#host.random() * (peers.length - i));
      [peers[i], peers[j]] = [peers[j]!, peers[i]!];
      this.#host.sendTo(peers[i]!.address, relayed);
    }
  }

  /**
   * Acks and answers to a query this node asked. Only members answer (Serf takes any name, up to
   * as many as it has members): a forged flood can add at most one ack and one answer per member.
   */
  #onQueryResponse(response: SerfQueryResponse): void {
    const asked = this.#asked.get(queryKey(response));
    if (!asked) this.#drop('response-unmatched');
    else if (response.from !== this.#host.name && !this.#host.member(response.from)) this.#drop('response-from-stranger');
    else if ((response.flags & QueryFlag.ack) !== 0) asked.collector.onAck(response.from);
    else if (asked.keyQuery && !saneKeyAnswer(response.payload)) this.#drop('key-answer-invalid');
    else asked.collector.onResponse(response.from, response.payload);
  }

  /** Serf's filter rules: every filter must pass; an unknown filter type fails. */
  #passes(filters: readonly QueryFilter[]): boolean {
    const tags = this.#host.tags();
    return filters.every((filter) => {
      switch (filter.kind) {
        case 'nodes':
          return filter.names.includes(this.#host.name);
        case 'tag':
          return (
            this.#tagPattern(filter.expr)
              ?.matcher(tags[filter.tag] ?? '')
              .find() ?? false
          );
        default:
          // Serf's unknown filter types (and later versions' own) match no member.
          return false;
      }
    });
  }

  /**
   * A tag filter compiled (RE2, as Go's regexp: matching is linear, but compiling a large
   * pattern is not free), from the cache or within the compile budget; undefined if refused.
   */
  #tagPattern(expr: string): RE2JS | undefined {
    const cached = this.#filters.get(expr);
    if (cached !== undefined) {
      this.#filters.delete(expr);
      this.#filters.set(expr, cached);
      return cached ?? undefined;
    }
    if (expr.length > MAX_FILTER_EXPR_CHARS) {
      this.#drop('filter-too-long');
      return undefined;
    }
    const now = this.#host.now();
    const elapsed = Math.max(0, now - this.#compileBudgetAt);
    this.#compileBudget = Math.min(FILTER_COMPILE_BUDGET, this.#compileBudget + (elapsed * FILTER_COMPILE_BUDGET) / 1000);
    this.#compileBudgetAt = now;
    if (this.#compileBudget <= 0) {
      this.#drop('filter-compile-budget');
      return undefined;
    }
    let pattern: RE2JS | null;
    try {
      pattern = RE2JS.compile(expr);
      this.#compileBudget -= pattern.programSize();
    } catch {
      pattern = null;
      this.#compileBudget -= expr.length;
    }
    this.#filters.set(expr, pattern);
    if (this.#filters.size > FILTER_CACHE_SIZE) this.#filters.delete(this.#filters.keys().next().value!);
    return pattern ?? undefined;
  }

  #internal(query: SerfQuery): void {
    const respond = (payload: Uint8Array) => {
      try {
        this.respond(query, this.#host.now() + query.timeoutMs, payload);
      } catch {
        // Too late or too large: the asker counts this node as not answering.
      }
    };
    switch (query.name.slice(INTERNAL_PREFIX.length)) {
      case 'conflict': {
        const name = new TextDecoder().decode(query.payload);
        if (name !== this.#host.name) respond(encodeSerfConflictResponse(this.#host.member(name)));
        break;
      }
      case 'install-key':
        respond(encodeSerfKeyResponse(this.#modifyKeyring(query.payload, (ring, key) => ring.addKey(key))));
        break;
      case 'use-key':
        respond(encodeSerfKeyResponse(this.#modifyKeyring(query.payload, (ring, key) => ring.useKey(key))));
        break;
      case 'remove-key':
        respond(encodeSerfKeyResponse(this.#modifyKeyring(query.payload, (ring, key) => ring.removeKey(key))));
        break;
      case 'list-keys':
        respond(encodeSerfKeyResponse(this.#listKeys()));
        break;
      default:
        // `_serf_ping` and queries of later Serf versions: the ack above is the whole answer.
        break;
    }
  }

  #modifyKeyring(payload: Uint8Array, change: (ring: Keyring, key: Uint8Array) => void): SerfKeyResponse {
    const failed = (message: string) => ({ result: false, message, keys: [], primaryKey: '' });
    const ring = this.#host.keyring;
    if (!ring) return failed('No keyring to modify (encryption not enabled)');
    try {
      change(ring, decodeSerfKeyRequest(payload));
    } catch (error) {
      return failed((error as Error).message);
    }
    this.stats.keyChanges++;
    this.#host.keysChanged();
    return { result: true, message: '', keys: [], primaryKey: '' };
  }

  #listKeys(): SerfKeyResponse {
    const ring = this.#host.keyring;
    if (!ring) return { result: false, message: 'Keyring is empty (encryption not enabled)', keys: [], primaryKey: '' };
    const base64 = (key: Uint8Array) => Buffer.from(key).toString('base64');
    return { result: true, message: '', keys: ring.keys.map(base64), primaryKey: base64(ring.primaryKey) };
  }

  #drop(reason: string): void {
    countDrop(this.stats, reason);
  }
}

/** Names an event by its name and payload (length-prefixed: no two pairs run together alike). */
function eventDigest(name: string, payload: Uint8Array): string {
  const nameBytes = Buffer.from(name);
  return createHash('sha1').update(`${nameBytes.length}:`).update(nameBytes).update(payload).digest('base64');
}

function queryKey(query: { ltime: bigint; id: number }): string {
  return `query:${query.ltime}:${query.id}`;
}

const KEY_BYTES = new Set([16, 24, 32]);

function isKey(text: string): boolean {
  const bytes = Buffer.from(text, 'base64');
  return KEY_BYTES.has(bytes.length) && bytes.toString('base64') === text;
}

/**
 * Whether a key answer is one a member could give: a handful of real keys (base64 of 16, 24 or 32
 * bytes). An unreadable answer passes, for the tally to report it as that member's error.
 */
function saneKeyAnswer(payload: Uint8Array): boolean {
  let answer: SerfKeyResponse;
  try {
    answer = decodeSerfKeyResponse(payload);
  } catch {
    return true;
  }
  return answer.keys.length <= MAX_KEYS_PER_ANSWER && answer.keys.every(isKey) && (answer.primaryKey === '' || isKey(answer.primaryKey));
}
