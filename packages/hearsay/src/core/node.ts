import type { ProtocolConfig } from './config.js';
import type { NodeContext } from './context.js';
import { loopStalled, stalled } from './stall.js';
import { ConfigError } from './errors.js';
import { ALIVE, Registry, SUSPECT } from './member-table.js';
import { checkMeta, Membership } from './membership.js';
import { memberlistSize } from './message-size.js';
import { MemberContext } from './node-context.js';
import { Prober } from './probe.js';
import { ProtocolSwitch } from './protocol-switch.js';
import { PushPull } from './push-pull.js';
import { Reconnector } from './reconnect.js';
import type { CoreStats } from './stats.js';
import type { VerdictRecord } from './verdicts.js';
import { VIEW_WINDOW_PROBES, type ViewSummary } from './views.js';
import type { Address, Input, Member, MemberProfile, Message, MessageSizer, Output, Protocol, Random, StreamId, StreamMessage } from './types.js';

/** memberlist's versions for a node that speaks protocol 2 and Serf's delegate protocol 4. */
export const DEFAULT_VSN: Uint8Array = Uint8Array.of(1, 5, 2, 2, 5, 4);

/** What a `MemberNode` is built from. */
export interface MemberNodeOptions {
  /** This node's name, address, meta and version bytes. */
  readonly profile: MemberProfile;
  /** Protocol settings, as `resolveConfig` makes them. */
  readonly config: ProtocolConfig;
  /** The node's randomness (`createRandom(seed)` for a reproducible run). */
  readonly random: Random;
  /** The time at which the node starts (ms). */
  readonly now: number;
  /** Starting incarnation (1 … 2^32 − 1). */
  readonly incarnation?: number;
  /** Share one registry between many nodes to save memory (the simulator does). */
  readonly registry?: Registry;
  /** Encoded message sizes for the piggyback budget; memberlist's msgpack sizes by default. */
  readonly sizer?: MessageSizer;
  /**
   * Members known from a snapshot, added silently as alive before any timer starts, so that
   * the node behaves as a long-running member of that cluster (simulations start converged).
   */
  readonly members?: readonly { readonly profile: MemberProfile; readonly incarnation: number }[];
  /**
   * The failure detector: SWIM's probes (default), gossiped heartbeats or the hybrid
   * (src/core/heartbeat.ts). With a heartbeat detector the prober does not run, verdicts are
   * local (suspect and dead rumours are ignored), and `incarnation` is the node's generation:
   * a restart must start a larger one. A `setProtocol` input switches the whole cluster later.
   */
  readonly protocol?: Protocol;
  /** Members monitored by direct heartbeats in heartbeat and hybrid modes, whatever the size. */
  readonly pinned?: readonly string[];
}

/** The largest incarnation memberlist's uint32 fields carry. */
const U32_MAX = 0xffffffff;

/** Reads a node's private context; set by the class's static block (see inspectContext). */
let contextOf: (node: MemberNode) => MemberContext;

/**
 * One member's protocol state machine: SWIM with Lifeguard over memberlist's rules, with no
 * I/O. Feed it inputs with `step(now, input)`; it answers with outputs (packets and streams to
 * send, membership events) and tells, through `nextDeadline()`, when it next wants a `tick`.
 * What its parts share (the context) stays private: a driver reaches the protocol only through
 * inputs, outputs and the read-only views below.
 */
export class MemberNode {
  readonly #ctx: MemberContext;
  readonly #membership: Membership;
  readonly #prober: Prober;
  readonly #switch: ProtocolSwitch;
  readonly #pushPull: PushPull;
  readonly #reconnector: Reconnector;
  #stopped = false;
  /** When this node last counted a stall of its own. */
  #lastStallAt = -Infinity;

  static {
    contextOf = (node) => node.#ctx;
  }

