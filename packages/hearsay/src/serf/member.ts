import { OptionError } from '../core/errors.js';
import type { MemberEvent, Output, Random, StreamMessage } from '../core/index.js';
import { countDrop } from '../core/stats.js';
import { MAX_QUERY_BYTES } from '../wire/index.js';
import { CONFLICT_QUERY } from './conflict.js';
import { CoordinateTracker } from './coordinate-tracker.js';
import { type DepartedMember, DepartedMembers } from './departed.js';
import { createSerfHost, isLive, type SerfHostOptions } from './host.js';
import { LeaveIntents } from './intents.js';
import { SerfLayer } from './layer.js';
import type { AskedQuery, IncomingQuery, QueryCollector, QueryOptions } from './queries.js';
import { checkQueryFilters } from './query-filters.js';

/** Gossip rounds a leave intent goes out alone, before the core's leave: enough for it to spread ahead of the dead message. */
const LEAVE_INTENT_HEAD_START_INTERVALS = 2;

/** What a Serf member tells its driver, for the application to see. */
export type SerfReport =
  /** A user event new here (already gossiped on): the application's broadcast message. */
  | { readonly kind: 'event'; readonly name: string; readonly payload: Uint8Array; readonly ltime: bigint; readonly coalesce: boolean }
  /** A query this member passes the filters of; the application may answer it. */
  | { readonly kind: 'query'; readonly query: IncomingQuery }
  /** A key query changed the keyring. */
  | { readonly kind: 'keys' }
  /** Something a peer sent that is refused outside the layer's own counters (a bad coordinate): the driver counts it with its traffic. */
  | { readonly kind: 'dropped'; readonly reason: string }
  /** A failed member unheard of for reconnectTimeoutMs, or one that left tombstoneTimeoutMs ago, is no longer listed (Serf's member-reap); or it was pruned. */
  | { readonly kind: 'reap'; readonly member: DepartedMember }
  /** A failed member that only this layer still lists (the core forgot it) was forced to leave: its `left` event. */
  | { readonly kind: 'left'; readonly member: DepartedMember };

/** A driver's part: the member's core and how to step it, the time, randomness and the keyring, and where reports go. */
export interface SerfMemberOptions extends Omit<SerfHostOptions, 'keysChanged'> {
  /** The Vivaldi client's own draws (a direction between coincident coordinates), apart from `random`'s. */
  readonly coordinateRandom: Random;
  /** Where what the application should see goes. */
  readonly report: (report: SerfReport) => void;
}

/** A query as the application asks it once checked: the timeout it runs for, and how to end it early. */
export interface StartedQuery extends AskedQuery {
  /** How long the query collects answers (ms): the asked timeout or Serf's default. */
  readonly timeoutMs: number;
}

/**
 * One member as Serf runs it: the memberlist core with Serf's layer (clocks, events, queries)
 * and network coordinates on top, with no I/O of its own. A driver (the runtime's sockets, or a
 * simulator) steps the core through `options.step`, hands every output of the core to
 * `consume`, and a peer's push/pull state and stream user messages to `receiveState` and
 * `receiveUser`; what the application should see comes back through `options.report`.
 */
export class SerfMember {
  /** Serf's layer: clocks, events, queries, its stats. */
  readonly layer: SerfLayer;
  /** This member's network coordinate and its peers', from acks. */
  readonly coordinates: CoordinateTracker;
  readonly #options: SerfMemberOptions;
  readonly #departed: DepartedMembers;
  readonly #leaveIntents: LeaveIntents;

