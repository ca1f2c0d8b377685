/** Which figures each scenario reports, and how one figure sums up over a variant's repetitions. */
import type { emptyFigures, ResultRow, ScenarioName } from '../types.js';
import { type Estimate, estimate } from './confidence.js';

export type Metric = keyof ReturnType<typeof emptyFigures>;

/** The columns each scenario's table compares: what the scenario is meant to provoke or test. */
export const SCENARIO_METRICS: Readonly<Record<ScenarioName, readonly Metric[]>> = {
  loss: ['falseFailures', 'failedProbes', 'refutations', 'packetsPerNodeS', 'detectionFirstS', 'detectionAllS'],
  oneway: ['falseFailures', 'failedProbes', 'degradedPairs'],
  partition: ['convergenceS', 'ghosts', 'eventDeliveryRatio'],
  flap: ['flapsSeen', 'falseFailures'],
  pause: ['pausedDeclared', 'falseFailures', 'convergenceS'],
  churn: ['ghosts', 'peakMembers', 'convergenceS', 'eventDeliveryRatio', 'falseFailures'],
};

/** types.ts: convergenceS is null when the cluster never converged within the watch window, not when unmeasured. */
export function nullMeansNever(metric: Metric): boolean {
  return metric === 'convergenceS';
}

/** One figure of one system in one variant, over its repetitions. */
export interface Summary {
  readonly runs: number;
  /** Over the runs that have a value. */
  readonly estimate: Estimate | null;
  /** Runs without a value: for convergenceS, runs that never converged. */
  readonly missing: number;
}

export function summarize(rows: readonly ResultRow[], metric: Metric): Summary {
  const values = rows.map((row) => row[metric]).filter((value): value is number => value !== null);
  return { runs: rows.length, estimate: estimate(values), missing: rows.length - values.length };
}
