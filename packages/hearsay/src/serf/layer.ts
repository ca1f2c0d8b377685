import type { PushPullMessage } from '../core/index.js';
import { OptionError } from '../core/errors.js';
import { countDrop } from '../core/stats.js';
import {
  MAX_QUERY_RESPONSE_BYTES,
  QueryFlag,
  SerfMessageType,
  decodeSerfMessage,
  decodeSerfQuery,
  decodeSerfQueryResponse,
  decodeSerfRelay,
  encodeSerfConflictResponse,
  encodeSerfJoin,
  encodeSerfKeyResponse,
  encodeSerfLeave,
  encodeSerfQuery,
  encodeSerfQueryResponse,
  encodeSerfUserEvent,
  encodeSerfUserState,
  parseSerfUserState,
  type SerfQuery,
  type SerfQueryResponse,
} from '../wire/index.js';
import { TokenBucket } from '../core/rate-limit.js';
import { QueryError } from './errors.js';
import { EVENT_BUFFER, EVENTS_PER_LTIME, EventBuffer, MAX_USER_EVENT_BYTES } from './events.js';
import type { SerfHost } from './host.js';
import { answerKeyQuery, KEY_QUERIES, saneKeyAnswer } from './keys.js';
import { LamportClock } from './lamport.js';
import { FilterMatcher, MAX_QUERY_FILTERS, queryFilters } from './query-filters.js';
import {
  boundedQuery,
  IncomingQuery,
  QueryBuffer,
  queryKey,
  sendAnswer,
  type AskedQuery,
  type QueryCollector,
  type QueryOptions,
  type QueryResponder,
} from './queries.js';
import type { SerfClocks } from './snapshot.js';
import { createSerfStats, type SerfStats } from './stats.js';

/** Bytes of push/pull state encoded per second: a flood of fresh events cannot make each one re-encode the whole buffer. */
const PUBLISH_BYTES_PER_SECOND = 2 * 1024 * 1024;
/** A peer's push/pull user state past this size is not read (ours stays under the replay bound plus framing). */
const MAX_USER_STATE_BYTES = 2 * 1024 * 1024;
/** Serf sends its messages in UDP datagrams: anything larger was never sent by a Serf or hearsay node. */
const MAX_SERF_MESSAGE_BYTES = 65_507;
const INTERNAL_PREFIX = '_serf_';

/** A query this node asked, still collecting. */
interface AskedEntry {
  readonly collector: QueryCollector;
  /** A `_serf_*-key(s)` query: its answers must be key answers of a sane size. */
  readonly keyQuery: boolean;
}

/** A user event as the layer took it: `fresh` when new here, `key` to gossip it under. */
export type SerfEventArrival = {
  readonly kind: 'event';
  readonly name: string;
  readonly payload: Uint8Array;
  readonly ltime: bigint;
  /** The sender's `-coalesce`: only the newest event of the name need be handled (always false from push/pull state, which does not carry it). */
  readonly coalesce: boolean;
  readonly key: string;
  readonly fresh: boolean;
};

/** What a user payload turned out to be, for the node to act on. */
export type SerfArrival =
  | { readonly kind: 'intent' }
  /** A leave intent about another member: the member decides whether it is news (see LeaveIntents). */
  | { readonly kind: 'leave'; readonly ltime: bigint; readonly node: string; readonly prune: boolean }
  | SerfEventArrival
  /** A new application query this node passes the filters of: the application may answer it. */
  | { readonly kind: 'query'; readonly query: IncomingQuery }
  /** Taken care of here: query traffic, relays, internal queries, repeats. */
  | { readonly kind: 'handled' }
  | { readonly kind: 'other' };

/**
 * Serf's layer as a hearsay node speaks it, to be an ordinary member of a Serf cluster and to
 * offer Serf's features between hearsay nodes: the Lamport clocks of intents, events and
 * queries (so that our leave intent, events and queries are newer than what Serf holds); user
 * events, which carry hearsay's broadcasts; and queries — answered with acks, application
 * responses and relays, and the internal `_serf_ping`, `_serf_conflict` and key management
 * queries (`serf keys` reaches hearsay nodes). Every Serf message arrives here through
 * `observe`; sending goes through the host. What a peer can make it hold or do is bounded, and
 * what passes a bound is counted in `stats.dropped` by reason.
 */
