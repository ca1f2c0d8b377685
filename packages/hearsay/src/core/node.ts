import { Awareness } from './awareness.js';
import { BroadcastQueue } from './broadcast-queue.js';
import type { SwimConfig } from './config.js';
import type { NodeContext, StreamHandlers } from './context.js';
import { ConfigError } from './errors.js';
import { Gossip } from './gossip.js';
import { ALIVE, MemberTable, Registry, SUSPECT } from './member-table.js';
import { checkMeta, Membership } from './membership.js';
import { memberlistSize } from './message-size.js';
import { Prober } from './probe.js';
import { ProtocolSwitch } from './protocol-switch.js';
import { PushPull } from './push-pull.js';
import { Reconnector } from './reconnect.js';
import { countDrop, createStats, type CoreStats } from './stats.js';
import { Timers } from './timers.js';
import type { Address, Input, Member, MemberProfile, Message, MessageSizer, Output, Protocol, Random, Source, StreamId, StreamMessage } from './types.js';

/** memberlist's versions for a node that speaks protocol 2 and Serf's delegate protocol 4. */
export const DEFAULT_VSN: Uint8Array = Uint8Array.of(1, 5, 2, 2, 5, 4);

/** What a `MemberNode` is built from. */
export interface MemberNodeOptions {
  /** This node's name, address, meta and version bytes. */
  readonly profile: MemberProfile;
  /** Protocol settings, as `resolveConfig` makes them. */
  readonly config: SwimConfig;
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
  readonly detector?: Protocol;
  /** Members monitored by direct heartbeats in heartbeat and hybrid modes, whatever the size. */
  readonly pinned?: readonly string[];
}

/** Weight of a new round-trip sample in a member's smoothed RTT (TCP's SRTT uses 1/8). */
const RTT_GAIN = 1 / 8;

/** The largest incarnation memberlist's uint32 fields carry. */
const U32_MAX = 0xffffffff;

/**
 * One member's protocol state machine: SWIM with Lifeguard over memberlist's rules, with no
 * I/O. Feed it inputs with `step(now, input)`; it answers with outputs (packets and streams to
 * send, membership events) and tells, through `nextDeadline()`, when it next wants a `tick`.
 */
export class MemberNode implements NodeContext {
  readonly config: SwimConfig;
  readonly rng: Random;
  readonly timers = new Timers();
  readonly table: MemberTable;
  readonly queue = new BroadcastQueue();
  readonly awareness: Awareness;
  readonly stats: CoreStats = createStats();
  readonly sizer: MessageSizer;
  readonly selfName: string;
  readonly selfSource: Source;
  now: number;

  readonly #membership: Membership;
  readonly #prober: Prober;
  readonly #gossip: Gossip;
  readonly #switch: ProtocolSwitch;
  userState: Uint8Array = new Uint8Array(0);
  ackPayload: Uint8Array = new Uint8Array(0);
  readonly #rtt = new Map<number, number>();
  #seqNo = 0;
  readonly #pushPull: PushPull;
  readonly #reconnector: Reconnector;
  readonly #streams = new Map<StreamId, StreamHandlers | null>();
  #nextStream = 1;
  #outputs: Output[] = [];
  #stopped = false;
  /** New members the input being handled may still introduce (see admitMember). */
  #newMembersLeft = Infinity;
  /** Replies the packet being handled may still cause (see allowReply). */
  #repliesLeft = Infinity;

  constructor(options: MemberNodeOptions) {
    const { profile } = options;
    const incarnation = options.incarnation ?? 1;
    if (!Number.isInteger(incarnation) || incarnation < 0 || incarnation > U32_MAX) {
      throw new ConfigError(`incarnation must be a whole number of at most ${U32_MAX} (memberlist's uint32), got ${incarnation}`);
    }
    checkMeta(profile.meta);
    this.config = options.config;
    this.rng = options.random;
    this.now = options.now;
    this.sizer = options.sizer ?? memberlistSize;
    this.selfName = profile.name;
    this.selfSource = { name: profile.name, host: profile.host, port: profile.port };
    this.table = new MemberTable(options.registry ?? new Registry());
    this.awareness = new Awareness(options.config.awarenessMaxMultiplier);
    // The order matters: the parts draw from the seeded random in turn (the gossip phase first),
    // and a seed must replay the same run.
    this.#gossip = new Gossip(this);
    this.#membership = new Membership(this, profile, Math.max(1, incarnation));
    this.#prober = new Prober(this, this.#membership);
    this.#switch = new ProtocolSwitch(this, this.#membership, this.#prober);
    this.#pushPull = new PushPull(this, this.#membership);
    this.#reconnector = new Reconnector(this, this.#pushPull);
    this.#switch.pinned = options.pinned ?? [];
    if (options.members) this.preload(options.members);
    this.#switch.start(options.detector ?? 'swim');
    this.#pushPull.start();
    this.#reconnector.start();
  }

