import { Awareness } from './awareness.js';
import { BroadcastQueue, retransmitLimit } from './broadcast-queue.js';
import type { SwimConfig } from './config.js';
import type { NodeContext, StreamHandlers } from './context.js';
import { ConfigError } from './errors.js';
import { HeartbeatDetector } from './heartbeat.js';
import { ALIVE, FAILED, LEFT, MemberTable, Registry, SUSPECT } from './member-table.js';
import { checkMeta, Membership } from './membership.js';
import { memberlistSize } from './message-size.js';
import { protocolMax, Prober, randomMembers } from './probe.js';
import { PushPull } from './push-pull.js';
import { Reconnector } from './reconnect.js';
import { countDrop, createStats, type CoreStats } from './stats.js';
import { Timers } from './timers.js';
import {
  MAX_NAME_LENGTH,
  type Address,
  type Input,
  type Member,
  type MemberProfile,
  type Message,
  type MessageSizer,
  type Output,
  type Protocol,
  type ProtocolSwitchMessage,
  type Random,
  type Source,
  type StreamId,
  type StreamMessage,
} from './types.js';

/** memberlist's compound framing: 2 header bytes, 2 length bytes per part. */
const COMPOUND_HEADER_BYTES = 2;
const COMPOUND_PART_BYTES = 2;

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

/** Broadcast-queue key of the protocol switch (member names never hold a NUL). */
const SWITCH_KEY = '\u0000protocol';

/** Weight of a new round-trip sample in a member's smoothed RTT (TCP's SRTT uses 1/8). */
const RTT_GAIN = 1 / 8;

