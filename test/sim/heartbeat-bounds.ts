/** Derived detection bounds of the heartbeat detectors, shared by the simulator tests. */
import type { Protocol, SwimConfig } from '../../packages/hearsay/src/core/index.js';
import { heartbeatDetectionBoundMs } from '../../packages/hearsay/src/sim/index.js';

/** The simulator's default one-way delay plus its largest jitter (1 ms + up to 1 ms). */
export const MAX_DELAY_MS = 2;

/**
 * The latest, after a crash, at which every live node has marked the crashed member failed.
 * A node fails a member failAfter after the last sign of life it saw (phi accrual adds its own
 * condition, phi at the threshold, but that comes after the mean interval plus the acceptable
 * pause plus a few deviations, some 3–6 s in these runs: before failAfter, so the fixed silence
 * decides). The bound is failAfter plus the latest that last sign of life can arrive after the
 * crash:
 *
 * - all-to-all (hybrid with at most hybridThreshold live members): the crashed node pinged every
 *   member, and answered every ping, until it crashed; nothing else speaks for it. The last sign
 *   of life is therefore sent by the crash and arrives within one network delay.
 * - gossip (heartbeat, or hybrid above its threshold): the last sign of life is the last rise of
 *   its heartbeat, which arrives by the end of the spread of its last value
 *   (`heartbeatDetectionBoundMs`).
 */
export function detectionBoundMs(c: SwimConfig, protocol: Protocol, nodes: number): number {
  const allToAll = protocol === 'hybrid' && nodes <= c.hybridThreshold;
  return allToAll ? c.failAfterMs + MAX_DELAY_MS : heartbeatDetectionBoundMs(c, nodes);
}
