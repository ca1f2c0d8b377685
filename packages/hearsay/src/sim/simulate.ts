import { ConfigError, createRandom, deriveSeed } from '../core/index.js';
import type { SimOptions, SimResult } from './scenario.js';
import { Simulation } from './simulator.js';
import { summarize } from './summary.js';

/**
 * Runs one simulated scenario to the end and reports what happened, measured against the
 * ground truth. Deterministic: the same options (seed included) give the same result.
 */
export function simulate(options: SimOptions): SimResult {
  const wallStart = performance.now();
  const sim = buildSimulation(options);
  sim.runUntil(sim.options.durationMs);
  return summarize(sim, options, performance.now() - wallStart);
}

/** A simulation with the scenario of `options` scheduled, ready to run. */
export function buildSimulation(options: SimOptions): Simulation {
  const sim = new Simulation(options);
  const n = sim.options.nodes;
  const start = options.start ?? 'join';
  if (start === 'converged') {
    sim.startConverged();
  } else if (start === 'join') {
    const window = options.joinWindowMs ?? 1000;
    sim.startNode(0, []);
    for (let i = 1; i < n; i++) {
      const at = sim.random.float() * window;
      sim.at(at, () => sim.startNode(i, [0]));
    }
  } else {
    throw new ConfigError(`start must be "join" or "converged", got "${String(start)}"`);
  }

  const victims = pickCrashes(sim, options.crash ?? 0);
  const crashAt = options.crashAtMs ?? sim.options.durationMs / 4;
  const every = options.crashEveryMs ?? 0;
  victims.forEach((index, i) => {
    sim.at(crashAt + i * every, () => sim.crash(index));
  });

  for (const pause of options.pauses ?? []) {
    const index = sim.indexOf(pause.name);
    sim.at(pause.atMs, () => sim.pause(index, pause.forMs));
  }
  for (const partition of options.partitions ?? []) {
    const groups = partition.groups.map((names) => names.map((name) => sim.indexOf(name)));
    sim.at(partition.atMs, () => sim.partition(groups));
    if (partition.healAtMs !== undefined) sim.at(partition.healAtMs, () => sim.heal());
  }
  for (const leave of options.leaves ?? []) {
    const index = sim.indexOf(leave.name);
    sim.at(leave.atMs, () => sim.leave(index, leave.timeoutMs ?? 5000));
  }
  for (const link of options.links ?? []) {
    sim.setLink(sim.indexOf(link.between[0]), sim.indexOf(link.between[1]), link);
  }
  for (const block of options.blocks ?? []) {
    const from = sim.indexOf(block.from);
    const to = sim.indexOf(block.to);
    sim.at(block.atMs, () => sim.setBlocked(from, to, true));
    if (block.untilMs !== undefined) sim.at(block.untilMs, () => sim.setBlocked(from, to, false));
  }
  for (const restart of options.restarts ?? []) {
    const index = sim.indexOf(restart.name);
    sim.at(restart.atMs, () => sim.restart(index));
  }
  for (const change of options.switches ?? []) {
    const via = change.via === undefined ? undefined : sim.indexOf(change.via);
    sim.at(change.atMs, () => sim.switchProtocol(change.protocol, via ?? firstRunning(sim)));
  }
  (options.userEvents ?? []).forEach((event, i) => {
    const from = event.from === undefined ? undefined : sim.indexOf(event.from);
    const payload = eventPayload(sim.options.seed, i, event.payloadBytes ?? 0);
    sim.at(event.atMs, () => sim.serfReports.sendEvent(from ?? firstRunning(sim), event.name, payload));
  });
  for (const query of options.queries ?? []) {
    const from = query.from === undefined ? undefined : sim.indexOf(query.from);
    const ask = query.timeoutMs === undefined ? {} : { timeoutMs: query.timeoutMs };
    sim.at(query.atMs, () => sim.serfReports.askQuery(from ?? firstRunning(sim), query.name, ask));
  }
  return sim;
}

/** The running node with the lowest index (n0 unless it crashed or is paused). */
function firstRunning(sim: Simulation): number {
  for (let i = 0; i < sim.options.nodes; i++) if (sim.node(i) && !sim.isPaused(i)) return i;
  return 0;
}

/** The i-th event's payload: seeded random bytes, as incompressible as real data, drawn apart from the run's own randomness. */
function eventPayload(seed: number, i: number, size: number): Uint8Array {
  if (!Number.isInteger(size) || size < 0) throw new ConfigError(`payloadBytes must be a whole number, got ${size}`);
  const random = createRandom(deriveSeed(seed, -1 - i));
  return Uint8Array.from({ length: size }, () => random.int(256));
}

function pickCrashes(sim: Simulation, crash: number | string[]): number[] {
  const n = sim.options.nodes;
  if (Array.isArray(crash)) return crash.map((name) => sim.indexOf(name));
  if (!Number.isInteger(crash) || crash < 0 || crash >= n) {
    throw new ConfigError(`crash must be a whole number below the cluster size (${n}), got ${crash}`);
  }
  // A partial Fisher–Yates draw: `crash` distinct random nodes.
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < crash; i++) {
    const j = i + sim.random.int(n - i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, crash);
}
