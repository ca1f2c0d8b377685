/** The README's tables: each scenario's systems side by side, and the simulator beside the lab. */
import { fmt, markdownTable } from 'hearsay-experiments/table';
import type { ResultRow, ScenarioName } from '../types.js';
import { nullMeansNever, type Metric, SCENARIO_METRICS, type Summary, summarize } from './metrics.js';
import { ofSystem, systemsIn, variantsOf } from './rows.js';

/** Ratios are read against 1 exactly, so they keep more digits than counts and times. */
const digitsOf = (metric: Metric) => (metric === 'eventDeliveryRatio' ? 4 : 3);

/** `mean ± half-width` of the 95% interval, or the one value; with the runs that lacked it. */
function formatSummary(summary: Summary, metric: Metric): string {
  const { estimate, missing, runs } = summary;
  if (!estimate) return nullMeansNever(metric) && runs > 0 ? `never ${runs}/${runs}` : '—';
  const digits = digitsOf(metric);
  const value = estimate.halfWidth === null ? fmt(estimate.mean, digits) : `${fmt(estimate.mean, digits)} ± ${fmt(estimate.halfWidth, 2)}`;
  if (missing === 0) return value;
  return nullMeansNever(metric) ? `${value}; never ${missing}/${runs}` : `${value} (n = ${estimate.n})`;
}

function repetitionsCell(runs: number): string {
  return runs === 1 ? 'n = 1, no interval' : `n = ${runs}`;
}

/** One line per variant and system, one column per figure the scenario reports. */
export function scenarioTable(rows: readonly ResultRow[], scenario: ScenarioName): string {
  const metrics = SCENARIO_METRICS[scenario];
  const body: string[][] = [];
  for (const { variant, rows: variantRows } of variantsOf(rows, scenario)) {
    for (const system of systemsIn(variantRows)) {
      const runs = ofSystem(variantRows, system);
      body.push([variant, system, repetitionsCell(runs.length), ...metrics.map((metric) => formatSummary(summarize(runs, metric), metric))]);
    }
  }
  return markdownTable(['variant', 'system', 'repetitions', ...metrics], body);
}

/** Simulator and lab disagree when one is more than twice the other (a zero against a non-zero counts). */
function differsByMoreThanTwice(a: number, b: number): boolean {
  return Math.max(a, b) > 2 * Math.min(a, b);
}

const SIDE_BY_SIDE_METRICS = ['falseFailures', 'detectionFirstS', 'detectionAllS'] as const satisfies readonly Metric[];

export interface SideBySide {
  readonly table: string;
  /** `loss 20%: falseFailures` for each figure where the two differ by more than a factor of 2. */
  readonly disagreements: string[];
}

/** Loss: the simulator's predictions beside hearsay's measurements, level by level; null without both. */
export function simulatorBesideLab(rows: readonly ResultRow[]): SideBySide | null {
  const disagreements: string[] = [];
  const body: string[][] = [];
  for (const { variant, rows: variantRows } of variantsOf(rows, 'loss')) {
    const sim = ofSystem(variantRows, 'sim');
    const lab = ofSystem(variantRows, 'hearsay');
    if (sim.length === 0 || lab.length === 0) continue;
    const differing = SIDE_BY_SIDE_METRICS.filter((metric) => {
      const predicted = summarize(sim, metric).estimate;
      const measured = summarize(lab, metric).estimate;
      return predicted && measured && differsByMoreThanTwice(predicted.mean, measured.mean);
    });
    disagreements.push(...differing.map((metric) => `${variant}: ${metric}`));
    body.push([
      variant,
      ...SIDE_BY_SIDE_METRICS.flatMap((metric) => [formatSummary(summarize(sim, metric), metric), formatSummary(summarize(lab, metric), metric)]),
      differing.length ? differing.join(', ') : '—',
    ]);
  }
  if (body.length === 0) return null;
  const header = ['variant', ...SIDE_BY_SIDE_METRICS.flatMap((metric) => [`${metric} sim`, `${metric} hearsay`]), 'differ by > 2×'];
  return { table: markdownTable(header, body), disagreements };
}
