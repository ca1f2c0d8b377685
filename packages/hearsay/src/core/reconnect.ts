import type { NodeContext } from './context.js';
import { ALIVE } from './member-table.js';
import type { PushPull } from './push-pull.js';
import type { Address, MemberEvent } from './types.js';

interface FailedMember {
  readonly address: Address;
  readonly failedAt: number;
}

/**
 * Serf's reconnect loop, which memberlist alone lacks: members that failed (not those that
 * left) are remembered for reconnectTimeout, even after the table forgets them, and every
 * reconnectInterval one of them is tried with a joining push/pull, with probability
 * failed/alive. This is what lets the two sides of a healed partition find each other again.
 */
export class Reconnector {
  readonly #ctx: NodeContext;
  readonly #pushPull: PushPull;
  readonly #failed = new Map<string, FailedMember>();

  constructor(ctx: NodeContext, pushPull: PushPull) {
    this.#ctx = ctx;
    this.#pushPull = pushPull;
  }

  start(): void {
    const ctx = this.#ctx;
    if (ctx.config.reconnectIntervalMs <= 0) return;
    ctx.timers.schedule(ctx.now + ctx.rng.float() * ctx.config.reconnectIntervalMs, () => this.#tick());
  }

  /**
   * Failed members are remembered longer than the table keeps them, so their number is bounded
   * separately (by the table's own bound): a peer feeding forged members that fail in turn
   * would otherwise grow it for a whole reconnectTimeout. The longest remembered go first.
   */
  observe(event: MemberEvent): void {
    const { member } = event;
    if (event.type === 'failed') {
      this.#failed.delete(member.name);
      if (this.#failed.size >= this.#ctx.config.maxMembers) {
        this.#failed.delete(this.#failed.keys().next().value!);
        this.#ctx.drop('reconnect-full');
      }
      this.#failed.set(member.name, { address: { host: member.host, port: member.port }, failedAt: event.at });
    } else if (event.type === 'join' || event.type === 'alive' || event.type === 'update' || event.type === 'left') {
      // An update may be a failed member back at a new address.
      this.#failed.delete(member.name);
    }
  }

  #tick(): void {
    const ctx = this.#ctx;
    ctx.timers.schedule(ctx.now + ctx.config.reconnectIntervalMs, () => this.#tick());
    for (const [name, failed] of this.#failed) {
      if (ctx.now - failed.failedAt > ctx.config.reconnectTimeoutMs) this.#failed.delete(name);
    }
    const alive = Math.max(1, ctx.table.count(ALIVE));
    if (this.#failed.size === 0 || ctx.rng.float() > this.#failed.size / alive) return;
    const pick = ctx.rng.int(this.#failed.size);
    let i = 0;
    for (const [name, failed] of this.#failed) {
      if (i++ !== pick) continue;
      this.#pushPull.exchange(failed.address, true, (error) => {
        if (error) ctx.notice('debug', `reconnect to ${name} failed: ${error}`);
      });
      return;
    }
  }
}
