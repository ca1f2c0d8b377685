import { createHash } from 'node:crypto';
import { RE2JS } from 're2js';
import type { Address, PushPullMessage } from '../core/index.js';
import {
  MAX_QUERY_RESPONSE_BYTES,
  QueryFlag,
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
import { QueryError } from './errors.js';

/** How many recent user events and queries are remembered to recognise repeats. */
const SEEN_MESSAGES = 4096;
/** Serf's EventBuffer: recent events are kept by LTime modulo this, and replayed in push/pulls. */
const EVENT_BUFFER = 512;
const INTERNAL_PREFIX = '_serf_';

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
  /** A member as a `_serf_conflict` answer describes it. */
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
  /** How long to collect answers; default gossipInterval × 16 × ceil(log10(n + 1)), as Serf. */
  readonly timeoutMs?: number;
  /** Only these members answer. */
  readonly nodes?: readonly string[];
  /** Only members whose tag matches the regular expression (RE2 syntax, unanchored) answer. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Members that pass the filters acknowledge receipt. */
  readonly requestAck?: boolean;
  /** Each answer is also relayed through this many other members (0 … 5). */
  readonly relayFactor?: number;
  /** Finish as soon as this many members have answered, rather than at the timeout. */
  readonly expectedResponses?: number;
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

/** A query that reached this node; `respond` answers it once, before its deadline. */
export class IncomingQuery {
  readonly name: string;
  readonly payload: Uint8Array;
  /** The member that asked. */
  readonly from: string;
  readonly ltime: number;
  readonly id: number;
  /** Local time (ms) after which an answer is no longer wanted. */
  readonly deadline: number;
  readonly #layer: SerfLayer;
  readonly #query: SerfQuery;
  #responded = false;

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

  /** Answers the asker (at most 1024 bytes once encoded, as Serf allows). Throws QueryError otherwise. */
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
 * `observe`; sending goes through the host.
 */
export class SerfLayer {
  readonly stats: SerfStats = { queriesReceived: 0, queriesAsked: 0, acksSent: 0, responsesSent: 0, relaysForwarded: 0, keyChanges: 0, eventsFromState: 0, malformed: 0 };
  #ltime = 0;
  #eventLTime = 0;
  #queryLTime = 0;
  readonly #seen = new Set<string>();
  readonly #host: SerfHost;
  /** Queries this node asked that are still collecting, by `ltime:id`. */
  readonly #asked = new Map<string, QueryCollector>();
  /** Recent events, slot = LTime modulo EVENT_BUFFER, as Serf keeps them. */
  readonly #recentEvents: ({ ltime: number; events: { name: string; payload: Uint8Array }[] } | undefined)[] = new Array(EVENT_BUFFER);

  constructor(host: SerfHost) {
    this.#host = host;
  }

  get ltime(): number {
    return this.#ltime;
  }

  observe(payload: Uint8Array): SerfArrival {
    try {
      switch (payload[0]) {
        case SerfMessageType.query:
          return this.#onQuery(payload, decodeSerfQuery(payload));
        case SerfMessageType.queryResponse:
          this.#onQueryResponse(decodeSerfQueryResponse(payload));
          return { kind: 'handled' };
        case SerfMessageType.relay: {
          const relay = decodeSerfRelay(payload);
          const to = { host: relay.host, port: relay.port };
          // Serf forwards to any address; forwarding only to members keeps this node from being a reflector.
          if (!this.#host.isMemberAddress(to)) return { kind: 'handled' };
          this.stats.relaysForwarded++;
          this.#host.sendTo(to, relay.inner);
          return { kind: 'handled' };
        }
        default:
          return this.#onMessage(payload);
      }
    } catch {
      this.stats.malformed++;
      return { kind: 'other' };
    }
  }

  #onMessage(payload: Uint8Array): SerfArrival {
    const message = decodeSerfMessage(payload);
    switch (message.type) {
      case 'leave':
      case 'join':
        this.#ltime = Math.max(this.#ltime, message.ltime);
        return { kind: 'intent' };
      case 'event': {
        const arrival = this.#onEvent(message.ltime, message.name, message.payload);
        if (arrival.fresh) this.#publishState();
        return arrival;
      }
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
    const state = parseSerfUserState(message.userState);
    if (!state) return [];
    this.#ltime = Math.max(this.#ltime, state.ltime);
    this.#eventLTime = Math.max(this.#eventLTime, state.eventLTime);
    this.#queryLTime = Math.max(this.#queryLTime, state.queryLTime);
    const fresh = [];
    for (const slot of state.events) {
      for (const event of slot.events) {
        const arrival = this.#onEvent(slot.ltime, event.name, event.payload);
        if (arrival.fresh) fresh.push(arrival);
      }
    }
    if (fresh.length > 0) this.#publishState();
    if (!message.join) this.stats.eventsFromState += fresh.length;
    // A joining node does not replay the cluster's past events (Serf's agent default, no -replay).
    return message.join ? [] : fresh;
  }

  #onEvent(ltime: number, name: string, payload: Uint8Array): Extract<SerfArrival, { kind: 'event' }> {
    this.#eventLTime = Math.max(this.#eventLTime, ltime);
    const key = eventKey(ltime, name, payload);
    const fresh = this.#remember(key) && this.#keepRecent(ltime, name, payload);
    return { kind: 'event', name, payload, key, fresh };
  }

  /** Files an event in the recent-event buffer; false when it is too old to be kept, as Serf drops those. */
  #keepRecent(ltime: number, name: string, payload: Uint8Array): boolean {
    if (this.#eventLTime > EVENT_BUFFER && ltime < this.#eventLTime - EVENT_BUFFER) return false;
    const index = ltime % EVENT_BUFFER;
    let slot = this.#recentEvents[index];
    if (!slot || slot.ltime !== ltime) this.#recentEvents[index] = slot = { ltime, events: [] };
    slot.events.push({ name, payload });
    return true;
  }

  /** Hands the host the state to send with push/pulls: once per change, not once per event filed. */
  #publishState(): void {
    this.#host.setUserState(
      encodeSerfUserState({
        ltime: this.#ltime,
        eventLTime: this.#eventLTime,
        queryLTime: this.#queryLTime,
        events: this.#recentEvents.filter((recent) => recent !== undefined),
      }),
    );
  }

  /** A leave intent for `node`, stamped after everything seen so far. */
  leaveIntent(node: string): Uint8Array {
    this.#ltime++;
    return encodeSerfLeave({ ltime: this.#ltime, node, prune: false });
  }

  /** A new user event, and the key under which it is disseminated and recognised. */
  userEvent(name: string, payload: Uint8Array): { bytes: Uint8Array; key: string } {
    this.#eventLTime++;
    const key = eventKey(this.#eventLTime, name, payload);
    this.#remember(key);
    this.#keepRecent(this.#eventLTime, name, payload);
    this.#publishState();
    return { bytes: encodeSerfUserEvent({ ltime: this.#eventLTime, name, payload, coalesce: false }), key };
  }

  /**
   * Asks the cluster: gossips the query and handles it here too (this node acks and answers
   * its own queries, as Serf does). Answers go to `collector` until `finish` is called.
   */
  ask(name: string, payload: Uint8Array, options: QueryOptions & { timeoutMs: number }, collector: QueryCollector): AskedQuery {
    this.#queryLTime++;
    this.stats.queriesAsked++;
    const query: SerfQuery = {
      ltime: this.#queryLTime,
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
    this.#asked.set(key, collector);
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

  #onQuery(payload: Uint8Array, query: SerfQuery): SerfArrival {
    this.#queryLTime = Math.max(this.#queryLTime, query.ltime);
    if (!this.#remember(queryKey(query))) return { kind: 'handled' };
    this.stats.queriesReceived++;
    if ((query.flags & QueryFlag.noBroadcast) === 0) this.#host.broadcast(queryKey(query), payload);
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

  #answer(query: SerfQuery, response: SerfQueryResponse, bytes: Uint8Array): void {
    const asker = { host: query.host, port: query.port };
    // A forged query naming someone else's address would turn every member into a reflector.
    if (!this.#host.isMemberAddress(asker)) return;
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

  #onQueryResponse(response: SerfQueryResponse): void {
    const collector = this.#asked.get(`query:${response.ltime}:${response.id}`);
    if (!collector) return;
    if ((response.flags & QueryFlag.ack) !== 0) collector.onAck(response.from);
    else collector.onResponse(response.from, response.payload);
  }

  /** Serf's filter rules: every filter must pass; an unknown filter type fails. */
  #passes(filters: readonly QueryFilter[]): boolean {
    const tags = this.#host.tags();
    return filters.every((filter) => {
      switch (filter.kind) {
        case 'nodes':
          return filter.names.includes(this.#host.name);
        case 'tag':
          try {
            // RE2, as Go's regexp: linear time, so a hostile pattern cannot stall the node.
            return RE2JS.compile(filter.expr).matcher(tags[filter.tag] ?? '').find();
          } catch {
            return false;
          }
        case 'unknown':
          return false;
      }
    });
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

  /** Records a key; false if it was already known. */
  #remember(key: string): boolean {
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > SEEN_MESSAGES) this.#seen.delete(this.#seen.values().next().value!);
    return true;
  }
}

function eventKey(ltime: number, name: string, payload: Uint8Array): string {
  return `event:${ltime}:${name}:${createHash('sha1').update(payload).digest('base64')}`;
}

function queryKey(query: { ltime: number; id: number }): string {
  return `query:${query.ltime}:${query.id}`;
}
