/**
 * The simulator's counterpart of the lab: the same scenario timeline, run by hearsay's core on
 * virtual time, measured by the same metrics as the lab's real agents.
 */
import type { MemberNode } from 'hearsay/core';
import { buildSimulation, longestVerdictMs, type Simulation } from 'hearsay/sim';
import { formedCluster, type Observation } from '../metrics/index.js';
import { scenarioFigures, type WindowCounts } from '../metrics/index.js';
import { memberName, timelineOf } from '../scenarios/plan.js';
import { emptyFigures, type ResultRow, type ScenarioSpec } from '../types.js';
import { memberNames, plannedPauses, plannedUp, simOptionsFor } from './timeline.js';

/**
 * Runs repetition `rep` of `spec` (seed spec.seed + rep − 1) on the simulator, exactly as
 * `timelineOf(spec, rep)` says, until the timeline's end, and measures it.
 */
export function simulateScenario(spec: ScenarioSpec, rep: number): ResultRow {
  const timeline = timelineOf(spec, rep);
  const seed = spec.seed + rep - 1;
  const sim = buildSimulation(simOptionsFor(spec, timeline, seed));
  const names = memberNames(spec);
  // The converged start's own events came before these listeners: at 0 the lists are the formed cluster's.
  const observations: Observation[] = formedCluster(names);
  sim.eventListeners.push((observer, member, event, now) => {
    observations.push({ atMs: now, observer: memberName(observer), type: event.type, member: memberName(member) });
  });
  sim.serfListeners.push((observer, report, now) => {
    if (report.kind === 'event') observations.push({ atMs: now, observer: memberName(observer), type: 'user', event: report.name });
  });
  for (const { atMs, members } of timeline.restarts) {
    for (const name of members) {
      const index = sim.indexOf(name);
      // SIGKILL, then a new process with the same name and address, joining through n0.
      sim.at(atMs, () => {
        sim.crash(index);
        sim.startNode(index, [0]);
      });
    }
  }

  // The fault window's counters (failed probes, refutations, packets) are read from every
  // member's first run, the killed one's too: only churn restarts members, and it reads none.
  const cores = names.map((_, i) => sim.node(i)!);
  let degradedPairs = 0;
  sim.degradedListeners.push((_index, _member, degraded, now) => {
    if (degraded && now <= spec.faultMs) degradedPairs++;
  });
  const before = windowCounts(sim, cores);
  sim.runUntil(spec.faultMs);
  const after = windowCounts(sim, cores);
  sim.runUntil(timeline.endMs);

  const figures = scenarioFigures({
    spec,
    timeline,
    observations,
    up: plannedUp(spec, timeline),
    pauses: plannedPauses(spec, timeline),
    graceMs: longestVerdictMs(sim.config, sim.protocol, spec.nodes),
    crashAtMs: spec.faultMs,
    // Stream messages count one packet each here, where the lab's counters see every TCP segment.
    counts: {
      failedProbes: after.failedProbes - before.failedProbes,
      refutations: after.refutations - before.refutations,
      packets: after.packets - before.packets,
      degradedPairs,
    },
  });
  return {
    scenario: spec.scenario,
    system: 'sim',
    variant: spec.variant,
    param: spec.param,
    rep,
    seed,
    nodes: spec.nodes,
    faultS: spec.faultMs / 1000,
    ...emptyFigures(),
    ...figures,
  };
}

function windowCounts(sim: Simulation, cores: readonly MemberNode[]): Omit<WindowCounts, 'degradedPairs'> {
  let failedProbes = 0;
  let refutations = 0;
  for (const core of cores) {
    failedProbes += core.stats.probesFailed;
    refutations += core.stats.refutations;
  }
  return { failedProbes, refutations, packets: sim.traffic.packets };
}