  /** This node's name. */
  get name(): string {
    return this.selfName;
  }

  /** This node's current incarnation (raised by refutations and meta changes). */
  get incarnation(): number {
    return this.#membership.incarnation;
  }

  /** This node's current profile (meta changes replace it). */
  get profile(): MemberProfile {
    return this.#membership.profile;
  }

  /** The failure detector in use. */
  get detector(): Protocol {
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
    return this.awareness.score;
  }

  /** Updates waiting in the gossip queue. */
  get queuedBroadcasts(): number {
    return this.queue.length;
  }

  /** Handles one input at time `now` and returns what the driver must do. */
  step(now: number, input: Input): Output[] {
    if (this.#stopped) return [];
    this.now = Math.max(this.now, now);
    this.#newMembersLeft = Infinity;
    switch (input.kind) {
      case 'tick':
        break;
      case 'packet':
        // What one packet can cause is bounded: an honest one holds one ping or indirect ping
        // and a few piggybacked updates, a forged one may hold a hundred.
        this.#newMembersLeft = this.config.maxNewMembersPerPacket;
        this.#repliesLeft = this.config.maxRepliesPerPacket;
        // Updates first, then probe traffic: an ack to a ping that came with a suspicion of
        // this node (the buddy system) then carries the refutation back to the prober.
        for (const message of input.messages) if (!isProbeMessage(message)) this.#receive(input.from, message);
        for (const message of input.messages) if (isProbeMessage(message)) this.#receive(input.from, message);
        this.#repliesLeft = Infinity;
        break;
      case 'stream':
        this.#receiveStream(input.from, input.stream, input.message);
        break;
      case 'streamReply': {
        const handlers = this.#streams.get(input.stream);
        this.#streams.delete(input.stream);
        handlers?.onReply(input.message);
        break;
      }
      case 'streamFailed': {
        const handlers = this.#streams.get(input.stream);
        this.#streams.delete(input.stream);
        handlers?.onFail(input.reason);
        break;
      }
      case 'join':
        this.#pushPull.join(input.request, input.seeds);
        break;
      case 'leave':
        this.#leave(input.timeoutMs);
        break;
      case 'setMeta':
        this.#membership.setMeta(input.meta);
        break;
      case 'broadcast':
        // Prefixed so that an application key can never replace a member's update.
        this.broadcast(`user:${input.key}`, { type: 'user', payload: input.payload });
        break;
      case 'setProtocol':
        this.#switch.request(input.protocol);
        break;
      case 'pin':
        this.#switch.pinned = [...new Set(input.names)];
        break;
      case 'setAckPayload':
        this.ackPayload = input.payload;
        break;
      case 'setUserState':
        this.userState = input.state;
        break;
      case 'send':
        // memberlist's SendTo: no piggybacked gossip and no CRC, the receiver may be no member.
        this.sendPacket(input.to, [{ type: 'user', payload: input.payload }], false);
        break;
    }
    this.timers.runDue(this.now);
    return this.drain();
  }

  /** Outputs produced outside `step` (at construction), and clears them. */
  drain(): Output[] {
    const outputs = this.#outputs;
    this.#outputs = [];
    return outputs;
  }

  /** When the node next needs a `tick` input (Infinity when stopped). */
  nextDeadline(): number {
    return this.#stopped ? Infinity : this.timers.nextDeadline();
  }

  /** Stops every activity; later inputs are ignored. */
  stop(): void {
    this.#stopped = true;
    this.#gossip.stop();
    this.timers.clear();
    this.queue.clear();
    this.#streams.clear();
  }

  /** Adds members known from a snapshot as alive, silently (simulations start converged). */
  preload(members: readonly { readonly profile: MemberProfile; readonly incarnation: number }[]): void {
    this.#membership.preload(members);
    this.#switch.heartbeats?.trackAll();
  }

  /** Every member this node lists, itself included, in probe order. */
  members(): Member[] {
    const result: Member[] = [];
    for (let slot = 0; slot < this.table.size; slot++) result.push(this.#member(slot));
    return result;
  }

  /** The member called `name` as this node sees it, or undefined if it is not listed. */
  member(name: string): Member | undefined {
    const slot = this.table.find(name);
    return slot < 0 ? undefined : this.#member(slot);
  }

  #member(slot: number): Member {
    const member = this.#membership.member(slot);
    const rttMs = this.#rtt.get(this.table.nameIdAt(slot));
    return rttMs === undefined ? member : { ...member, rttMs };
  }

  // ——— NodeContext ———

  emit(output: Output): void {
    // Events emitted while the membership is being built (the node's own join) precede the reconnector.
    if (output.kind === 'event') this.#reconnector?.observe(output.event);
    if (output.kind === 'rtt') this.#sampleRtt(output.member, output.ms);
    this.#outputs.push(output);
  }

  nextSeqNo(): number {
    this.#seqNo = (this.#seqNo + 1) >>> 0;
    return this.#seqNo;
  }

  notice(level: 'debug' | 'warn', text: string): void {
    this.#outputs.push({ kind: 'notice', level, text });
  }

  drop(reason: string, count = 1): void {
    countDrop(this.stats, reason, count);
  }

  limitNewMembers(count: number): void {
    this.#newMembersLeft = count;
  }

  admitMember(): boolean {
    if (this.table.size >= this.config.maxMembers) {
      this.drop('member-table-full');
      return false;
    }
    if (this.#newMembersLeft <= 0) {
      this.drop('too-many-new-members');
      return false;
    }
    this.#newMembersLeft--;
    return true;
  }

  allowReply(): boolean {
    if (this.#repliesLeft <= 0) {
      this.drop('reply-cap');
      return false;
    }
    this.#repliesLeft--;
    return true;
  }

  forget(slot: number): void {
    const nameId = this.table.nameIdAt(slot);
    this.#rtt.delete(nameId);
    this.#prober.forget(nameId);
    this.#switch.heartbeats?.forget(nameId);
    this.#membership.forget(slot);
  }

  broadcast(key: string, message: Message, onDone?: () => void): void {
    this.#gossip.broadcast(key, message, onDone);
  }

  sendMessage(to: Address, message: Message, crc: boolean): void {
    this.#gossip.sendMessage(to, message, crc);
  }

  sendPacket(to: Address, messages: Message[], crc: boolean): void {
    this.#outputs.push({ kind: 'packet', to, messages, crc });
  }

  openStream(to: Address, message: StreamMessage, timeoutMs: number, handlers: StreamHandlers | null): void {
    const stream = this.#nextStream++;
    if (handlers) this.#streams.set(stream, handlers);
    this.#outputs.push({ kind: 'openStream', stream, to, message, timeoutMs, expectReply: handlers !== null });
  }

  // ——— internals ———

  #receive(from: Address, message: Message): void {
    switch (message.type) {
      case 'ping':
        this.#prober.onPing(from, message);
        if (message.node === '' || message.node === this.selfName) this.#switch.heartbeats?.onPing(message.source?.name);
        break;
      case 'indirectPing':
        this.#prober.onIndirectPing(from, message);
        break;
      case 'ack':
        if (!this.#prober.onAck(message.seqNo, message.payload) && !this.#switch.heartbeats?.onAck(message.seqNo, message.payload))
          this.stats.messagesIgnored++;
        break;
      case 'nack':
        this.#prober.onNack(message.seqNo);
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
        this.emit({ kind: 'message', payload: message.payload, from });
        break;
      case 'heartbeats':
        this.#switch.onHeartbeats(from, message);
        break;
      case 'protocolSwitch':
        this.#switch.onSwitch(from, message);
        break;
    }
  }

  #sampleRtt(name: string, ms: number): void {
    const nameId = this.table.registry.findNameId(name);
    if (nameId < 0) return;
    const smoothed = this.#rtt.get(nameId);
    this.#rtt.set(nameId, smoothed === undefined ? ms : smoothed + RTT_GAIN * (ms - smoothed));
  }

