/**
 * A scenario's timeline in the simulator's terms: the faults as simulator options, and the
 * ground truth (who was up and who paused when) that the metrics judge the members' views by.
 */
import type { SimOptions } from 'hearsay/sim';
import type { Interval, PauseInterval, UpIntervals } from '../metrics/observations.js';
import { FLAP_HALF_PERIOD_MS, memberName, type Timeline } from '../scenarios/plan.js';
import type { ScenarioSpec } from '../types.js';

/** One way across the lab's bridge between namespaces: about 0.1 ms. */
const LAN_DELAY_MS = 0.09;
const LAN_JITTER_MS = 0.02;

/** Every member's name, n0 … n{N−1}: the simulator's own naming. */
export function memberNames(spec: ScenarioSpec): string[] {
  return Array.from({ length: spec.nodes }, (_, i) => memberName(i));
}

/**
 * The simulator options that run `timeline`: a formed cluster at 0 on a LAN, the faults at their
 * times. Churn's restarts are not among them: `simulateScenario` makes them join through n0, as
 * the lab's do, where the simulator's restarts pick a random live member.
 */
export function simOptionsFor(spec: ScenarioSpec, timeline: Timeline, seed: number): SimOptions {
  const base: SimOptions = {
    nodes: spec.nodes,
    seed,
    durationMs: timeline.endMs,
    profile: spec.profile,
    start: 'converged',
    delayMs: LAN_DELAY_MS,
    jitterMs: LAN_JITTER_MS,
    // No figure is in bytes: summed message sizes spare encoding every packet.
    byteCounting: 'estimate',
    userEvents: timeline.events.map(({ atMs, from, name }) => ({ atMs, from, name })),
  };
  const { faultMs } = spec;
  switch (spec.scenario) {
    case 'loss':
      // Loss on a real link hits TCP segments as well as UDP packets: streams (push/pull, TCP
      // pings) are delayed by retransmissions, and fail past their timeouts (SimOptions.streamLoss).
      return { ...base, loss: spec.param / 100, streamLoss: true, crash: [timeline.killed!], crashAtMs: faultMs };
    case 'oneway':
      return { ...base, blocks: [{ ...timeline.oneway!, atMs: 0, untilMs: faultMs }] };
    case 'partition':
      return { ...base, partitions: [{ atMs: 0, healAtMs: faultMs, groups: timeline.sides!.map((side) => [...side]) }] };
    case 'flap': {
      // The flapper alone in a group: every link of it cut, then restored, every half period.
      const partitions = [];
      for (let atMs = 0; atMs < faultMs; atMs += 2 * FLAP_HALF_PERIOD_MS) {
        partitions.push({ atMs, healAtMs: Math.min(atMs + FLAP_HALF_PERIOD_MS, faultMs), groups: [[timeline.flapper!]] });
      }
      return { ...base, partitions };
    }
    case 'pause':
      return { ...base, pauses: [{ name: timeline.paused!, atMs: 0, forMs: faultMs }] };
    case 'churn':
      return base;
  }
}

/**
 * Who ran when: everyone from 0, the killed member until its kill, a restarted member in one run
 * per restart. A restart at 0 (churn's first batch) starts the member's only run so far: an empty
 * run before it would come after the formed cluster's observations at 0.
 */
export function plannedUp(spec: ScenarioSpec, timeline: Timeline): UpIntervals {
  const up = new Map<string, Interval[]>(memberNames(spec).map((name) => [name, [{ fromMs: 0, toMs: Infinity }]]));
  if (timeline.killed) up.set(timeline.killed, [{ fromMs: 0, toMs: spec.faultMs }]);
  for (const { atMs, members } of timeline.restarts) {
    for (const name of members) {
      const runs = up.get(name)!;
      const current = runs.pop()!;
      if (current.fromMs < atMs) runs.push({ fromMs: current.fromMs, toMs: atMs });
      runs.push({ fromMs: atMs, toMs: Infinity });
    }
  }
  return up;
}

/** The pause, if the scenario has one. */
export function plannedPauses(spec: ScenarioSpec, timeline: Timeline): PauseInterval[] {
  return timeline.paused ? [{ member: timeline.paused, fromMs: 0, toMs: spec.faultMs }] : [];
}
