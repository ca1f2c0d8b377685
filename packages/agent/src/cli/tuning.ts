/**
 * The tuning advisor behind `hearsay tune`: a small grid of SWIM timings around the LAN profile,
 * each run on the simulator under the operator's cluster size, packet loss and round trip, and a
 * recommendation by a fixed rule. Deterministic: the same request gives the same report.
 */
import { createRandom, deriveSeed, PROFILES, type ProtocolConfig } from 'hearsay/core';
import { buildSimulation, longestVerdictMs, type Simulation } from 'hearsay/sim';
import { flagFor } from './timing-options.js';

const LAN = PROFILES.lan;
const HOUR_MS = 3_600_000;

/** The settings the advisor varies; every other one keeps the LAN profile's value. */
export type Timing = Pick<ProtocolConfig, 'probeIntervalMs' | 'probeTimeoutMs' | 'suspicionMult'>;

/** The cluster and network to tune for. */
export interface TuneRequest {
  nodes: number;
  /** Probability that a UDP packet, or a stream's segment, is lost (0 … 1). */
  loss: number;
  /** Mean round trip between two members (ms). */
  rttMs: number;
  /** Crash-free virtual time in which false failures and traffic are counted (ms). */
  windowMs: number;
  seed: number;
  /** The p99 detection time the recommendation should meet (ms). */
  targetDetectionMs?: number;
}

/** What one timing did in the simulator. */
export interface Measurement {
  timing: Timing;
  /** Mean over every (crash, live member) pair of the time until that member marked the crash failed. */
  detectionMeanMs: number | null;
  /** The 99th percentile of the same, counting members that never did as infinitely late (then null). */
  detectionP99Ms: number | null;
  /** (crash, live member) pairs where the member had not marked the crash failed by the end of its watch. */
  undetected: number;
  /** Times a member declared a live, reachable member failed in the crash-free window. */
  falseFailures: number;
  falseFailuresPerNodeHour: number;
  /** Packets and stream messages sent per node per second in the crash-free window. */
  packetsPerNodePerS: number;
}

export interface Recommendation {
  /** The recommended measurement's index. */
  choice: number;
  /** Whether the choice's p99 detection meets the target; null without a target. */
  meetsTarget: boolean | null;
  /** When the choice misses the target: the fastest measurement that meets it, at more false failures; else null. */
  fastestMeetingTarget: number | null;
}

export interface TuneReport {
  request: TuneRequest;
  /** Crashes each timing goes through after its crash-free window. */
  crashes: number;
  /** Node-hours in each timing's crash-free window: what a zero false-failure count is worth. */
  nodeHours: number;
  measurements: Measurement[];
  recommendation: Recommendation;
}

/** Probe intervals of the grid, as multiples of the shortest. */
const INTERVAL_STEPS = [1, 2, 4];
/** Suspicion multipliers of the grid: memberlist's local (3), LAN (4) and WAN (6) values, and 2, where Lifeguard waits for no confirmation. */
const SUSPICION_MULTS = [2, 3, 4, 6];
/**
 * The shortest probe interval in round trips. The timeout is half the interval, as in the LAN
 * profile, so it is at least 3 RTTs, more than twice the slowest simulated round trip (1.25 RTT),
 * and the indirect probes (two round trips) get as much time again.
 */
const SHORTEST_INTERVAL_RTTS = 6;

/**
 * The candidate timings: 3 probe intervals × 4 suspicion multipliers. The intervals start at
 * half the LAN profile's (500 ms), or at 6 RTTs on a slower network (rounded up to 100 ms), and
 * double twice; each timeout is half its interval.
 */
export function candidateTimings(rttMs: number): Timing[] {
  const shortest = Math.max(LAN.probeIntervalMs / 2, Math.ceil((SHORTEST_INTERVAL_RTTS * rttMs) / 100) * 100);
  return INTERVAL_STEPS.flatMap((step) =>
    SUSPICION_MULTS.map((suspicionMult) => ({ probeIntervalMs: shortest * step, probeTimeoutMs: (shortest * step) / 2, suspicionMult })),
  );
}