  constructor(options: MemberNodeOptions) {
    const { profile } = options;
    const incarnation = options.incarnation ?? 1;
    if (!Number.isInteger(incarnation) || incarnation < 0 || incarnation > U32_MAX) {
      throw new ConfigError(`incarnation must be a whole number of at most ${U32_MAX} (memberlist's uint32), got ${incarnation}`);
    }
    checkMeta(profile.meta);
    const self = { name: profile.name, host: profile.host, port: profile.port };
    const registry = options.registry ?? new Registry();
    const { config, random, now } = options;
    const sizer = options.sizer ?? memberlistSize;
    // The order matters: the parts draw from the seeded random in turn (the context's gossip
    // phase first), and a seed must replay the same run.
    const ctx = new MemberContext(
      { self, config, random, now, registry, sizer },
      {
        protocol: () => this.#switch.protocol,
        // Events emitted while the membership is being built (the node's own join) precede the reconnector.
        observe: (event) => this.#reconnector?.observe(event),
        forget: (slot, nameId) => {
          this.#prober.forget(nameId);
          this.#switch.heartbeats?.forget(nameId);
          this.#membership.forget(slot);
        },
      },
    );
    this.#ctx = ctx;
    this.#membership = new Membership(ctx, profile, Math.max(1, incarnation));
    this.#prober = new Prober(ctx, this.#membership);
    this.#switch = new ProtocolSwitch(ctx, this.#membership, this.#prober);
    this.#pushPull = new PushPull(ctx, this.#membership);
    this.#reconnector = new Reconnector(ctx, this.#pushPull);
    this.#switch.pinned = options.pinned ?? [];
    if (options.members) this.preload(options.members);
    this.#switch.start(options.protocol ?? 'swim');
    this.#pushPull.start();
    this.#reconnector.start();
  }

  /** This node's name. */
  get name(): string {
    return this.#ctx.selfName;
  }

  /** This node's current incarnation (raised by refutations and meta changes). */
  get incarnation(): number {
    return this.#membership.incarnation;
  }

  /** This node's current profile (meta changes replace it). */
  get profile(): MemberProfile {
    return this.#membership.profile;
  }

  /** The node's protocol settings. */
  get config(): ProtocolConfig {
    return this.#ctx.config;
  }

  /** The node's counters (live: they keep counting). */
  get stats(): CoreStats {
    return this.#ctx.stats;
  }

  /** The failure detector in use. */
  get protocol(): Protocol {
    return this.#switch.protocol;
  }

