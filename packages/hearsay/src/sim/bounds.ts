/**
 * Detection bounds and expectations derived from a configuration (docs/detectors.md), in one
 * place: the simulator judges late verdicts by them, the experiments draw them beside their
 * measurements and the tests assert against them.
 */
import { minSuspicionTimeout, type Protocol, type ProtocolConfig } from '../core/index.js';

/**
 * SWIM: the expected protocol periods until a failed member is first probed, 1/(1 − e^(−q)) with
 * q the live fraction of the group (e/(e − 1) ≈ 1.582 at q = 1).
 */
export function swimPeriodsToFirstProbe(liveFraction = 1): number {
  return 1 / (1 - Math.exp(-liveFraction));
}

/**
 * SWIM's expected time to the first suspicion of a crashed member: `swimPeriodsToFirstProbe`
 * protocol periods until someone probes it, plus one probe interval for that probe to fail
 * (the ack deadline).
 */
export function swimFirstSuspicionMs(config: ProtocolConfig, group: number, live: number): number {
  const q = Math.max(1e-9, live / group);
  return swimPeriodsToFirstProbe(q) * config.probeIntervalMs + config.probeIntervalMs;
}

/**
 * The continuous-time version for randomised round-robin: each of the L live observers
 * reaches the dead member at a uniform time within its pass of N − 1 periods, so the first one
 * comes after (N − 1)/(L + 1) periods on average; then one probe interval for it to fail.
 */
export function roundRobinFirstSuspicionMs(config: ProtocolConfig, group: number, live: number): number {
  return ((group - 1) / (live + 1)) * config.probeIntervalMs + config.probeIntervalMs;
}

/**
 * SWIM's expected first failed verdict about a crashed member: the first suspicion
 * (`swimFirstSuspicionMs`) plus the minimum suspicion timeout, which it cannot beat.
 */
export function swimFirstVerdictMs(config: ProtocolConfig, group: number, live: number): number {
  return swimFirstSuspicionMs(config, group, live) + minSuspicionTimeout(config.suspicionMult, group, config.probeIntervalMs);
}

/** SWIM's longest suspicion timeout (Lifeguard's, before any confirmation shortens it) in a group of `nodes`. */
export function maxSuspicionTimeoutMs(config: ProtocolConfig, nodes: number): number {
  return config.suspicionMaxTimeoutMult * minSuspicionTimeout(config.suspicionMult, nodes, config.probeIntervalMs);
}

/**
 * The spread of a crashed node's last heartbeat. Every live node pushes its table to M random
 * members each period, so the highest heartbeat value is spread like a rumour by push gossip:
 * log_{M+1}(N) rounds to reach most nodes plus ln(N)/M rounds to mop up the last ones (Pittel's
 * push bound, with fanout M); we round each up, double the total against 5% loss and unlucky
 * draws, and add one period for the phase offset between senders.
 */
export function heartbeatSpreadBoundMs(config: ProtocolConfig, nodes: number): number {
  const m = config.heartbeatFanout;
  const rounds = Math.ceil(Math.log(nodes) / Math.log(m + 1)) + Math.ceil(Math.log(nodes) / m);
  return (2 * rounds + 1) * config.heartbeatIntervalMs;
}

/**
 * The latest, after a crash, at which every live node has failed the crashed member when its
 * heartbeat spreads by gossip: failAfter after the last rise of its heartbeat, which arrives by
 * the end of `heartbeatSpreadBoundMs` (a node that never receives it saw its last rise earlier
 * still). Direct heartbeats (hybrid at or below its threshold) are faster.
 */
export function heartbeatDetectionBoundMs(config: ProtocolConfig, nodes: number): number {
  return config.failAfterMs + heartbeatSpreadBoundMs(config, nodes);
}

/**
 * The longest a failed verdict about a crashed member can take under `protocol`: for heartbeat
 * modes `heartbeatDetectionBoundMs`; for SWIM the longest suspicion timeout plus a probe period
 * at the worst local health.
 */
export function longestVerdictMs(config: ProtocolConfig, protocol: Protocol, nodes: number): number {
  if (protocol !== 'swim') return heartbeatDetectionBoundMs(config, nodes);
  return maxSuspicionTimeoutMs(config, nodes) + config.awarenessMaxMultiplier * config.probeIntervalMs;
}
