import type { NodeContext } from './context.js';
import { HeartbeatDetector } from './heartbeat.js';
import type { Membership } from './membership.js';
import type { Prober } from './probe.js';
import { MAX_NAME_LENGTH, type Address, type HeartbeatsMessage, type Protocol, type ProtocolSwitchMessage } from './types.js';

/** Broadcast-queue key of the protocol switch (member names never hold a NUL). */
const SWITCH_KEY = '\u0000protocol';

/** The largest epoch memberlist's uint32 fields carry. */
const U32_MAX = 0xffffffff;

/**
 * The cluster-wide failure detector switch and the detector it puts in force. A switch is
 * identified by (epoch, origin) and spreads like a membership update; the highest wins. SWIM
 * runs the prober; the heartbeat detectors run a HeartbeatDetector, which this owns.
 */
export class ProtocolSwitch {
  readonly #ctx: NodeContext;
  readonly #membership: Membership;
  readonly #prober: Prober;
  #protocol: Protocol = 'swim';
  #epoch = 0;
  #origin = '';
  #heartbeats: HeartbeatDetector | undefined;
  #pinned: readonly string[] = [];

  constructor(ctx: NodeContext, membership: Membership, prober: Prober) {
    this.#ctx = ctx;
    this.#membership = membership;
    this.#prober = prober;
  }

  /** Starts the node's configured detector; no switch is in force yet (epoch 0). */
  start(protocol: Protocol): void {
    if (protocol === 'swim') this.#prober.start();
    else this.#apply(protocol);
  }

  /** The failure detector in use. */
  get protocol(): Protocol {
    return this.#protocol;
  }

  /** The epoch of the switch in force (0: the configured detector). */
  get epoch(): number {
    return this.#epoch;
  }

  /** The node that asked for the switch in force ('' before any). */
  get origin(): string {
    return this.#origin;
  }

  /** The heartbeat detector, while a heartbeat or hybrid detector is in use. */
  get heartbeats(): HeartbeatDetector | undefined {
    return this.#heartbeats;
  }

  /** Members monitored by direct heartbeats; kept across switches. */
  get pinned(): readonly string[] {
    return this.#pinned;
  }

  set pinned(names: readonly string[]) {
    this.#pinned = names;
    if (this.#heartbeats) this.#heartbeats.pinned = names;
  }

  /** This node asks the whole cluster to switch detectors. */
  request(protocol: Protocol): void {
    this.#switchTo({ type: 'protocolSwitch', protocol, epoch: this.#nextEpoch(), origin: this.#ctx.selfName });
  }

  /**
   * A switch spreads like a membership update, and the highest (epoch, origin) wins. A sender
   * still on an older switch is answered with this node's, so that a node that missed the
   * gossip (paused, partitioned) catches up at its next heartbeat.
   */
  onSwitch(from: Address, message: ProtocolSwitchMessage): void {
    const ctx = this.#ctx;
    const epoch = this.#epoch;
    if (message.origin.length > MAX_NAME_LENGTH) {
      ctx.drop('name-too-long');
      return;
    }
    if (message.epoch * 1000 > ctx.now + ctx.config.maxEpochAheadMs) {
      // A forged epoch at the top of the range would leave no higher one to switch back with;
      // the sender's clock would have to be far ahead for an honest one to be refused.
      ctx.drop('epoch-ahead');
      return;
    }
    if (message.epoch > epoch || (message.epoch === epoch && message.origin > this.#origin)) {
      this.#switchTo(message);
    } else if (epoch > 0 && (message.epoch < epoch || message.origin < this.#origin) && ctx.allowReply()) {
      ctx.sendPacket(from, [this.message()], false);
    }
  }

  /** A heartbeat table: the heartbeat detector's, else its sender missed a switch back to SWIM. */
  onHeartbeats(from: Address, message: HeartbeatsMessage): void {
    if (this.#heartbeats) {
      this.#heartbeats.onHeartbeats(message);
      return;
    }
    const ctx = this.#ctx;
    ctx.stats.messagesIgnored++;
    if (this.#epoch > 0 && ctx.allowReply()) ctx.sendPacket(from, [this.message()], false);
  }

  /** The switch in force, as a message. */
  message(): ProtocolSwitchMessage {
    return { type: 'protocolSwitch', protocol: this.#protocol, epoch: this.#epoch, origin: this.#origin };
  }

  /**
   * A hybrid logical clock in seconds: above every epoch seen, and at least the clock. A node
   * that missed earlier switches (restarted, cut off) still outbids them when asked later.
   * Epochs further ahead of the clock than maxEpochAheadMs are refused (onSwitch), so the one
   * in force is at most that far ahead and its successor fits the uint32 (until 2106).
   */
  #nextEpoch(): number {
    return Math.min(U32_MAX, Math.max(this.#epoch + 1, Math.floor(this.#ctx.now / 1000)));
  }

  #switchTo(message: ProtocolSwitchMessage): void {
    const ctx = this.#ctx;
    this.#epoch = message.epoch;
    this.#origin = message.origin;
    ctx.broadcast(SWITCH_KEY, message);
    this.#apply(message.protocol);
    ctx.stats.protocolSwitches++;
    ctx.emit({ kind: 'protocol', protocol: message.protocol, epoch: message.epoch, origin: message.origin });
  }

  /**
   * Hands failure detection to another detector, keeping the table. SWIM suspicions end when a
   * heartbeat detector starts, which then counts every member's silence from now; on the way
   * back, members suspected by heartbeats become SWIM suspicions (see Membership).
   */
  #apply(protocol: Protocol): void {
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
    // Every heartbeat packet carries the switch in force, so that a node that missed it catches up.
    this.#heartbeats = new HeartbeatDetector(this.#ctx, this.#membership, mode, () => (this.#epoch > 0 ? [this.message()] : []));
    this.#heartbeats.pinned = this.#pinned;
    this.#heartbeats.start();
  }
}