  /** The switch in force: its epoch (0: the configured detector) and the node that asked for it. */
  get protocolSwitch(): { readonly epoch: number; readonly origin: string } {
    return { epoch: this.#switch.epoch, origin: this.#switch.origin };
  }

  /** Members monitored by direct heartbeats (heartbeat and hybrid modes). */
  get pinned(): readonly string[] {
    return this.#switch.pinned;
  }

  /** Whether heartbeats now go directly to every member (the hybrid below its threshold). */
  get allToAll(): boolean {
    return this.#switch.heartbeats?.allToAll ?? false;
  }

  /** The heartbeat detector's counter for a member (this node's own counter for itself). */
  heartbeatOf(name: string): number | undefined {
    return this.#switch.heartbeats?.heartbeatOf(name);
  }

  /** Lifeguard's local health score: 0 is healthy, up to `awarenessMaxMultiplier` − 1. */
  get healthScore(): number {
    return this.#ctx.awareness.score;
  }

  /** The verdicts this node reached or heard about a member, oldest first, with their evidence. */
  history(name: string): VerdictRecord[] {
    return this.#ctx.verdicts.history(name);
  }

  /** Members whose probes this node has had answered only through helpers or TCP lately (degraded pairs). */
  degradedPeers(): { member: string; since: number }[] {
    return this.#ctx.verdicts.degraded();
  }

  /** This node's view digest, and how the digests its peers sent lately compare with it. */
  views(): ViewSummary {
    const ctx = this.#ctx;
    return ctx.views.summary(ctx.table.digest, ctx.now, VIEW_WINDOW_PROBES * ctx.config.probeIntervalMs);
  }

  /** Updates waiting in the gossip queue. */
  get queuedBroadcasts(): number {
    return this.#ctx.queue.length;
  }

  /** Handles one input at time `now` and returns what the driver must do. */
  step(now: number, input: Input): Output[] {
    if (this.#stopped) return [];
    const ctx = this.#ctx;
    ctx.beginInput(now);
    // Timer lateness is this node's own delay (stall.ts): it lowers its health, so that it slows
    // its probing before it accuses anyone.
    if (stalled(now, ctx.timers.nextDeadline(), ctx.config.probeTimeoutMs)) this.#stalled(now);
    switch (input.kind) {
      case 'tick':
        break;
      case 'loopDelay':
        if (loopStalled(input.maxMs, ctx.config.probeTimeoutMs, now, input.windowMs, this.#lastStallAt)) this.#stalled(now);
        break;
      case 'packet':
        // What one packet can cause is bounded: an honest one holds one ping or indirect ping
        // and a few piggybacked updates, a forged one may hold a hundred.
        ctx.limitNewMembers(ctx.config.maxNewMembersPerPacket);
        ctx.limitReplies(ctx.config.maxRepliesPerPacket);
        // Updates first, then probe traffic: an ack to a ping that came with a suspicion of
        // this node (the buddy system) then carries the refutation back to the prober.
        for (const message of input.messages) if (!isProbeMessage(message)) this.#receive(input.from, message);
        for (const message of input.messages) if (isProbeMessage(message)) this.#receive(input.from, message);
        ctx.limitReplies(Infinity);
        break;
      case 'stream':
        this.#receiveStream(input.from, input.stream, input.message);
        break;
      case 'streamReply':
        ctx.takeStream(input.stream)?.onReply(input.message);
        break;
      case 'streamFailed':
        ctx.takeStream(input.stream)?.onFail(input.reason);
        break;
      case 'join':
        this.#pushPull.join(input.request, input.seeds);
        break;
      case 'leave':
        this.#leave(input.timeoutMs);
        break;
      case 'setMeta':
        this.#membership.setMeta(input.meta);
        break;
      case 'forceLeave':
        this.#membership.forceLeave(input.node, input.prune);
        break;
      case 'broadcast':
        // Prefixed so that an application key can never replace a member's update.
        ctx.broadcast(`user:${input.key}`, { type: 'user', payload: input.payload });
        break;
      case 'setProtocol':
        this.#switch.request(input.protocol);
        break;
      case 'pin':
        this.#switch.pinned = [...new Set(input.names)];
        break;
      case 'setAckPayload':
        ctx.ackPayload = input.payload;
        break;
      case 'setUserState':
        ctx.userState = input.state;
        break;
      case 'send':
        // memberlist's SendTo: no piggybacked gossip and no CRC, the receiver may be no member.
        ctx.sendPacket(input.to, [{ type: 'user', payload: input.payload }], false);
        break;
    }
    ctx.timers.runDue(ctx.now);
    return this.drain();
  }

  /** Outputs produced outside `step` (at construction), and clears them. */
  drain(): Output[] {
    return this.#ctx.takeOutputs();
  }

  /** When the node next needs a `tick` input (Infinity when stopped). */
  nextDeadline(): number {
    return this.#stopped ? Infinity : this.#ctx.timers.nextDeadline();
  }

  /** Stops every activity; later inputs are ignored. */
  stop(): void {
    this.#stopped = true;
    this.#ctx.stop();
  }

  /** Adds members known from a snapshot as alive, silently (simulations start converged). */
  preload(members: readonly { readonly profile: MemberProfile; readonly incarnation: number }[]): void {
    this.#membership.preload(members);
    this.#switch.heartbeats?.trackAll();
  }

  /** Every member this node lists, itself included, in probe order. */
  members(): Member[] {
    const result: Member[] = [];
    for (let slot = 0; slot < this.#ctx.table.size; slot++) result.push(this.#member(slot));
    return result;
  }

  /** The member called `name` as this node sees it, or undefined if it is not listed. */
  member(name: string): Member | undefined {
    const slot = this.#ctx.table.find(name);
    return slot < 0 ? undefined : this.#member(slot);
  }

  #member(slot: number): Member {
    const member = this.#membership.member(slot);
    const rttMs = this.#ctx.rttAt(slot);
    return rttMs === undefined ? member : { ...member, rttMs };
  }

  /**
   * This node was stalled: counted, and its health lowered, so that it slows before it accuses.
   * Alone (before a join, say), it probes no one: its health would slow nothing, and stays.
   */
  #stalled(now: number): void {
    const ctx = this.#ctx;
    this.#lastStallAt = now;
    ctx.stats.stalls++;
    if (ctx.table.count(ALIVE) + ctx.table.count(SUSPECT) > 1) ctx.awareness.apply(1);
  }

  #receive(from: Address, message: Message): void {
    switch (message.type) {
      case 'ping':
        this.#prober.onPing(from, message);
        if (message.node === '' || message.node === this.#ctx.selfName) this.#switch.heartbeats?.onPing(message.source?.name);
        break;
      case 'indirectPing':
        this.#prober.onIndirectPing(from, message);
        break;
      case 'ack':
        if (!this.#prober.onAck(from, message) && !this.#switch.heartbeats?.onAck(message.seqNo, message.payload)) this.#ctx.stats.messagesIgnored++;
        break;
      case 'nack':
        this.#prober.onNack(from, message.seqNo);
        break;
      case 'alive':
        this.#membership.onAlive(message.profile, message.incarnation, message);
        break;
      case 'suspect':
        this.#membership.onSuspect(message);
        break;
      case 'dead':
        this.#membership.onDead(message);
        break;
      case 'user':
        this.#ctx.emit({ kind: 'message', payload: message.payload, from });
        break;
      case 'heartbeats':
        this.#switch.onHeartbeats(from, message);
        break;
      case 'protocolSwitch':
        this.#switch.onSwitch(from, message);
        break;
    }
  }

  #receiveStream(from: Address, stream: StreamId, message: StreamMessage): void {
    const ctx = this.#ctx;
    switch (message.type) {
      case 'pushPull':
        ctx.emit({ kind: 'reply', stream, message: this.#pushPull.onRemoteState(message) });
        break;
      case 'ping':
        if (message.node !== '' && message.node !== ctx.selfName) {
          ctx.stats.messagesIgnored++;
          ctx.notice('warn', `stream ping for ${message.node} from ${from.host}:${from.port}`);
          return;
        }
        ctx.emit({ kind: 'reply', stream, message: { type: 'ack', seqNo: message.seqNo } });
        break;
      default:
        ctx.stats.messagesIgnored++;
        ctx.emit({ kind: 'reply', stream, message: { type: 'error', error: `unexpected ${message.type} stream` } });
    }
  }

  #leave(timeoutMs: number): void {
    if (this.#membership.leaving) return;
    const { timers, table } = this.#ctx;
    let finished = false;
    const finish = (timedOut: boolean) => {
      if (finished) return;
      finished = true;
      timers.cancel(timer);
      this.#ctx.emit({ kind: 'left', timedOut });
    };
    const timer = timers.schedule(this.#ctx.now + timeoutMs, () => finish(true));
    this.#membership.leave(() => finish(false));
    // With nobody else alive there is no one to tell.
    if (table.count(ALIVE) + table.count(SUSPECT) === 0) finish(false);
  }
}

/**
 * The context a node's parts share, for the core's white-box tests only: core/index.ts does
 * not export it, so drivers reach the protocol through inputs and outputs alone.
 */
export function inspectContext(node: MemberNode): NodeContext {
  return contextOf(node);
}

function isProbeMessage(message: Message): boolean {
  return message.type === 'ping' || message.type === 'indirectPing' || message.type === 'ack' || message.type === 'nack';
}
