/**
 * An overloaded node accuses no one. A node's driver fires overdue deadlines before it reads what
 * arrived meanwhile (Node.js runs timers before I/O in each turn of its event loop; the simulator
 * does the same after a pause), so a probe's verdict or a suspicion's expiry that fires late, after
 * a busy turn, a GC pause or a SIGSTOP, would come before the ack or refutation waiting in the
 * socket: the node would blame its peer for its own delay. Such a deadline waits STALL_GRACE_MS
 * once, so that the driver reads first. A deadline fired on time (the simulator and the tests'
 * fake clock fire them exactly) is not touched.
 */
export const STALL_GRACE_MS = 1;

/** Whether a deadline due at `dueAt` fired late at `now`: what arrived meanwhile may be unread. */
export function firedLate(now: number, dueAt: number): boolean {
  return now > dueAt;
}

/**
 * Whether a deadline due at `dueAt` and still waiting at `now` means this node stalled (over half
 * the probe timeout late): the node then counts a stall and lowers its own health, so that its
 * next probes and timeouts stretch (Lifeguard's local health).
 */
export function stalled(now: number, dueAt: number, timeoutMs: number): boolean {
  return now - dueAt > timeoutMs * 0.5;
}

/**
 * Whether the driver's report of its event loop's delay (`maxMs` at most, over the `windowMs`
 * before `now`) is a stall the node has not counted yet: one over half the probe timeout, with
 * no late deadline counted in the window (the same stall, seen twice). It catches stalls while
 * no deadline was due, such as a long synchronous task between two probes.
 */
export function loopStalled(maxMs: number, timeoutMs: number, now: number, windowMs: number, lastStallAt: number): boolean {
  return maxMs > timeoutMs * 0.5 && now - lastStallAt > windowMs;
}