/**
 * Crashes per timing: enough for some 250 (crash, member) samples, but at most one per ten nodes
 * (crashes hardly shrink the cluster) and 5; at least one. Large clusters need fewer: with many
 * probers the first suspicion varies little from one crash to the next.
 */
export function crashesFor(nodes: number): number {
  return Math.max(1, Math.min(5, Math.floor(nodes / 10), Math.ceil(250 / (nodes - 1))));
}

/**
 * The default crash-free window: 500 node-minutes (10m at 50 nodes), whole minutes from 1m to
 * 1h. A fixed amount of node-time keeps both the run time and what a zero false-failure count
 * is worth about the same whatever the cluster size.
 */
export function defaultWindowMs(nodes: number): number {
  return Math.min(60, Math.max(1, Math.round(500 / nodes))) * 60_000;
}

/** The victims' random stream: apart from the nodes' (index × 1000 + run) and the user events' (−1 − i). */
const VICTIM_STREAM = -1_000_000;

/** Runs every candidate timing (calling `onMeasured` after each) and picks one. */
export function tune(request: TuneRequest, onMeasured?: (done: number, total: number) => void): TuneReport {
  const timings = candidateTimings(request.rttMs);
  const measurements = timings.map((timing, i) => {
    const measurement = measure(request, timing);
    onMeasured?.(i + 1, timings.length);
    return measurement;
  });
  return {
    request,
    crashes: crashesFor(request.nodes),
    nodeHours: nodeHours(request),
    measurements,
    recommendation: recommend(measurements, request.targetDetectionMs),
  };
}

function nodeHours(request: TuneRequest): number {
  return (request.nodes * request.windowMs) / HOUR_MS;
}

/**
 * One timing on the simulator: a converged cluster under the request's loss (on streams too,
 * with TCP's retransmissions, so the agent's TCP ping fallback is what it would be), round trips
 * of 0.75 to 1.25 RTT; first the crash-free window, then crashes one after the other.
 */
function measure(request: TuneRequest, timing: Timing): Measurement {
  const { nodes, windowMs } = request;
  const sim = buildSimulation({
    nodes,
    seed: request.seed,
    start: 'converged',
    config: timing,
    loss: request.loss,
    streamLoss: true,
    delayMs: (request.rttMs * 3) / 8,
    jitterMs: request.rttMs / 4,
    durationMs: windowMs,
    // Only packets are counted: summing sizes is far cheaper than encoding every packet.
    byteCounting: 'estimate',
  });
  sim.runUntil(windowMs);
  const falseFailures = sim.observer.falsePositives;
  const packetsPerNodePerS = sim.traffic.packets / nodes / (windowMs / 1000);
  const { times, undetected } = detectionTimes(sim, request.seed, crashesFor(nodes));
  return {
    timing,
    detectionMeanMs: times.length === 0 ? null : times.reduce((sum, t) => sum + t, 0) / times.length,
    detectionP99Ms: percentile([...times, ...new Array<number>(undetected).fill(Number.POSITIVE_INFINITY)], 0.99),
    undetected,
    falseFailures,
    falseFailuresPerNodeHour: falseFailures / nodeHours(request),
    packetsPerNodePerS,
  };
}

/**
 * Crashes `crashes` random live members one at a time, each once every live member has marked
 * the previous one failed (or its watch ran out: the longest verdict plus 10 probe intervals),
 * and collects how long each member took. The victims come from a stream of their own, so every
 * timing loses the same members.
 */
