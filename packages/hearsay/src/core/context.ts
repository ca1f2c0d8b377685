import type { Awareness } from './awareness.js';
import type { BroadcastQueue } from './broadcast-queue.js';
import type { ProtocolConfig } from './config.js';
import type { MemberTable } from './member-table.js';
import type { CoreStats } from './stats.js';
import type { Timers } from './timers.js';
import type { Address, Message, MessageSizer, Output, Protocol, Random, Source, StreamMessage } from './types.js';
import type { VerdictLog } from './verdicts.js';
import type { PeerViews } from './views.js';

/** Callbacks for the answer to a stream this node opened. */
export interface StreamHandlers {
  /** The peer answered. */
  onReply(message: StreamMessage): void;
  /** The stream failed (refused, timed out, reset) before an answer. */
  onFail(reason: string): void;
}

/**
 * What the parts of the protocol (membership rules, probing, push/pull, gossip) share: the
 * node's configuration, clock reading, randomness, table, queue and output sink. A node's
 * `MemberContext` (node-context.ts) implements it, privately; the parts never see the driver.
 */
export interface NodeContext {
  /** The node's protocol settings. */
  readonly config: ProtocolConfig;
  /** The node's seeded randomness. */
  readonly rng: Random;
  /** The node's pending deadlines (probes, gossip, suspicions…), on its own clock. */
  readonly timers: Timers;
  /** The node's membership list. */
  readonly table: MemberTable;
  /** Updates waiting to be piggybacked and gossiped. */
  readonly queue: BroadcastQueue;
  /** Lifeguard's local health: the multiplier of how long a probe waits for an ack. */
  readonly awareness: Awareness;
  /** The node's counters. */
  readonly stats: CoreStats;
  /** Each member's verdicts with their evidence (failure provenance), and degraded pairs. */
  readonly verdicts: VerdictLog;
  /** The view digests peers sent in their pings and acks. */
  readonly views: PeerViews;
  /** Encoded size of a message, for the piggyback budget. */
  readonly sizer: MessageSizer;
  /** This node's name. */
  readonly selfName: string;
  /** Where this node's pings say they come from. */
  readonly selfSource: Source;
  /** The time of the input being handled. */
  readonly now: number;
  /** The failure detector in use. */
  readonly protocol: Protocol;
  /** The application's opaque state sent with every push/pull (Serf's user state). */
  readonly userState: Uint8Array;
  /** The payload of this node's acks to UDP pings (Serf's network coordinate). */
  readonly ackPayload: Uint8Array;
  /** Hands an output to the driver (after the node has noted RTTs and events it needs itself). */
  emit(output: Output): void;
  /** Sends one message by UDP, with queued updates piggybacked in the space left. */
  sendMessage(to: Address, message: Message, crc: boolean): void;
  /** Sends several messages as one compound packet, without piggybacking. */
  sendPacket(to: Address, messages: Message[], crc: boolean): void;
  /** Asks the driver to open a stream and send `message`; `handlers` get the answer, null: expect none. */
  openStream(to: Address, message: StreamMessage, timeoutMs: number, handlers: StreamHandlers | null): void;
  /** Queues an update about a member for dissemination. */
  broadcast(key: string, message: Message, onDone?: () => void): void;
  /** Emits a `notice` output for the driver's log. */
  notice(level: 'debug' | 'warn', text: string): void;
  /** A fresh ping sequence number (probes and direct heartbeats share one sequence). */
  nextSeqNo(): number;
  /** Counts something refused (`count` of them), by reason (CoreStats.dropped). */
  drop(reason: string, count?: number): void;
  /**
   * Whether one more member may be added: the table has room and the input being handled (a
   * packet, a push/pull) has not introduced its share of new members yet. Counts the refusal.
   */
  admitMember(): boolean;
  /** Sets how many new members the rest of the input being handled may introduce. */
  limitNewMembers(count: number): void;
  /** Whether the packet being handled may cause one more reply (ack, relayed ping…). Counts the refusal. */
  allowReply(): boolean;
  /** Removes a member from the table and everything kept about it. */
  forget(slot: number): void;
}
