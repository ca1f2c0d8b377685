/**
 * A lab run's row: its agents' log facts and handler deliveries as observations, measured by the
 * same scenario figures as the simulator's runs.
 */
import { resolveConfig } from 'hearsay/core';
import { longestVerdictMs } from 'hearsay/sim';
import { type Observation, type PauseInterval, scenarioFigures } from '../metrics/index.js';
import { emptyFigures, type ResultRow } from '../types.js';
import type { LabRecord } from './lab-run.js';

export function labFigures(record: LabRecord): ResultRow {
  const { spec, rep, system, timeline } = record;
  const observations: Observation[] = [
    ...record.facts.flatMap(({ atMs, observer, fact }) => (fact.kind === 'member' ? [{ atMs, observer, type: fact.type, member: fact.member }] : [])),
    ...record.deliveries.map(({ atMs, member, event }) => ({ atMs, observer: member, type: 'user' as const, event })),
  ];
  const pauses: PauseInterval[] = [...record.paused].flatMap(([member, intervals]) => intervals.map((interval) => ({ member, ...interval })));
  // Serf's LAN profile and hearsay's are memberlist's DefaultLANConfig: one bound for both.
  const graceMs = longestVerdictMs(resolveConfig('lan', {}), 'swim', spec.nodes);
  const figures = scenarioFigures({
    spec,
    timeline,
    observations,
    up: record.up,
    pauses,
    graceMs,
    crashAtMs: record.crashAtMs,
    counts: { failedProbes: record.failedProbes, refutations: record.refutations, packets: record.packets, degradedPairs: record.degradedPairs },
  });
  return {
    scenario: spec.scenario,
    system,
    variant: spec.variant,
    param: spec.param,
    rep,
    seed: spec.seed + rep - 1,
    nodes: spec.nodes,
    faultS: spec.faultMs / 1000,
    ...emptyFigures(),
    ...figures,
  };
}
