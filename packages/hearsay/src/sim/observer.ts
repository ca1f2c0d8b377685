import type { MemberEvent } from '../core/index.js';

/** What the simulator knows to be true about one node, to judge what the nodes believe. */
export interface GroundTruth {
  /** Started and not crashed (a paused node is live). */
  isLive(index: number): boolean;
  /** Whether the node is paused now (its inputs wait until it resumes). */
  isPaused(index: number): boolean;
  /** Whether the network currently lets `a` and `b` talk. */
  reachable(a: number, b: number): boolean;
  /**
   * Whether the node restarted so recently that a failure verdict may still be about its
   * previous run (a suspicion of the crashed process that was running out).
   */
  recentlyRestarted(index: number): boolean;
}

/** How the cluster noticed one crash. */
export interface CrashReport {
  /** The crashed node. */
  name: string;
  /** When it crashed (virtual ms). */
  at_ms: number;
  /** From the crash to the first suspicion (or failure) of it by anyone; null if never. */
  first_suspect_ms: number | null;
  /**
   * From the crash until every live node had marked it failed; null if never. Nodes started
   * after the crash count only if they listed it alive.
   */
  all_failed_ms: number | null;
  /** Nodes still live right after the crash. */
  live_nodes: number;
  /** Live nodes plus crashed ones not yet marked failed everywhere (this one included). */
  group_size: number;
}

/** How the cluster took one graceful leave. */
export interface LeaveReport {
  /** The node that left. */
  name: string;
  /** When it announced the leave (virtual ms). */
  at_ms: number;
  /** From the leave until every live node had marked it left; null if never. */
  all_left_ms: number | null;
  /** Times some node marked it failed instead. */
  failed_verdicts: number;
}

interface CrashTrack {
  readonly report: CrashReport;
  /** Nodes whose current run marked it failed (or left). */
  readonly failedBy: Set<number>;
  /** Nodes started after the crash that listed it alive: they too must mark it failed. */
  readonly listedLate: Set<number>;
  /** Nodes below this index have marked it failed or need not (scans resume here). */
  checkedUpTo: number;
}

/**
 * Watches every node's membership events against the ground truth: convergence (every live
 * node lists every live node alive), detection times of crashes, false failure verdicts.
 * Views are one byte per (observer, member) pair, so that 10,000 nodes cost 100 MB.
 */
export class Observer {
  readonly #n: number;
  readonly #truth: GroundTruth;
  readonly #seesAlive: Uint8Array;
  readonly #aliveLive: Int32Array;
  #liveCount = 0;
  #satisfied = 0;
  /** Convergence counts only once this many distinct nodes have started. */
  readonly #expected: number;
  readonly #everStarted: Uint8Array;
  /** When each node's current run started. */
  readonly #startedAt: Float64Array;
  #startedCount = 0;
  #crashes = new Map<number, CrashTrack>();
  readonly crashReports: CrashReport[] = [];
  readonly #leaves = new Map<number, { report: LeaveReport; leftBy: Set<number> }>();
  readonly leaveReports: LeaveReport[] = [];
  convergedAt: number | null = null;
  /** When the current stretch of convergence began (null while not converged). */
  settledAt: number | null = null;
  /** Per member: how many times some node declared it failed. */
  readonly failedVerdicts: Int32Array;
  falsePositives = 0;
  readonly falsePositiveLog: { at_ms: number; observer: number; member: number }[] = [];
  /**
   * Times a node listed a crashed (or departed) member alive again after it had marked it
   * failed (or left): what tombstones are there to prevent.
   */
  resurrections = 0;

  /** `expected` is how many nodes must be live before convergence can be declared. */
  constructor(n: number, truth: GroundTruth, expected: number) {
    this.#n = n;
    this.#truth = truth;
    this.#expected = expected;
    this.#seesAlive = new Uint8Array(n * n);
    this.#aliveLive = new Int32Array(n);
    this.#everStarted = new Uint8Array(n);
    this.#startedAt = new Float64Array(n);
    this.failedVerdicts = new Int32Array(n);
  }

  /** Marks that `observer` already lists every node in `members` alive (a converged start). */
  presetView(observer: number, members: number): void {
    const row = observer * this.#n;
    this.#seesAlive.fill(1, row, row + members);
  }

