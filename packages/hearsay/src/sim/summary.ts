import { roundRobinFirstSuspicionMs, swimFirstSuspicionMs } from './bounds.js';
import { emptyTraffic, loadPerRound, roundMs } from './load.js';
import type { SimOptions, SimResult } from './scenario.js';
import type { Simulation } from './simulator.js';

/** A summary of a finished simulation, in the shape `hearsay sim --json` prints; `wallMs` is the real time it took. */
export function summarize(sim: Simulation, options: SimOptions, wallMs: number): SimResult {
  const { observer, config, traffic } = sim;
  const swim = sim.protocol === 'swim';
  const durationMs = sim.options.durationMs;
  const durationS = durationMs / 1000;
  const round = roundMs(config, sim.protocol);
  const crashes = observer.crashReports.map((c) => ({ ...c }));
  const mean = (values: (number | null)[]): number | null => {
    const known = values.filter((v): v is number => v !== null);
    return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
  };
  let suspicions = 0;
  let refutations = 0;
  for (let i = 0; i < sim.options.nodes; i++) {
    const node = sim.node(i);
    if (!node) continue;
    suspicions += node.stats.suspicionsRaised;
    refutations += node.stats.refutations;
  }
  return {
    nodes: sim.options.nodes,
    seed: sim.options.seed,
    protocol: sim.protocol,
    profile: options.profile ?? 'lan',
    duration_ms: sim.options.durationMs,
    loss: sim.options.loss,
    start: options.start ?? 'join',
    converged_at_ms: observer.convergedAt,
    converged_at_end: observer.converged,
    settled_at_ms: observer.converged ? observer.settledAt : null,
    crashes,
    leaves: observer.leaveReports.map((l) => ({ ...l })),
    mean_first_suspect_ms: mean(crashes.map((c) => c.first_suspect_ms)),
    // SWIM's expectations say nothing about heartbeat gossip, whose suspicion is a fixed silence.
    expected_first_suspect_ms: swim ? mean(crashes.map((c) => swimFirstSuspicionMs(config, c.group_size, c.live_nodes))) : null,
    expected_first_suspect_continuous_ms: swim ? mean(crashes.map((c) => roundRobinFirstSuspicionMs(config, c.group_size, c.live_nodes))) : null,
    mean_all_failed_ms: mean(crashes.map((c) => c.all_failed_ms)),
    false_positives: observer.falsePositives,
    resurrections: observer.resurrections,
    suspicions,
    refutations,
    switches: sim.switches.reports.map((s) => ({ ...s })),
    user_events: sim.serfReports.events(),
    queries: sim.serfReports.queries(),
    msgs_per_node_per_s: traffic.packets / sim.options.nodes / durationS,
    bytes_per_node_per_s: traffic.bytes / sim.options.nodes / durationS,
    bytes_are_estimates: (options.byteCounting ?? 'wire') !== 'wire',
    round_ms: round,
    load_per_round: loadPerRound(emptyTraffic(), traffic, durationMs, round),
    events_processed: sim.eventsProcessed,
    wall_ms: Math.round(wallMs),
  };
}