export class SerfLayer implements QueryResponder {
  /** What the layer has done since it started (cumulative, live). */
  readonly stats: SerfStats = createSerfStats();
  /** Serf's member clock, for intents; the event and query clocks are their buffers'. */
  readonly #clock = new LamportClock();
  readonly #queryClock = new LamportClock();
  /** Queries before this time were handled by an earlier run of this node (restored from its snapshot). */
  #queryMinimumTime = 0n;
  readonly #host: SerfHost;
  /** Queries this node asked that are still collecting, by `ltime:id`. */
  readonly #asked = new Map<string, AskedEntry>();
  readonly #drop = (reason: string) => countDrop(this.stats, reason);
  readonly #events = new EventBuffer(this.#drop);
  readonly #queries = new QueryBuffer(this.#drop);
  /** The newest leave intent about this node (its own included): an older one or a repeat is not refuted again. */
  #selfIntentTime = -1n;
  /** This node announced its own leave: a leave intent about it is no longer refuted. */
  #leaving = false;
  /** Joins this node is making itself (Serf's eventJoinIgnore): their exchanges record events as seen only. */
  #ownJoins = 0;
  readonly #filters: FilterMatcher;
  readonly #publishBudget: TokenBucket;

  constructor(host: SerfHost) {
    this.#host = host;
    const now = host.now();
    this.#publishBudget = new TokenBucket(PUBLISH_BYTES_PER_SECOND, now);
    this.#filters = new FilterMatcher(now, this.#drop);
  }

  /** The member clock (Serf's `clock`): a leave intent carries it. */
  get ltime(): bigint {
    return this.#clock.time;
  }