  /** A node started (or restarted with an empty view). */
  started(index: number, now: number): void {
    const n = this.#n;
    if (!this.#everStarted[index]) {
      this.#everStarted[index] = 1;
      this.#startedCount++;
    }
    this.#startedAt[index] = now;
    // What the node's previous run had concluded is gone with it.
    for (const track of this.#crashes.values()) track.failedBy.delete(index);
    for (const track of this.#leaves.values()) track.leftBy.delete(index);
    const row = index * n;
    let count = 0;
    for (let j = 0; j < n; j++) if (this.#seesAlive[row + j] && this.#truth.isLive(j)) count++;
    this.#aliveLive[index] = count;
    for (let k = 0; k < n; k++) if (k !== index && this.#seesAlive[k * n + index]) this.#aliveLive[k]!++;
    this.#recount(now);
  }

  /** A node crashed: nobody's correct view includes it any more. */
  crashed(index: number, name: string, now: number): void {
    const n = this.#n;
    for (let k = 0; k < n; k++) if (this.#seesAlive[k * n + index]) this.#aliveLive[k]!--;
    this.#seesAlive.fill(0, index * n, index * n + n);
    this.#aliveLive[index] = 0;
    this.#recount(now);
    let undetected = 1;
    for (const track of this.#crashes.values()) if (track.report.all_failed_ms === null) undetected++;
    const report: CrashReport = {
      name,
      at_ms: now,
      first_suspect_ms: null,
      all_failed_ms: null,
      live_nodes: this.#liveCount,
      group_size: this.#liveCount + undetected,
    };
    this.crashReports.push(report);
    this.#crashes.set(index, { report, failedBy: new Set(), listedLate: new Set(), checkedUpTo: 0 });
    for (const track of this.#crashes.values()) this.#checkAllFailed(track, now);
  }

  /** A crashed node runs again: its crash is no longer pending detection. */
  revived(index: number): void {
    this.#crashes.delete(index);
    this.#leaves.delete(index);
  }

  /** A node announced a graceful leave. */
  leaving(index: number, name: string, now: number): void {
    const report: LeaveReport = { name, at_ms: now, all_left_ms: null, failed_verdicts: 0 };
    this.leaveReports.push(report);
    this.#leaves.set(index, { report, leftBy: new Set([index]) });
  }

  /** A node that left stopped: like a crash for liveness, but no detection is expected. */
  departed(index: number, now: number): void {
    const n = this.#n;
    for (let k = 0; k < n; k++) if (this.#seesAlive[k * n + index]) this.#aliveLive[k]!--;
    this.#seesAlive.fill(0, index * n, index * n + n);
    this.#aliveLive[index] = 0;
    this.#recount(now);
    for (const track of this.#leaves.values()) this.#checkAllLeft(track, now);
    for (const track of this.#crashes.values()) this.#checkAllFailed(track, now);
  }

  event(observer: number, member: number, event: MemberEvent, now: number): void {
    const cell = observer * this.#n + member;
    const before = this.#seesAlive[cell]!;
    let after = before;
    switch (event.type) {
      case 'join':
      case 'alive':
        after = 1;
        break;
      case 'suspect':
      case 'failed':
      case 'left':
        after = 0;
        break;
      case 'update':
        break;
    }
    if (after !== before) {
      this.#seesAlive[cell] = after;
      if (this.#truth.isLive(member) && this.#truth.isLive(observer)) {
        const wasSatisfied = this.#aliveLive[observer] === this.#liveCount;
        this.#aliveLive[observer]! += after ? 1 : -1;
        const isSatisfied = this.#aliveLive[observer] === this.#liveCount;
        if (wasSatisfied !== isSatisfied) this.#satisfied += isSatisfied ? 1 : -1;
        this.#checkConverged(now);
      }
    }

    if (event.type === 'suspect' || event.type === 'failed' || event.type === 'left') {
      const track = this.#crashes.get(member);
      if (track && track.report.first_suspect_ms === null) track.report.first_suspect_ms = now - track.report.at_ms;
      if (track && event.type !== 'suspect') {
        track.failedBy.add(observer);
        this.#checkAllFailed(track, now);
      }
    }
    if (event.type === 'join' || event.type === 'alive') {
      const track = this.#crashes.get(member);
      if (track?.failedBy.has(observer) || this.#leaves.get(member)?.leftBy.has(observer)) this.resurrections++;
      if (track && this.#startedAt[observer]! > track.report.at_ms && !track.listedLate.has(observer)) {
        track.listedLate.add(observer);
        track.checkedUpTo = Math.min(track.checkedUpTo, observer);
      }
    }
    if (event.type === 'failed') this.failedVerdicts[member]!++;
    const leave = this.#leaves.get(member);
    if (leave && event.type === 'failed') leave.report.failed_verdicts++;
    if (leave && event.type === 'left') {
      leave.leftBy.add(observer);
      this.#checkAllLeft(leave, now);
    }
    if (
      event.type === 'failed' &&
      this.#truth.isLive(member) &&
      !this.#truth.isPaused(member) &&
      this.#truth.reachable(observer, member) &&
      !this.#truth.recentlyRestarted(member)
    ) {
      this.falsePositives++;
      if (this.falsePositiveLog.length < 100) this.falsePositiveLog.push({ at_ms: now, observer, member });
    }
  }

  /** Whether every live node lists every live node alive right now. */
  get converged(): boolean {
    return this.#startedCount >= this.#expected && this.#satisfied === this.#liveCount;
  }

  #checkAllFailed(track: CrashTrack, now: number): void {
    const { report } = track;
    if (report.all_failed_ms !== null) return;
    for (; track.checkedUpTo < this.#n; track.checkedUpTo++) {
      const k = track.checkedUpTo;
      const mustFail = this.#truth.isLive(k) && (this.#startedAt[k]! <= report.at_ms || track.listedLate.has(k));
      if (mustFail && !track.failedBy.has(k)) return;
    }
    report.all_failed_ms = now - report.at_ms;
  }

  #checkAllLeft(track: { report: LeaveReport; leftBy: Set<number> }, now: number): void {
    if (track.report.all_left_ms !== null) return;
    for (let k = 0; k < this.#n; k++) if (this.#truth.isLive(k) && !track.leftBy.has(k)) return;
    track.report.all_left_ms = now - track.report.at_ms;
  }

  #recount(now: number): void {
    let live = 0;
    for (let k = 0; k < this.#n; k++) if (this.#truth.isLive(k)) live++;
    this.#liveCount = live;
    let satisfied = 0;
    for (let k = 0; k < this.#n; k++) if (this.#truth.isLive(k) && this.#aliveLive[k] === live) satisfied++;
    this.#satisfied = satisfied;
    this.#checkConverged(now);
  }

  #checkConverged(now: number): void {
    const converged = this.converged;
    if (this.convergedAt === null && converged) this.convergedAt = now;
    if (!converged) this.settledAt = null;
    else if (this.settledAt === null) this.settledAt = now;
  }
}