  #receiveStream(from: Address, stream: StreamId, message: StreamMessage): void {
    switch (message.type) {
      case 'pushPull':
        this.emit({ kind: 'reply', stream, message: this.#pushPull.onRemoteState(message) });
        break;
      case 'ping':
        if (message.node !== '' && message.node !== this.selfName) {
          this.stats.messagesIgnored++;
          this.notice('warn', `stream ping for ${message.node} from ${from.host}:${from.port}`);
          return;
        }
        this.emit({ kind: 'reply', stream, message: { type: 'ack', seqNo: message.seqNo } });
        break;
      default:
        this.stats.messagesIgnored++;
        this.emit({ kind: 'reply', stream, message: { type: 'error', error: `unexpected ${message.type} stream` } });
    }
  }

  #leave(timeoutMs: number): void {
    if (this.#membership.leaving) return;
    let finished = false;
    const finish = (timedOut: boolean) => {
      if (finished) return;
      finished = true;
      this.timers.cancel(timer);
      this.emit({ kind: 'left', timedOut });
    };
    const timer = this.timers.schedule(this.now + timeoutMs, () => finish(true));
    this.#membership.leave(() => finish(false));
    // With nobody else alive there is no one to tell.
    if (this.table.count(ALIVE) + this.table.count(SUSPECT) === 0) finish(false);
  }
}

function isProbeMessage(message: Message): boolean {
  return message.type === 'ping' || message.type === 'indirectPing' || message.type === 'ack' || message.type === 'nack';
}
