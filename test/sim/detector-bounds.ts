/** Derived detection bounds of the three detectors, shared by the simulator tests. */
import type { Protocol, ProtocolConfig } from '../../packages/hearsay/src/core/index.js';
import { heartbeatDetectionBoundMs, maxSuspicionTimeoutMs } from '../../packages/hearsay/src/sim/index.js';

/** The simulator's default one-way delay plus its largest jitter (1 ms + up to 1 ms). */
export const MAX_DELAY_MS = 2;

/**
 * The latest, after a crash, at which every live node has marked the crashed member failed.
 *
 * SWIM, without counting on gossip at all: a node's own randomised round-robin reaches the member
 * within two passes (2(N − 1) probe periods, the rest of this pass and the next), each period
 * stretched at most awarenessMax times by local health; that probe fails one (scaled) probe
 * interval later; the suspicion it starts runs out after at most the maximum Lifeguard timeout.
 *
 * The heartbeat detectors: a node fails a member failAfter after the last sign of life it saw
 * (phi accrual adds its own condition, phi at the threshold, but that comes after the mean
 * interval plus the acceptable pause plus a few deviations, some 3–6 s in these runs: before
 * failAfter, so the fixed silence decides). The bound is failAfter plus the latest that last sign
 * of life can arrive after the crash:
 *
 * - all-to-all (hybrid with at most hybridThreshold live members): the crashed node pinged every
 *   member, and answered every ping, until it crashed; nothing else speaks for it. The last sign
 *   of life is therefore sent by the crash and arrives within one network delay.
 * - gossip (heartbeat, or hybrid above its threshold): the last sign of life is the last rise of
 *   its heartbeat, which arrives by the end of the spread of its last value
 *   (`heartbeatDetectionBoundMs`).
 */
export function detectionBoundMs(c: ProtocolConfig, protocol: Protocol, nodes: number): number {
  if (protocol === 'swim') {
    const period = c.probeIntervalMs * c.awarenessMaxMultiplier;
    return (2 * (nodes - 1) + 1) * period + maxSuspicionTimeoutMs(c, nodes);
  }
  const allToAll = protocol === 'hybrid' && nodes <= c.hybridThreshold;
  return allToAll ? c.failAfterMs + MAX_DELAY_MS : heartbeatDetectionBoundMs(c, nodes);
}
