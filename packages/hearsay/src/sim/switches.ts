import type { Protocol } from '../core/index.js';

/** A run-time switch of failure detector, asked of one node and spread by the core's gossip. */
export interface SwitchReport {
  /** The detector switched to. */
  protocol: Protocol;
  /** When the switch was asked for (virtual ms). */
  at_ms: number;
  /** The node asked to switch the cluster. */
  via: string;
  /** The switch's epoch; null when `via` was not running (crashed or paused), so nothing was asked. */
  epoch: number | null;
  /** From the request until every live node had adopted it; null if never (or superseded first). */
  all_switched_ms: number | null;
}

interface PendingSwitch {
  readonly report: SwitchReport;
  readonly key: string;
  readonly adoptedBy: Set<number>;
  /** Nodes below this index are known to have adopted it or not to be live (scans resume here). */
  checkedUpTo: number;
}

const keyOf = (epoch: number, origin: string) => `${epoch}\u0000${origin}`;

/** Follows each requested switch until every live node has adopted it, as the crash reports do. */
export class SwitchTracker {
  readonly reports: SwitchReport[] = [];
  readonly #pending: PendingSwitch[] = [];
  readonly #isLive: (index: number) => boolean;
  readonly #nodes: number;

  constructor(nodes: number, isLive: (index: number) => boolean) {
    this.#nodes = nodes;
    this.#isLive = isLive;
  }

  /** A node could not be asked (not running): the switch is reported, never issued. */
  refused(via: string, protocol: Protocol, now: number): void {
    this.reports.push({ protocol, at_ms: now, via, epoch: null, all_switched_ms: null });
  }

  /** `via` (node index `index`) was asked and issued the switch (epoch, origin). */
  requested(index: number, via: string, protocol: Protocol, epoch: number, origin: string, now: number): void {
    const report: SwitchReport = { protocol, at_ms: now, via, epoch, all_switched_ms: null };
    this.reports.push(report);
    this.#pending.push({ report, key: keyOf(epoch, origin), adoptedBy: new Set([index]), checkedUpTo: 0 });
    this.check(now);
  }

  /** A node's detector changed to the switch (epoch, origin). */
  adopted(index: number, epoch: number, origin: string, now: number): void {
    const key = keyOf(epoch, origin);
    for (const pending of this.#pending) if (pending.key === key) pending.adoptedBy.add(index);
    this.check(now);
  }

  /** A node started (or restarted): it runs its configured detector until it learns the switch. */
  started(index: number): void {
    for (const pending of this.#pending) {
      pending.adoptedBy.delete(index);
      pending.checkedUpTo = Math.min(pending.checkedUpTo, index);
    }
  }

  /** Completes the switches that every live node has adopted (call after liveness changes too). */
  check(now: number): void {
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      const pending = this.#pending[i]!;
      if (!this.#adoptedByAllLive(pending)) continue;
      pending.report.all_switched_ms = now - pending.report.at_ms;
      this.#pending.splice(i, 1);
    }
  }

  #adoptedByAllLive(pending: PendingSwitch): boolean {
    for (; pending.checkedUpTo < this.#nodes; pending.checkedUpTo++) {
      const k = pending.checkedUpTo;
      if (this.#isLive(k) && !pending.adoptedBy.has(k)) return false;
    }
    return true;
  }
}
