/**
 * The simulations behind the experiments, each a pure function of plain parameters (seed
 * included) returning plain rows: the same task gives the same rows in any thread.
 */
import { DEFAULT_VSN, type MemberEvent, type ProtocolConfig } from 'hearsay/core';
import { buildSimulation, simHost, simulate, Simulation, type LinkSpec } from 'hearsay/sim';
import type { DetectionParams, Detector, FalsePositiveParams, LoadParams, Row, RttNetwork, RttTimeoutParams, SpreadParams, SyncParams, Task } from './types.js';

/** Serf's empty tags, as the simulator gives its nodes. */
const EMPTY_META = Uint8Array.of(0xff, 0x80);
const HOUR_MS = 3_600_000;

export function runScenario(task: Task): Row[] {
  switch (task.scenario) {
    case 'spread':
      return runSpread(task.params);
    case 'detection':
      return runDetection(task.params);
    case 'falsePositives':
      return [runFalsePositives(task.params)];
    case 'load':
      return [runLoad(task.params)];
    case 'sync':
      return [runSync(task.params)];
    case 'rttTimeouts':
      return [runRttTimeouts(task.params)];
  }
}

/** Times at which each observer first learned something, from the start of the event. */
class Spread {
  readonly #times: number[] = [];
  readonly #seen: Uint8Array;
  constructor(
    nodes: number,
    readonly startedAt: number,
  ) {
    this.#seen = new Uint8Array(nodes);
  }
  learn(observer: number, now: number): void {
    if (this.#seen[observer]) return;
    this.#seen[observer] = 1;
    this.#times.push(now - this.startedAt);
  }
  get count(): number {
    return this.#times.length;
  }
  /** The time by which `count` observers knew (times arrive in order), or null. */
  by(count: number): number | null {
    return count <= this.#times.length ? this.#times[count - 1]! : null;
  }
}

/**
 * A node joins a converged cluster of N through a random member; once every member lists it
 * alive, a random original member crashes.
 */
function runSpread(p: SpreadParams): Row[] {
  const config: Partial<ProtocolConfig> = {
    gossipNodes: p.fanout,
    gossipIntervalMs: p.periodMs,
    heartbeatFanout: p.fanout,
    heartbeatIntervalMs: p.periodMs,
    suspectAfterMs: p.suspectAfterMs,
    failAfterMs: p.failAfterMs,
  };
  const n = p.nodes;
  const joiner = n;
  const sim = new Simulation({ nodes: n + 1, seed: p.seed, protocol: p.protocol, config, byteCounting: 'estimate' });
  startAllButLast(sim);
  // Every node's probes and tables start at a random phase within a period: let them settle.
  const joinAt = Math.max(2000, 2 * p.periodMs);
  const join = new Spread(n + 1, joinAt);
  let crash: Spread | undefined;
  let firstSuspect: number | null = null;
  let victim = -1;
  sim.eventListeners.push((from: number, member: number, event: MemberEvent, now: number) => {
    if (member === joiner && from !== joiner && (event.type === 'join' || event.type === 'alive')) join.learn(from, now);
    if (crash && member === victim && event.type === 'failed') crash.learn(from, now);
    if (crash && member === victim && firstSuspect === null && (event.type === 'suspect' || event.type === 'failed')) {
      firstSuspect = now - crash.startedAt;
    }
  });
  sim.at(joinAt, () => sim.startNode(joiner, [sim.random.int(n)]));

  // Long enough for the slowest setting: an epidemic tail, SWIM's longest suspicion, a push/pull.
  const limitMs = 240_000;
  const step = Math.min(250, p.periodMs);
  let now = joinAt;
  while (now < joinAt + limitMs) {
    now += step;
    sim.runUntil(now);
    if (!crash && join.count >= n) {
      if (!p.crash) break;
      victim = sim.random.int(n);
      crash = new Spread(n + 1, now);
      sim.crash(victim);
    }
    if (crash && crash.count >= n) break;
  }
  const base = {
    protocol: p.protocol,
    nodes: n,
    fanout_m: p.fanout,
    period_ms: p.periodMs,
    suspect_after_ms: p.protocol === 'heartbeat' ? p.suspectAfterMs : null,
    fail_after_ms: p.protocol === 'heartbeat' ? p.failAfterMs : null,
    seed: p.seed,
  };
  const half = Math.ceil(n / 2);
  const rows: Row[] = [
    {
      ...base,
      event: 'join',
      first_ms: join.by(1),
      half_ms: join.by(half),
      all_ms: join.by(n),
      first_suspect_ms: null,
      informed: join.count / n,
    },
  ];
  if (p.crash) {
    // The victim itself never learns; the joiner is one of the N live observers.
    rows.push({
      ...base,
      event: 'crash',
      first_ms: crash?.by(1) ?? null,
      half_ms: crash?.by(half) ?? null,
      all_ms: crash?.by(n) ?? null,
      first_suspect_ms: firstSuspect,
      informed: crash ? crash.count / n : 0,
    });
  }
  return rows;
}

/** Starts every node but the last, each knowing all the others alive, as `start: 'converged'` does. */
function startAllButLast(sim: Simulation): void {
  const started = sim.options.nodes - 1;
  const members = [];
  for (let i = 0; i < started; i++) {
    members.push({ profile: { name: `n${i}`, host: simHost(i), port: 7946, meta: EMPTY_META, vsn: DEFAULT_VSN }, incarnation: 1 });
  }
  for (let i = 0; i < started; i++) {
    sim.observer.presetView(i, started);
    sim.startNode(i, [], members);
  }
}

/** Detection runs on LAN defaults; the first crash comes once every node has probed a few times. */
const DETECTION_CRASH_AT_MS = 10_000;

function runDetection(p: DetectionParams): Row[] {
  const result = simulate({
    nodes: p.nodes,
    seed: p.seed,
    start: 'converged',
    protocol: p.protocol,
    crash: p.crashes,
    crashAtMs: DETECTION_CRASH_AT_MS,
    crashEveryMs: p.crashEveryMs,
    durationMs: DETECTION_CRASH_AT_MS + p.crashes * p.crashEveryMs,
    byteCounting: 'estimate',
  });
  return result.crashes.map((crash, index) => ({
    protocol: p.protocol,
    nodes: p.nodes,
    seed: p.seed,
    crash: index,
    live_nodes: crash.live_nodes,
    first_suspect_ms: crash.first_suspect_ms,
    all_failed_ms: crash.all_failed_ms,
    expected_first_suspect_ms: result.protocol === 'swim' ? expectedOf(result.expected_first_suspect_ms) : null,
    false_positives: result.false_positives,
  }));
}

function expectedOf(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

/**
 * "Without Lifeguard" turns off the local health multiplier (and with it what nacks are for)
 * and the confirmation-shortened suspicion timeout (max = min). TCP pings are off for every
 * SWIM variant: the simulator's streams are lossless, so they would hide all UDP loss.
 */
export const DETECTOR_CONFIGS: Record<Detector, { protocol: 'swim' | 'heartbeat'; config: Partial<ProtocolConfig> }> = {
  'swim-lifeguard': { protocol: 'swim', config: { disableTcpPings: true } },
  'swim-plain': { protocol: 'swim', config: { disableTcpPings: true, awarenessMaxMultiplier: 1, suspicionMaxTimeoutMult: 1 } },
  'heartbeat-fixed': { protocol: 'heartbeat', config: { suspectAfterMs: 5000, failAfterMs: 10_000 } },
  'heartbeat-phi': { protocol: 'heartbeat', config: { phiThreshold: 8, suspectAfterMs: 5000, failAfterMs: 5000 } },
};

function runFalsePositives(p: FalsePositiveParams): Row {
  const { protocol, config } = DETECTOR_CONFIGS[p.detector];
  const result = simulate({
    nodes: p.nodes,
    seed: p.seed,
    start: 'converged',
    protocol,
    config,
    loss: p.loss,
    durationMs: p.durationMs,
    byteCounting: 'estimate',
  });
  const nodeHours = (p.nodes * p.durationMs) / HOUR_MS;
  return {
    detector: p.detector,
    nodes: p.nodes,
    loss: p.loss,
    duration_ms: p.durationMs,
    seed: p.seed,
    node_hours: nodeHours,
    false_positives: result.false_positives,
    fp_per_node_hour: result.false_positives / nodeHours,
    suspicions: result.suspicions,
    suspicions_per_node_hour: result.suspicions / nodeHours,
  };
}

/** Startup gossip (every node announces itself a few times) is over well within this. */
const LOAD_WARMUP_MS = 10_000;

/** The steady-state load: traffic counted after a warm-up, over `durationMs`. */
function runLoad(p: LoadParams): Row {
  const sim = buildSimulation({
    nodes: p.nodes,
    seed: p.seed,
    start: 'converged',
    protocol: p.protocol === 'all-to-all' ? 'hybrid' : p.protocol,
    config: p.protocol === 'all-to-all' ? { hybridThreshold: p.nodes + 1 } : {},
    durationMs: LOAD_WARMUP_MS + p.durationMs,
    byteCounting: 'estimate',
  });
  sim.runUntil(LOAD_WARMUP_MS);
  const before = { ...sim.traffic };
  sim.runUntil(LOAD_WARMUP_MS + p.durationMs);
  const after = sim.traffic;
  const perNodePerS = (delta: number) => delta / p.nodes / (p.durationMs / 1000);
  return {
    protocol: p.protocol,
    nodes: p.nodes,
    duration_ms: p.durationMs,
    seed: p.seed,
    msgs_per_node_per_s: perNodePerS(after.packets - before.packets),
    bytes_per_node_per_s: perNodePerS(after.bytes - before.bytes),
    detector_msgs_per_node_per_s: perNodePerS(after.tables + after.pings + after.acks - before.tables - before.pings - before.acks),
    false_positives: sim.observer.falsePositives,
  };
}

/** Sampling step of the synchronisation measure (virtual ms). */
const SYNC_SAMPLE_MS = 50;

function runSync(p: SyncParams): Row {
  const sim = buildSimulation({
    nodes: p.nodes,
    seed: p.seed,
    start: 'converged',
    protocol: 'heartbeat',
    loss: p.loss,
    durationMs: p.durationMs,
    byteCounting: 'estimate',
    config: {
      heartbeatIntervalMs: p.periodMs,
      heartbeatFanout: p.fanout,
      suspectAfterMs: p.k * p.periodMs,
      failAfterMs: 2 * p.k * p.periodMs,
    },
  });
  let samples = 0;
  let synchronised = 0;
  for (let t = SYNC_SAMPLE_MS; t <= p.durationMs; t += SYNC_SAMPLE_MS) {
    sim.runUntil(t);
    samples++;
    if (sim.observer.converged) synchronised++;
  }
  let suspicions = 0;
  for (let i = 0; i < p.nodes; i++) suspicions += sim.node(i)?.stats.suspicionsRaised ?? 0;
  return {
    nodes: p.nodes,
    loss: p.loss,
    period_ms: p.periodMs,
    fanout_m: p.fanout,
    k: p.k,
    suspect_after_ms: p.k * p.periodMs,
    fail_after_ms: 2 * p.k * p.periodMs,
    duration_ms: p.durationMs,
    seed: p.seed,
    sync_fraction: synchronised / samples,
    false_failures: sim.observer.falsePositives,
    suspicions,
  };
}

/**
 * One-way delays of the rtt-timeouts networks: a base plus uniform jitter up to `jitterMs`.
 * `two-sites`: the first half of the nodes in one site, the rest in another; links within a
 * site as on the LAN, links between the sites `crossDelayMs` + up to `crossJitterMs`.
 */
export const RTT_NETWORKS: Record<RttNetwork, { delayMs: number; jitterMs: number; crossDelayMs?: number; crossJitterMs?: number }> = {
  lan: { delayMs: 1, jitterMs: 1 },
  jitter: { delayMs: 50, jitterMs: 100 },
  'two-sites': { delayMs: 1, jitterMs: 1, crossDelayMs: 60, crossJitterMs: 40 },
};

function rttLinks(network: RttNetwork, nodes: number): LinkSpec[] {
  const { crossDelayMs, crossJitterMs } = RTT_NETWORKS[network];
  if (crossDelayMs === undefined) return [];
  const half = Math.floor(nodes / 2);
  const links: LinkSpec[] = [];
  for (let a = 0; a < half; a++) {
    for (let b = half; b < nodes; b++) links.push({ between: [`n${a}`, `n${b}`], delayMs: crossDelayMs, jitterMs: crossJitterMs ?? 0 });
  }
  return links;
}

interface ProbeCounts {
  probes: number;
  failed: number;
  indirect: number;
  tcp: number;
  suspicions: number;
}

function probeCounts(sim: Simulation): ProbeCounts {
  const counts = { probes: 0, failed: 0, indirect: 0, tcp: 0, suspicions: 0 };
  for (let i = 0; i < sim.options.nodes; i++) {
    const stats = sim.node(i)?.stats;
    if (!stats) continue;
    counts.probes += stats.probes;
    counts.failed += stats.probesFailed;
    counts.indirect += stats.indirectPings;
    counts.tcp += stats.tcpPings;
    counts.suspicions += stats.suspicionsRaised;
  }
  return counts;
}

/**
 * SWIM (LAN profile, TCP pings on, streams lossy like the datagrams) with or without
 * probeTimeoutFromRtt: counts over a crash-free window after a warm-up, then detection of crashes.
 */
function runRttTimeouts(p: RttTimeoutParams): Row {
  const { delayMs, jitterMs } = RTT_NETWORKS[p.network];
  const crashAtMs = p.warmupMs + p.windowMs;
  const sim = buildSimulation({
    nodes: p.nodes,
    seed: p.seed,
    start: 'converged',
    config: { probeTimeoutFromRtt: p.rtt },
    loss: p.loss,
    delayMs,
    jitterMs,
    links: rttLinks(p.network, p.nodes),
    streamLoss: true,
    crash: p.crashes,
    crashAtMs,
    crashEveryMs: p.crashEveryMs,
    durationMs: crashAtMs + p.crashes * p.crashEveryMs,
    byteCounting: 'estimate',
  });
  sim.runUntil(p.warmupMs);
  const before = { counts: probeCounts(sim), falsePositives: sim.observer.falsePositives, packets: sim.traffic.packets };
  sim.runUntil(crashAtMs);
  const after = { counts: probeCounts(sim), falsePositives: sim.observer.falsePositives, packets: sim.traffic.packets };
  sim.runUntil(sim.options.durationMs);
  const nodeHours = (p.nodes * p.windowMs) / HOUR_MS;
  const delta = (key: keyof ProbeCounts) => after.counts[key] - before.counts[key];
  const falseFailures = after.falsePositives - before.falsePositives;
  const crashes = sim.observer.crashReports;
  const firsts = crashes.map((c) => c.first_suspect_ms).filter((v): v is number => v !== null);
  const alls = crashes.map((c) => c.all_failed_ms).filter((v): v is number => v !== null);
  const average = (values: number[]) => (values.length ? Math.round(values.reduce((a, b) => a + b, 0) / values.length) : null);
  return {
    network: p.network,
    rtt_timeouts: p.rtt,
    nodes: p.nodes,
    loss: p.loss,
    warmup_ms: p.warmupMs,
    window_ms: p.windowMs,
    seed: p.seed,
    node_hours: nodeHours,
    probes: delta('probes'),
    failed_probes: delta('failed'),
    failed_probes_per_node_hour: delta('failed') / nodeHours,
    indirect_pings_per_probe: delta('indirect') / delta('probes'),
    tcp_pings_per_probe: delta('tcp') / delta('probes'),
    suspicions_per_node_hour: delta('suspicions') / nodeHours,
    false_failures: falseFailures,
    false_failures_per_node_hour: falseFailures / nodeHours,
    packets_per_node_per_s: (after.packets - before.packets) / p.nodes / (p.windowMs / 1000),
    crashes: crashes.length,
    crashes_all_failed: alls.length,
    first_suspect_ms: average(firsts),
    all_failed_ms: average(alls),
  };
}