/** The largest epoch and incarnation memberlist's uint32 fields carry. */
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
  #heartbeats: HeartbeatDetector | undefined;
  #protocol: Protocol = 'swim';
  #switchEpoch = 0;
  #switchOrigin = '';
  userState: Uint8Array = new Uint8Array(0);
  ackPayload: Uint8Array = new Uint8Array(0);
  #pinned: readonly string[] = [];
  readonly #rtt = new Map<number, number>();
  #seqNo = 0;
  readonly #pushPull: PushPull;
  readonly #reconnector: Reconnector;
  readonly #streams = new Map<StreamId, StreamHandlers | null>();
  #nextStream = 1;
  #outputs: Output[] = [];
  #stopped = false;
  #gossipPhase = 0;
  #gossipArmed = false;
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
    this.#startGossip();
    this.#membership = new Membership(this, profile, Math.max(1, incarnation));
    this.#prober = new Prober(this, this.#membership, () => this.#reapAndShuffle());
    this.#pushPull = new PushPull(this, this.#membership);
    this.#reconnector = new Reconnector(this, this.#pushPull);
    this.#pinned = options.pinned ?? [];
    if (options.members) this.preload(options.members);
    if ((options.detector ?? 'swim') === 'swim') this.#prober.start();
    else this.#applyProtocol(options.detector!);
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
    return this.#protocol;
  }

  /** The switch in force: its epoch (0: the configured detector) and the node that asked for it. */
  get protocolSwitch(): { readonly epoch: number; readonly origin: string } {
    return { epoch: this.#switchEpoch, origin: this.#switchOrigin };
  }

  /** Members monitored by direct heartbeats (heartbeat and hybrid modes). */
  get pinned(): readonly string[] {
    return this.#pinned;
  }

  /** Whether heartbeats now go directly to every member (the hybrid below its threshold). */
  get allToAll(): boolean {
    return this.#heartbeats?.allToAll ?? false;
  }

  /** The heartbeat detector's counter for a member (this node's own counter for itself). */
  heartbeatOf(name: string): number | undefined {
    return this.#heartbeats?.heartbeatOf(name);
  }

  /** Lifeguard's local health score: 0 is healthy, up to `awarenessMaxMultiplier` − 1. */
  get healthScore(): number {
    return this.awareness.score;
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
        this.#join(input.request, input.seeds);
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
        this.#switchTo({ type: 'protocolSwitch', protocol: input.protocol, epoch: this.#nextSwitchEpoch(), origin: this.selfName });
        break;
      case 'pin':
        this.#pinned = [...new Set(input.names)];
        if (this.#heartbeats) this.#heartbeats.pinned = this.#pinned;
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
    this.timers.clear();
    this.queue.clear();
    this.#streams.clear();
  }

  /** Adds members known from a snapshot as alive, silently (simulations start converged). */
  preload(members: readonly { readonly profile: MemberProfile; readonly incarnation: number }[]): void {
    this.#membership.preload(members);
    this.#heartbeats?.trackAll();
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
    this.#heartbeats?.forget(nameId);
    this.#membership.forget(slot);
  }

  /**
   * Queues an update. One that could never fit a packet would stay queued forever, so it is
   * dropped; and the queue keeps at most max(broadcastQueueDepth, 2 × members) updates, as
   * Serf bounds its own queues, dropping the most sent ones first.
   */
  broadcast(key: string, message: Message, onDone?: () => void): void {
    const size = this.sizer(message);
    if (size + COMPOUND_PART_BYTES > this.#gossipBudget()) {
      this.drop('broadcast-too-large');
      this.notice('warn', `${message.type} message of ${size} bytes dropped: it can never fit in a ${this.config.udpBufferSize}-byte packet`);
      onDone?.();
      return;
    }
    this.queue.add(key, message, size, onDone);
    const limit = Math.max(this.config.broadcastQueueDepth, 2 * this.table.size);
    // Pruned an eighth below the limit, so that the sort a prune takes is paid once per many updates.
    if (this.queue.length > limit) this.drop('broadcast-queue-full', this.queue.prune(limit - Math.floor(limit / 8)));
    this.#armGossip();
  }

  #gossipBudget(): number {
    return this.config.udpBufferSize - COMPOUND_HEADER_BYTES - this.config.packetOverheadBytes;
  }

  sendMessage(to: Address, message: Message, crc: boolean): void {
    const { config } = this;
    const budget = config.udpBufferSize - this.sizer(message) - COMPOUND_HEADER_BYTES - config.packetOverheadBytes;
    const extra = this.queue.take(COMPOUND_PART_BYTES, budget, this.#transmitLimit());
    this.#outputs.push({ kind: 'packet', to, messages: extra.length ? [message, ...extra] : [message], crc });
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
        if (message.node === '' || message.node === this.selfName) this.#heartbeats?.onPing(message.source?.name);
        break;
      case 'indirectPing':
        this.#prober.onIndirectPing(from, message);
        break;
      case 'ack':
        if (!this.#prober.onAck(message.seqNo, message.payload) && !this.#heartbeats?.onAck(message.seqNo, message.payload)) this.stats.messagesIgnored++;
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
        if (this.#heartbeats) {
          this.#heartbeats.onHeartbeats(message);
        } else {
          this.stats.messagesIgnored++;
          // A heartbeat table reaching a SWIM node after a switch: its sender missed the switch.
          if (this.#switchEpoch > 0 && this.allowReply()) this.sendPacket(from, [this.#switchMessage()], false);
        }
        break;
      case 'protocolSwitch':
        this.#onProtocolSwitch(from, message);
        break;
    }
  }

  /**
   * A hybrid logical clock in seconds: above every epoch seen, and at least the clock. A node
   * that missed earlier switches (restarted, cut off) still outbids them when asked later.
   * Epochs further ahead of the clock than maxEpochAheadMs are refused (#onProtocolSwitch), so
   * the one in force is at most that far ahead and its successor fits the uint32 (until 2106).
   */
  #nextSwitchEpoch(): number {
    return Math.min(U32_MAX, Math.max(this.#switchEpoch + 1, Math.floor(this.now / 1000)));
  }

  #switchMessage(): ProtocolSwitchMessage {
    return { type: 'protocolSwitch', protocol: this.#protocol, epoch: this.#switchEpoch, origin: this.#switchOrigin };
  }

  /**
   * A switch spreads like a membership update, and the highest (epoch, origin) wins. A sender
   * still on an older switch is answered with this node's, so that a node that missed the
   * gossip (paused, partitioned) catches up at its next heartbeat.
   */
  #onProtocolSwitch(from: Address, message: ProtocolSwitchMessage): void {
    const epoch = this.#switchEpoch;
    if (message.origin.length > MAX_NAME_LENGTH) {
      this.drop('name-too-long');
      return;
    }
    if (message.epoch * 1000 > this.now + this.config.maxEpochAheadMs) {
      // A forged epoch at the top of the range would leave no higher one to switch back with;
      // the sender's clock would have to be far ahead for an honest one to be refused.
      this.drop('epoch-ahead');
      return;
    }
    if (message.epoch > epoch || (message.epoch === epoch && message.origin > this.#switchOrigin)) {
      this.#switchTo(message);
    } else if (epoch > 0 && (message.epoch < epoch || message.origin < this.#switchOrigin) && this.allowReply()) {
      this.sendPacket(from, [this.#switchMessage()], false);
    }
  }

  #switchTo(message: ProtocolSwitchMessage): void {
    this.#switchEpoch = message.epoch;
    this.#switchOrigin = message.origin;
    this.broadcast(SWITCH_KEY, message);
    this.#applyProtocol(message.protocol);
    this.stats.protocolSwitches++;
    this.#outputs.push({ kind: 'protocol', protocol: message.protocol, epoch: message.epoch, origin: message.origin });
  }

  /**
   * Hands failure detection to another detector, keeping the table. SWIM suspicions end when a
   * heartbeat detector starts, which then counts every member's silence from now; on the way
   * back, members suspected by heartbeats become SWIM suspicions (see Membership).
   */
  #applyProtocol(protocol: Protocol): void {
    const was = this.#heartbeats ? this.#protocol : 'swim';
    this.#protocol = protocol;
    if (protocol === 'swim') {
      if (was === 'swim') return;
      this.#heartbeats!.stop();
      this.#heartbeats = undefined;
      this.#membership.useLocalVerdicts(false);
      this.#prober.start();
      return;
    }
    const mode = protocol === 'hybrid' ? 'hybrid' : 'gossip';
    if (this.#heartbeats) {
      this.#heartbeats.mode = mode;
      return;
    }
    this.#prober.stop();
    this.#membership.useLocalVerdicts(true);
    this.#heartbeats = new HeartbeatDetector(this, this.#membership, mode, () => (this.#switchEpoch > 0 ? [this.#switchMessage()] : []));
    this.#heartbeats.pinned = this.#pinned;
    this.#heartbeats.start();
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

  #join(request: number, seeds: readonly Address[]): void {
    if (seeds.length === 0) {
      this.emit({ kind: 'joined', request, contacted: 0, errors: ['no seed addresses given'] });
      return;
    }
    let outstanding = seeds.length;
    let contacted = 0;
    const errors: string[] = [];
    for (const seed of seeds) {
      this.#pushPull.exchange(
        seed,
        true,
        (error) => {
          if (error) errors.push(`${seed.host}:${seed.port}: ${error}`);
          else contacted++;
          if (--outstanding === 0) this.emit({ kind: 'joined', request, contacted, errors });
        },
        true,
      );
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

  /**
   * Gossip runs every gossip interval on a fixed phase, but only while updates are queued: a
   * round with nothing to send does nothing, so idle nodes need no timer.
   */
  #startGossip(): void {
    this.#gossipPhase = this.now + this.rng.float() * this.config.gossipIntervalMs;
  }

  #armGossip(): void {
    const interval = this.config.gossipIntervalMs;
    if (interval <= 0 || this.#gossipArmed || this.#stopped) return;
    this.#gossipArmed = true;
    const rounds = Math.max(0, Math.floor((this.now - this.#gossipPhase) / interval) + 1);
    let at = this.now < this.#gossipPhase ? this.#gossipPhase : this.#gossipPhase + rounds * interval;
    // Rounding in (now − phase) / interval can land `at` on `now` itself: the round would then
    // re-arm at the same instant forever while updates stay queued (a node with no one to tell).
    if (at <= this.now) at += interval;
    this.timers.schedule(at, () => {
      this.#gossipArmed = false;
      this.#gossip();
      if (this.queue.length > 0) this.#armGossip();
    });
  }

  /** Sends queued updates to a few random members, including recently failed ones. */
  #gossip(): void {
    if (this.queue.length === 0) return;
    const { table, config } = this;
    const targets = randomMembers(this, config.gossipNodes, (slot) => {
      const status = table.statusAt(slot);
      if (status === LEFT) return false;
      return status !== FAILED || this.now - table.sinceAt(slot) <= config.gossipToTheDeadTimeMs;
    });
    const budget = this.#gossipBudget();
    for (const slot of targets) {
      const messages = this.queue.take(COMPOUND_PART_BYTES, budget, this.#transmitLimit());
      if (messages.length === 0) return;
      const profile = table.profileAt(slot);
      this.sendPacket({ host: profile.host, port: profile.port }, messages, protocolMax(profile.vsn) >= 5);
    }
  }

  #transmitLimit(): number {
    return retransmitLimit(this.config.retransmitMult, this.table.size);
  }

  /**
   * At each wrap of the probe order: forget members failed or left longer than
   * gossipToTheDeadTime (memberlist 0.2.2 keeps left ones forever; newer versions reap them
   * too), then reshuffle.
   */
  #reapAndShuffle(): void {
    const { table, config } = this;
    for (let slot = table.size - 1; slot >= 0; slot--) {
      const status = table.statusAt(slot);
      if ((status === FAILED || status === LEFT) && this.now - table.sinceAt(slot) > config.gossipToTheDeadTimeMs && table.nameAt(slot) !== this.selfName) {
        this.forget(slot);
      }
    }
    table.shuffle(this.rng);
  }
}

function isProbeMessage(message: Message): boolean {
  return message.type === 'ping' || message.type === 'indirectPing' || message.type === 'ack' || message.type === 'nack';
}