  constructor(options: SerfMemberOptions) {
    this.#options = options;
    this.coordinates = new CoordinateTracker(options.core, options.coordinateRandom);
    this.layer = new SerfLayer(createSerfHost({ ...options, keysChanged: () => options.report({ kind: 'keys' }) }));
    const { config, name } = options.core;
    this.#departed = new DepartedMembers({
      selfName: name,
      capacity: config.maxMembers,
      reconnectTimeoutMs: config.reconnectTimeoutMs,
      tombstoneTimeoutMs: config.tombstoneTimeoutMs,
      drop: (reason) => countDrop(this.layer.stats, reason),
    });
    this.#leaveIntents = new LeaveIntents(config.maxMembers, (reason) => countDrop(this.layer.stats, reason));
  }

  /** Puts this member's coordinate in its acks, as Serf's do: call once the driver runs the core. */
  start(): void {
    this.#setAckPayload();
  }

  /**
   * An output of the core: user messages, round trips and member events are Serf's to read; the
   * rest is the driver's. For an `event` output, returns the event as the application should see
   * it: a `join` of a member the core had forgotten, back from a new address, is that member
   * moved, an `update` (as the core reports a move while it still lists the member). After an
   * event, `nextDeadline()` may have changed.
   */
  consume(output: Output): MemberEvent | undefined {
    if (output.kind === 'event') return this.#observeMember(output.event);
    if (output.kind === 'message') this.receiveUser(output.payload);
    else if (output.kind === 'rtt' && output.payload && output.payload.length > 0) {
      if (this.coordinates.observe(output.member, output.payload, output.ms)) this.#setAckPayload();
      else this.#options.report({ kind: 'dropped', reason: 'bad-coordinate' });
    }
  }

  /** A Serf message, from a packet or a stream. A new event is passed on, as Serf does, so that it reaches everyone whoever first heard it. */
  receiveUser(payload: Uint8Array): void {
    const arrival = this.layer.observe(payload);
    if (arrival.kind === 'query') {
      this.#options.report({ kind: 'query', query: arrival.query });
      return;
    }
    if (arrival.kind === 'leave') {
      // Only about a member listed here (forged intents about strangers go no further), and once.
      if (!this.#listed(arrival.node) || !this.#leaveIntents.admit(arrival.node, arrival.ltime)) return;
      this.#options.step({ kind: 'broadcast', key: leaveKey(arrival.node), payload });
      this.#applyLeave(arrival.node, arrival.prune);
      return;
    }
    if (arrival.kind !== 'event' || !arrival.fresh) return;
    this.#options.step({ kind: 'broadcast', key: arrival.key, payload });
    this.#options.report({ kind: 'event', name: arrival.name, payload: arrival.payload, ltime: arrival.ltime, coalesce: arrival.coalesce });
  }

  /** A peer's push/pull, before the core merges it: its clocks, and events missed by gossip. */
  receiveState(message: StreamMessage): void {
    if (message.type !== 'pushPull') return;
    for (const event of this.layer.observeState(message)) {
      this.#options.report({ kind: 'event', name: event.name, payload: event.payload, ltime: event.ltime, coalesce: event.coalesce });
    }
  }

  /**
   * Gossips a user event. Throws an OptionError when name and payload exceed Serf's 9 KiB limit
   * or do not fit in one packet.
   */
  broadcastEvent(name: string, payload: Uint8Array): void {
    const event = this.layer.userEvent(name, payload);
    const udpBufferSize = this.#options.core.config.udpBufferSize;
    if (event.bytes.length > udpBufferSize - 64) {
      throw new OptionError(`a broadcast of ${payload.length} bytes does not fit in one packet: keep it under about ${udpBufferSize - 128} bytes`);
    }
    this.#options.step({ kind: 'broadcast', key: event.key, payload: event.bytes });
  }

  /**
   * Starts a graceful leave as Serf does: gossips the leave intent, then the driver steps the
   * core's own `leave` after the head start returned (ms). Serf agents show a member `left`, not
   * `failed`, only when its intent reaches them before memberlist's dead message.
   */
  announceLeave(): number {
    this.#options.step({ kind: 'broadcast', key: 'serf-intent', payload: this.layer.leaveIntent() });
    return this.#options.core.config.gossipIntervalMs * LEAVE_INTENT_HEAD_START_INTERVALS;
  }

  /**
   * Forces a member out as `serf force-leave` does: gossips a leave intent about it and applies it
   * here. A failed member becomes `left` (a `left` event) on every node the intent reaches; with
   * `prune` it is removed at once (a `reap` report). Whether the member may be forced out (Serf
   * sends the intent whatever its status) is the caller's policy.
   */
  forceLeave(name: string, prune: boolean): void {
    const intent = this.layer.forceLeaveIntent(name, prune);
    // Its echo from peers is then a repeat.
    this.#leaveIntents.admit(name, intent.ltime);
    this.#options.step({ kind: 'broadcast', key: leaveKey(name), payload: intent.payload });
    this.#applyLeave(name, prune);
  }

  #listed(name: string): boolean {
    return this.#options.core.member(name) !== undefined || this.#departed.get(name) !== undefined;
  }

  /** A leave intent about another member, here: the core's member table first, then the departed the core has forgotten. */
  #applyLeave(name: string, prune: boolean): void {
    const { core, now, report } = this.#options;
    if (core.member(name)) this.#options.step({ kind: 'forceLeave', node: name, prune });
    else {
      const left = this.#departed.markLeft(name, now());
      if (left) report({ kind: 'left', member: left });
    }
    // The core's `left` event has reached the directory through `consume` by now; a pruned member goes from there too.
    const pruned = prune && core.member(name) === undefined ? this.#departed.remove(name) : undefined;
    if (pruned) report({ kind: 'reap', member: pruned });
  }

  /**
   * Asks the cluster, with Serf's defaults (an ack from each member, the timeout below); answers
   * go to `collector` until `finish` is called. Throws an OptionError for a name, payload, timeout
   * or filter that cannot be sent.
   */
  ask(name: string, payload: Uint8Array, options: QueryOptions, collector: QueryCollector): StartedQuery {
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
    const asked = this.layer.ask(name, payload, { ...options, requestAck: options.requestAck ?? true, timeoutMs }, collector);
    return { ...asked, timeoutMs };
  }

  /**
   * Asks the cluster who holds this node's name (Serf's `_serf_conflict`, with Serf's defaults:
   * no acks, the default timeout), when the core reports a `conflict` about this node's own name.
   * The driver collects the answers (a `ConflictAnswers`), calls `finish` after `timeoutMs`, and
   * shuts this node down unless `tally(advertised address).keep`.
   */
  askConflict(collector: QueryCollector): StartedQuery {
    return this.ask(CONFLICT_QUERY, new TextEncoder().encode(this.#options.core.name), { requestAck: false }, collector);
  }

  /**
   * Members that failed or left and that the core has forgotten, still listed until they are
   * reaped (Serf lists them for reconnectTimeoutMs and tombstoneTimeoutMs); with the core's
   * `members()`, Serf's member list.
   */
  departed(): DepartedMember[] {
    const { core } = this.#options;
    return this.#departed.list().filter((member) => core.member(member.name) === undefined);
  }

  /** When `tick` next has a departed member to reap (Infinity: none). The driver calls `tick` then, as it steps the core at its own deadline. */
  nextDeadline(): number {
    return this.#departed.nextDeadline();
  }

  /** Reaps the departed members due by now, each with a `reap` report. */
  tick(): void {
    for (const member of this.#departed.reap(this.#options.now())) this.#options.report({ kind: 'reap', member });
  }

  #observeMember(event: MemberEvent): MemberEvent {
    const movedFrom = this.#departed.observe(event);
    return movedFrom ? { ...event, type: 'update' } : event;
  }

  /** Members alive or suspect, this one included: those that hear and answer queries. */
  liveMembers(): number {
    return this.#options.core.members().filter(isLive).length;
  }

  /** Serf's default: gossip interval × 16 × ceil(log10(n + 1)). */
  #defaultQueryTimeout(): number {
    const n = this.liveMembers();
    return this.#options.core.config.gossipIntervalMs * 16 * Math.max(1, Math.ceil(Math.log10(n + 1)));
  }

  #setAckPayload(): void {
    this.#options.step({ kind: 'setAckPayload', payload: this.coordinates.ackPayload() });
  }
}

/** The gossip key of a leave intent about `node`: a newer intent about the same member replaces it in the queue. */
function leaveKey(node: string): string {
  return `serf-leave:${node}`;
}
