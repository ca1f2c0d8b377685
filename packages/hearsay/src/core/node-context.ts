import { Awareness } from './awareness.js';
import { VerdictLog } from './verdicts.js';
import { PeerViews } from './views.js';
import { BroadcastQueue } from './broadcast-queue.js';
import type { ProtocolConfig } from './config.js';
import type { NodeContext, StreamHandlers } from './context.js';
import { Gossip } from './gossip.js';
import { MemberTable, type Registry } from './member-table.js';
import { countDrop, createStats, type CoreStats } from './stats.js';
import { Timers } from './timers.js';
import type { Address, MemberEvent, Message, MessageSizer, Output, Protocol, Random, Source, StreamId, StreamMessage } from './types.js';

/** Weight of a new round-trip sample in a member's smoothed RTT (TCP's SRTT uses 1/8). */
const RTT_GAIN = 1 / 8;

/**
 * What the context needs from the parts built on it. The parts take the context in their
 * constructors, so it reaches them through these callbacks, called only once they exist.
 */
export interface ContextHooks {
  /** The failure detector in force. */
  protocol(): Protocol;
  /** Sees every membership event before the driver does (Serf's reconnect loop). */
  observe(event: MemberEvent): void;
  /** Removes the member at `slot` (interned as `nameId`) from the table and the parts. */
  forget(slot: number, nameId: number): void;
}

/** What a `MemberContext` is built from. */
export interface MemberContextOptions {
  readonly self: Source;
  readonly config: ProtocolConfig;
  readonly random: Random;
  readonly now: number;
  readonly registry: Registry;
  readonly sizer: MessageSizer;
}

/**
 * The one implementation of `NodeContext`: the state a node's parts share, the outputs they
 * produce and the per-input budgets. `MemberNode` keeps it private, so drivers see only inputs
 * and outputs; it owns the gossip, which drains its queue.
 */
export class MemberContext implements NodeContext {
  readonly config: ProtocolConfig;
  readonly rng: Random;
  readonly timers = new Timers();
  readonly table: MemberTable;
  readonly queue = new BroadcastQueue();
  readonly awareness: Awareness;
  readonly stats: CoreStats = createStats();
  readonly verdicts: VerdictLog;
  readonly views: PeerViews;
  readonly sizer: MessageSizer;
  readonly selfName: string;
  readonly selfSource: Source;
  now: number;
  userState: Uint8Array = new Uint8Array(0);
  ackPayload: Uint8Array = new Uint8Array(0);

  readonly #hooks: ContextHooks;
  readonly #gossip: Gossip;
  readonly #rtt = new Map<number, number>();
  readonly #streams = new Map<StreamId, StreamHandlers | null>();
  #nextStream = 1;
  #seqNo = 0;
  #outputs: Output[] = [];
  /** New members the input being handled may still introduce (see admitMember). */
  #newMembersLeft = Infinity;
  /** Replies the packet being handled may still cause (see allowReply). */
  #repliesLeft = Infinity;

  constructor(options: MemberContextOptions, hooks: ContextHooks) {
    this.config = options.config;
    this.rng = options.random;
    this.now = options.now;
    this.sizer = options.sizer;
    this.selfName = options.self.name;
    this.selfSource = options.self;
    this.table = new MemberTable(options.registry);
    this.awareness = new Awareness(options.config.awarenessMaxMultiplier);
    this.verdicts = new VerdictLog(options.config.maxMembers);
    this.views = new PeerViews(options.config.maxMembers);
    this.#hooks = hooks;
    // Built here, before the node's other parts: its phase is the first draw from the seeded random.
    this.#gossip = new Gossip(this);
  }

  get protocol(): Protocol {
    return this.#hooks.protocol();
  }

  /** Starts an input at `now` (the clock never goes back), with no cap on new members. */
  beginInput(now: number): void {
    this.now = Math.max(this.now, now);
    this.#newMembersLeft = Infinity;
  }

  /** Sets how many replies the rest of the packet being handled may cause. */
  limitReplies(count: number): void {
    this.#repliesLeft = count;
  }

  /** The handlers waiting for the answer to `stream`, removed (null: none, or already answered). */
  takeStream(stream: StreamId): StreamHandlers | null {
    const handlers = this.#streams.get(stream) ?? null;
    this.#streams.delete(stream);
    return handlers;
  }

  /** The outputs produced since the last call, cleared. */
  takeOutputs(): Output[] {
    const outputs = this.#outputs;
    this.#outputs = [];
    return outputs;
  }

  /** The smoothed round-trip time to the member at `slot`, if sampled. */
  rttAt(slot: number): number | undefined {
    return this.#rtt.get(this.table.nameIdAt(slot));
  }

  /** Stops gossip and drops every deadline, queued update and awaited stream. */
  stop(): void {
    this.#gossip.stop();
    this.timers.clear();
    this.queue.clear();
    this.#streams.clear();
  }

  emit(output: Output): void {
    if (output.kind === 'event') this.#hooks.observe(output.event);
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
    this.#hooks.forget(slot, nameId);
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

  #sampleRtt(name: string, ms: number): void {
    const nameId = this.table.registry.findNameId(name);
    if (nameId < 0) return;
    const smoothed = this.#rtt.get(nameId);
    this.#rtt.set(nameId, smoothed === undefined ? ms : smoothed + RTT_GAIN * (ms - smoothed));
  }
}
