/**
 * Which figures each scenario reports, computed the same way for the simulator's runs and the
 * lab's: observations, up intervals and pauses in, the row's figures out.
 */
import type { Timeline } from '../scenarios/plan.js';
import type { ResultRow, ScenarioSpec } from '../types.js';
import { convergenceS, declarers, deliveries, detection, failuresAbout, falseFailures, ghosts, peakMembers } from './figures.js';
import type { Observation, PauseInterval, UpIntervals } from './observations.js';

/** What a run measured besides its observations: counters over the fault window [0, faultMs], summed over the members. */
export interface WindowCounts {
  readonly failedProbes: number;
  readonly refutations: number;
  readonly packets: number;
  /** Degraded pairs reported (a member reached only through helpers or TCP); null where the system reports none. */
  readonly degradedPairs: number | null;
}

export interface ScenarioRun {
  readonly spec: ScenarioSpec;
  readonly timeline: Timeline;
  readonly observations: readonly Observation[];
  readonly up: UpIntervals;
  readonly pauses: readonly PauseInterval[];
  /** The longest a failed verdict may take after an outage (see FalseFailureRules). */
  readonly graceMs: number;
  /** When the loss scenario's member was killed: the fault's end in the simulator, when the lab's SIGKILL went out in the lab. */
  readonly crashAtMs: number;
  readonly counts: WindowCounts;
}

export function scenarioFigures(run: ScenarioRun): Partial<ResultRow> {
  const { spec, timeline, observations, up, pauses, graceMs, counts, crashAtMs } = run;
  const { endMs } = timeline;
  const falseAbout = (exclude: readonly string[] = []) => falseFailures(observations, up, pauses, { graceMs, exclude });
  switch (spec.scenario) {
    case 'loss':
      return {
        falseFailures: falseAbout(),
        failedProbes: counts.failedProbes,
        refutations: counts.refutations,
        packetsPerNodeS: counts.packets / spec.nodes / (spec.faultMs / 1000),
        ...detection(observations, up, timeline.killed!, crashAtMs, endMs),
      };
    case 'oneway':
      return { falseFailures: falseAbout(), failedProbes: counts.failedProbes, degradedPairs: counts.degradedPairs };
    case 'partition':
      return {
        convergenceS: convergenceS(observations, up, spec.faultMs, endMs),
        ghosts: ghosts(observations, up, endMs),
        ...deliveries(observations, up, timeline.events, endMs),
      };
    case 'flap':
      return { flapsSeen: failuresAbout(observations, timeline.flapper!), falseFailures: falseAbout([timeline.flapper!]) };
    case 'pause':
      return {
        pausedDeclared: declarers(observations, timeline.paused!),
        falseFailures: falseAbout([timeline.paused!]),
        convergenceS: convergenceS(observations, up, spec.faultMs, endMs),
      };
    case 'churn':
      return {
        ghosts: ghosts(observations, up, endMs),
        peakMembers: peakMembers(observations, up, endMs),
        convergenceS: convergenceS(observations, up, timeline.restarts.at(-1)!.atMs, endMs),
        ...deliveries(observations, up, timeline.events, endMs),
        falseFailures: falseAbout(),
      };
  }
}
