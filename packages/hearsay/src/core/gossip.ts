import { retransmitLimit } from './broadcast-queue.js';
import type { NodeContext } from './context.js';
import { FAILED, LEFT } from './member-table.js';
import { COMPOUND_HEADER_BYTES, COMPOUND_PART_BYTES } from './message-size.js';
import { randomMembers } from './selection.js';
import type { Address, Message } from './types.js';
import { protocolMax } from './versions.js';

/**
 * Dissemination of queued updates: the piggyback budget of every UDP packet, the bound on the
 * queue, and the gossip rounds. Gossip runs every gossip interval on a fixed phase, but only
 * while updates are queued: a round with nothing to send does nothing, so idle nodes need no timer.
 */
export class Gossip {
  readonly #ctx: NodeContext;
  readonly #phase: number;
  #armed = false;
  #stopped = false;

  /** Draws the node's gossip phase: one random number, taken before any other part's. */
  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
    this.#phase = ctx.now + ctx.rng.float() * ctx.config.gossipIntervalMs;
  }

  /** No more rounds are armed (the node stopped and cleared its timers). */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Queues an update. One that could never fit a packet would stay queued forever, so it is
   * dropped; and the queue keeps at most max(broadcastQueueDepth, 2 × members) updates, as
   * Serf bounds its own queues, dropping the most sent ones first.
   */
  broadcast(key: string, message: Message, onDone?: () => void): void {
    const ctx = this.#ctx;
    const { config, queue } = ctx;
    const size = ctx.sizer(message);
    if (size + COMPOUND_PART_BYTES > this.#budget()) {
      ctx.drop('broadcast-too-large');
      ctx.notice('warn', `${message.type} message of ${size} bytes dropped: it can never fit in a ${config.udpBufferSize}-byte packet`);
      onDone?.();
      return;
    }
    queue.add(key, message, size, onDone);
    const limit = Math.max(config.broadcastQueueDepth, 2 * ctx.table.size);
    // Pruned an eighth below the limit, so that the sort a prune takes is paid once per many updates.
    if (queue.length > limit) ctx.drop('broadcast-queue-full', queue.prune(limit - Math.floor(limit / 8)));
    this.#arm();
  }

  /** Sends one message with queued updates piggybacked in the space it leaves. */
  sendMessage(to: Address, message: Message, crc: boolean): void {
    const ctx = this.#ctx;
    const budget = this.#budget() - ctx.sizer(message);
    const extra = ctx.queue.take(COMPOUND_PART_BYTES, budget, this.#transmitLimit());
    ctx.sendPacket(to, extra.length ? [message, ...extra] : [message], crc);
  }

  /** The bytes a packet holds for messages, after memberlist's compound header and the configured overhead. */
  #budget(): number {
    const { config } = this.#ctx;
    return config.udpBufferSize - COMPOUND_HEADER_BYTES - config.packetOverheadBytes;
  }

  #transmitLimit(): number {
    const { config, table } = this.#ctx;
    return retransmitLimit(config.retransmitMult, table.size);
  }

  #arm(): void {
    const ctx = this.#ctx;
    const interval = ctx.config.gossipIntervalMs;
    if (interval <= 0 || this.#armed || this.#stopped) return;
    this.#armed = true;
    const rounds = Math.max(0, Math.floor((ctx.now - this.#phase) / interval) + 1);
    let at = ctx.now < this.#phase ? this.#phase : this.#phase + rounds * interval;
    // Rounding in (now − phase) / interval can land `at` on `now` itself: the round would then
    // re-arm at the same instant forever while updates stay queued (a node with no one to tell).
    if (at <= ctx.now) at += interval;
    ctx.timers.schedule(at, () => {
      this.#armed = false;
      this.#round();
      if (ctx.queue.length > 0) this.#arm();
    });
  }

  /** Sends queued updates to a few random members, including recently failed ones. */
  #round(): void {
    const ctx = this.#ctx;
    if (ctx.queue.length === 0) return;
    const { table, config } = ctx;
    const targets = randomMembers(ctx, config.gossipNodes, (slot) => {
      const status = table.statusAt(slot);
      if (status === LEFT) return false;
      return status !== FAILED || ctx.now - table.sinceAt(slot) <= config.gossipToTheDeadTimeMs;
    });
    const budget = this.#budget();
    for (const slot of targets) {
      const messages = ctx.queue.take(COMPOUND_PART_BYTES, budget, this.#transmitLimit());
      if (messages.length === 0) return;
      const profile = table.profileAt(slot);
      ctx.sendPacket({ host: profile.host, port: profile.port }, messages, protocolMax(profile.vsn) >= 5);
    }
  }
}