  /** The three clocks as Serf's snapshot saves them: the last time each has seen. */
  get clocks(): SerfClocks {
    return { member: this.#clock.lastSeen, event: this.#events.clock.lastSeen, query: this.#queryClock.lastSeen };
  }

  /**
   * Resumes the clocks an earlier run of this node saved (its snapshot), before it hears anyone:
   * no clock goes back, and events and queries up to the saved times, handled then, are not
   * acted on again (Serf's eventMinTime and queryMinTime).
   */
  restoreClocks(saved: SerfClocks): void {
    this.#clock.witness(saved.member);
    this.#events.clock.witness(saved.event);
    this.#queryClock.witness(saved.query);
    this.#events.minimumTime = this.#events.clock.time;
    this.#queryMinimumTime = this.#queryClock.time;
  }

  /** Handles one Serf message (a memberlist user message), whatever a peer put in it; says what it turned out to be. */
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
        return this.#onLeaveIntent(message.ltime, message.node, message.prune);
      case 'join':
        // A member's join is memberlist's to judge; only the clock moves.
        this.#clock.witness(message.ltime);
        return { kind: 'intent' };
      case 'event':
        return this.#onEvent(message.ltime, message.name, message.payload, message.coalesce);
      case 'other':
        return { kind: 'other' };
    }
  }

  /**
   * Serf's handleNodeLeaveIntent, this node's part: the clock moves; a new intent about this
   * node, still a member, is refuted with a join intent (Serf peers would otherwise keep it
   * `leaving`). One about another member is the member's to apply.
   */
  #onLeaveIntent(ltime: bigint, node: string, prune: boolean): SerfArrival {
    this.#clock.witness(ltime);
    if (node !== this.#host.name) return { kind: 'leave', ltime, node, prune };
    if (ltime > this.#selfIntentTime && !this.#leaving) {
      this.#selfIntentTime = ltime;
      this.#host.broadcast('serf-intent', encodeSerfJoin({ ltime: this.#clock.time, node }));
    }
    return { kind: 'handled' };
  }

  /**
   * While `join` runs, events in join exchanges are only recorded as seen, as Serf's agent joins
   * without -replay: a node that joins does not replay the cluster's past. A reconnect to a failed
   * member after a partition, or a peer joining this node, is not such a join: its events are
   * delivered. Resolves (or rejects) as `join` does.
   */
  async joining<T>(join: () => Promise<T>): Promise<T> {
    this.#ownJoins++;
    try {
      return await join();
    } finally {
      this.#ownJoins--;
    }
  }

  /**
   * A peer's push/pull state: its clocks, and the recent events it holds. Returns the events new
   * here — delivered late rather than never; like Serf, not gossiped on from there.
   */
  observeState(message: PushPullMessage): SerfEventArrival[] {
    if (message.userState.length === 0) return [];
    if (message.userState.length > MAX_USER_STATE_BYTES) {
      this.#drop('state-oversized');
      return [];
    }
    const state = parseSerfUserState(message.userState);
    if (!state) return [];
    // As Serf: one less, since no message carries the sender's current time yet.
    if (state.ltime > 0n) this.#clock.witness(state.ltime - 1n);
    if (state.eventLTime > 0n) this.#events.clock.witness(state.eventLTime - 1n);
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
    if (message.join && this.#ownJoins > 0) return [];
    this.stats.eventsFromState += fresh.length;
    return fresh;
  }

  #onEvent(ltime: bigint, name: string, payload: Uint8Array, coalesce = false): SerfEventArrival {
    return { kind: 'event', name, payload, ltime, coalesce, ...this.#events.record(ltime, name, payload) };
  }

  /**
   * Hands the host the state to send with push/pulls (clocks and recent events) once it changed,
   * within a byte budget per second; past it, the state waits for the next message to go out.
   */
  #flushState(): void {
    if (!this.#events.replayChanged || !this.#publishBudget.available(this.#host.now())) return;
    const state = encodeSerfUserState({
      ltime: this.#clock.time,
      eventLTime: this.#events.clock.time,
      queryLTime: this.#queryClock.time,
      events: this.#events.replay(),
    });
    this.#publishBudget.spend(state.length);
    this.#events.replayChanged = false;
    this.#host.setUserState(state);
  }

  /** This node's own leave intent, stamped after everything seen so far. */
  leaveIntent(): Uint8Array {
    this.#leaving = true;
    return encodeSerfLeave({ ltime: this.#clock.stamp(), node: this.#host.name, prune: false });
  }

  /** A leave intent forced on another member (`serf force-leave`), stamped after everything seen so far. */
  forceLeaveIntent(node: string, prune: boolean): { ltime: bigint; payload: Uint8Array } {
    const ltime = this.#clock.stamp();
    return { ltime, payload: encodeSerfLeave({ ltime, node, prune }) };
  }

  /** A new user event, and the key under which it is disseminated and recognised. Throws OptionError past Serf's size ceiling. */
  userEvent(name: string, payload: Uint8Array): { bytes: Uint8Array; key: string } {
    const size = Buffer.byteLength(name) + payload.length;
    if (size > MAX_USER_EVENT_BYTES) {
      throw new OptionError(`a user event's name and payload take ${size} bytes, over Serf's limit of ${MAX_USER_EVENT_BYTES}`);
    }
    const ltime = this.#events.clock.stamp();
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
      filters: queryFilters(options),
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
    sendAnswer(this.#host, query, response, bytes, this.#drop);
    this.stats.responsesSent++;
  }

  /** Serf's handleQuery: witness the time, refuse what is too old, act once on each LTime and ID. */
  #onQuery(payload: Uint8Array, received: SerfQuery): SerfArrival {
    if (received.filters.length > MAX_QUERY_FILTERS) {
      this.#drop('query-filters');
      return { kind: 'handled' };
    }
    this.#queryClock.witness(received.ltime);
    if (received.ltime < this.#queryMinimumTime) {
      this.#drop('query-seen-before-restart');
      return { kind: 'handled' };
    }
    if (!this.#queries.admit(received, this.#queryClock.time)) return { kind: 'handled' };
    this.stats.queriesReceived++;
    if ((received.flags & QueryFlag.noBroadcast) === 0) this.#host.broadcast(queryKey(received), payload);
    const query = boundedQuery(received, this.#drop);
    if (!this.#filters.passes(query.filters, this.#host.name, this.#host.tags(), this.#host.now())) return { kind: 'handled' };
    if ((query.flags & QueryFlag.ack) !== 0) {
      const ack = { ltime: query.ltime, id: query.id, from: this.#host.name, flags: QueryFlag.ack, payload: new Uint8Array(0) };
      sendAnswer(this.#host, query, ack, encodeSerfQueryResponse(ack), this.#drop);
      this.stats.acksSent++;
    }
    if (query.name.startsWith(INTERNAL_PREFIX)) {
      this.#internal(query);
      return { kind: 'handled' };
    }
    return { kind: 'query', query: new IncomingQuery(this, query, this.#host.now()) };
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

  /** The internal queries: `_serf_conflict` and key management are answered; for `_serf_ping` and later versions' own, the ack is the whole answer. */
  #internal(query: SerfQuery): void {
    const respond = (payload: Uint8Array) => {
      try {
        this.respond(query, this.#host.now() + query.timeoutMs, payload);
      } catch {
        // Too late or too large: the asker counts this node as not answering.
      }
    };
    const operation = query.name.slice(INTERNAL_PREFIX.length);
    if (operation === 'conflict') {
      const name = new TextDecoder().decode(query.payload);
      if (name !== this.#host.name) respond(encodeSerfConflictResponse(this.#host.member(name)));
      return;
    }
    const answer = answerKeyQuery(operation, query.payload, this.#host.keyring, () => {
      this.stats.keyChanges++;
      this.#host.keysChanged();
    });
    if (answer) respond(encodeSerfKeyResponse(answer));
  }
}