function detectionTimes(sim: Simulation, seed: number, crashes: number): { times: number[]; undetected: number } {
  const n = sim.options.nodes;
  const victims = createRandom(deriveSeed(seed, VICTIM_STREAM));
  const step = sim.config.probeIntervalMs;
  const watchMs = longestVerdictMs(sim.config, 'swim', n) + 10 * step;
  const times: number[] = [];
  let undetected = 0;
  let victim = -1;
  let crashedAt = 0;
  const waiting = new Set<number>();
  sim.eventListeners.push((observer, member, event, now) => {
    if (member === victim && event.type === 'failed' && waiting.delete(observer)) times.push(now - crashedAt);
  });
  for (let c = 0; c < crashes; c++) {
    const live = Array.from({ length: n }, (_, i) => i).filter((i) => sim.isLive(i));
    victim = live[victims.int(live.length)]!;
    const name = sim.node(victim)!.name;
    waiting.clear();
    // A member that already lists the victim failed (a false failure not refuted yet) has nothing left to detect.
    for (const i of live) if (i !== victim && sim.node(i)!.member(name)?.status !== 'failed') waiting.add(i);
    crashedAt = sim.now;
    sim.crash(victim);
    const deadline = crashedAt + watchMs;
    while (waiting.size > 0 && sim.now < deadline) sim.runUntil(Math.min(sim.now + step, deadline));
    undetected += waiting.size;
  }
  return { times, undetected };
}

/** The nearest-rank percentile `p` (0 … 1) of `values`; null when there are none or it is infinite. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return Number.isFinite(value) ? value : null;
}

/** Faster detection first: p99, then mean (never-detected last), then fewer packets, then grid order. */
function byDetection(measurements: readonly Measurement[]): (a: number, b: number) => number {
  const last = (ms: number | null) => ms ?? Number.POSITIVE_INFINITY;
  return (a, b) => {
    const x = measurements[a]!;
    const y = measurements[b]!;
    return (
      Math.sign(last(x.detectionP99Ms) - last(y.detectionP99Ms)) ||
      Math.sign(last(x.detectionMeanMs) - last(y.detectionMeanMs)) ||
      Math.sign(x.packetsPerNodePerS - y.packetsPerNodePerS) ||
      a - b
    );
  };
}

/**
 * The rule: among the measurements with the fewest false failures per node-hour (zero, if any
 * has none), the one with the fastest detection (p99). A target does not trade false failures
 * for speed: it is reported as met or missed, with the fastest measurement that would meet it.
 */
export function recommend(measurements: readonly Measurement[], targetDetectionMs?: number): Recommendation {
  if (measurements.length === 0) throw new RangeError('no measurement to recommend from');
  const fastestFirst = measurements.map((_, i) => i).sort(byDetection(measurements));
  const fewest = Math.min(...measurements.map((m) => m.falseFailuresPerNodeHour));
  const choice = fastestFirst.find((i) => measurements[i]!.falseFailuresPerNodeHour === fewest)!;
  if (targetDetectionMs === undefined) return { choice, meetsTarget: null, fastestMeetingTarget: null };
  const meets = (i: number) => {
    const p99 = measurements[i]!.detectionP99Ms;
    return p99 !== null && p99 <= targetDetectionMs;
  };
  if (meets(choice)) return { choice, meetsTarget: true, fastestMeetingTarget: null };
  return { choice, meetsTarget: false, fastestMeetingTarget: fastestFirst.find(meets) ?? null };
}

/** A duration as the CLI's flags take it, in the largest unit that keeps it whole: `10m`, `2s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms > 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms > 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The `hearsay agent` flags that run `timing` on the profile the simulations used. */
export function agentFlags(timing: Timing): string[] {
  return [
    '--profile',
    'lan',
    `--${flagFor('probeIntervalMs')}`,
    formatDuration(timing.probeIntervalMs),
    `--${flagFor('probeTimeoutMs')}`,
    formatDuration(timing.probeTimeoutMs),
    `--${flagFor('suspicionMult')}`,
    String(timing.suspicionMult),
  ];
}
