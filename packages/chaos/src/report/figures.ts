/**
 * The report's figures as Vega-Lite specs, drawn by the experiments' renderer. The experiments
 * plot ±1 sd over many seeds; the lab has a few repetitions, so the bars here are the mean's 95%
 * interval (Student t), computed beforehand and drawn as ranges.
 */
import type { Axis } from 'hearsay-experiments/plot';
import { type ResultRow, type ScenarioName, SYSTEM_NAMES, type SystemName } from '../types.js';
import { type Metric, summarize } from './metrics.js';
import { ofSystem, systemsIn, variantsOf } from './rows.js';

export interface Figure {
  /** The scenario whose section shows it. */
  readonly scenario: ScenarioName;
  /** File name without extension: `NAME.svg` and `NAME.png`. */
  readonly name: string;
  readonly caption: string;
  readonly spec: Record<string, unknown>;
}

interface IntervalPoint {
  readonly x: number;
  readonly mean: number;
  /** The interval's ends, null with one repetition. */
  readonly low: number | null;
  readonly high: number | null;
  readonly series: SystemName;
  readonly panel?: string;
}

/** Fixed colours (Tableau 10, Vega's default), so that a system looks the same in every figure. */
const SYSTEM_COLOURS: Readonly<Record<SystemName, string>> = { hearsay: '#4c78a8', serf: '#f58518', mixed: '#54a24b', sim: '#e45756' };

const SUBTITLE = 'points: mean over repetitions; bars: 95% confidence interval (Student t), clipped at 0; systems nudged apart on x';
/** Systems often agree (zero false failures), so each is shifted by this share of the x range to keep all visible. */
const DODGE = 0.012;

/** One point per variant and system: x the variant's parameter; every figure here is ≥ 0, hence the clip. */
function intervalPoints(rows: readonly ResultRow[], scenario: ScenarioName, metric: Metric, panel?: string): IntervalPoint[] {
  const points: IntervalPoint[] = [];
  for (const { param, rows: variantRows } of variantsOf(rows, scenario)) {
    for (const system of systemsIn(variantRows)) {
      const estimate = summarize(ofSystem(variantRows, system), metric).estimate;
      if (!estimate) continue;
      const { mean, halfWidth } = estimate;
      const interval = halfWidth === null ? { low: null, high: null } : { low: Math.max(0, mean - halfWidth), high: mean + halfWidth };
      points.push({ x: param, mean, ...interval, series: system, ...(panel ? { panel } : {}) });
    }
  }
  return points;
}

function dodged(points: readonly IntervalPoint[], systems: readonly SystemName[]): IntervalPoint[] {
  const xs = points.map((point) => point.x);
  const step = (Math.max(...xs) - Math.min(...xs) || 1) * DODGE;
  return points.map((point) => ({ ...point, x: point.x + (systems.indexOf(point.series) - (systems.length - 1) / 2) * step }));
}

function intervalChart(title: string, x: Pick<Axis, 'title'>, y: Axis, points: readonly IntervalPoint[]): Record<string, unknown> {
  const systems = SYSTEM_NAMES.filter((system) => points.some((point) => point.series === system));
  // Counts on a symlog axis, as the experiments draw them, so that 0 and thousands both show.
  const scaleOf = (axis: Axis) => (axis.scale === 'symlog' ? { type: 'symlog', domainMin: 0 } : { zero: axis.zero ?? true });
  // The data's own range, not a rounded one, so that the nudge below 0 does not add a tick at −5.
  const xEncoding = { field: 'x', type: 'quantitative', title: x.title, scale: { zero: false, nice: false, padding: 12 } };
  const yEncoding = { field: 'mean', type: 'quantitative', title: y.title, scale: scaleOf(y) };
  const color = { field: 'series', type: 'nominal', title: 'system', scale: { domain: systems, range: systems.map((system) => SYSTEM_COLOURS[system]) } };
  const layer = [
    {
      transform: [{ filter: 'datum.low !== null' }],
      mark: { type: 'errorbar', ticks: true },
      encoding: { x: xEncoding, y: { ...yEncoding, field: 'low' }, y2: { field: 'high' }, color },
    },
    { mark: { type: 'line', point: true }, encoding: { x: xEncoding, y: yEncoding, color } },
  ];
  const size = { width: 420, height: 260 };
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: SUBTITLE },
    background: 'white',
    config: { legend: { labelLimit: 480 } },
    data: { values: dodged(points, systems) },
  };
  const panels = [...new Set(points.map((point) => point.panel))];
  if (panels.length === 1 && panels[0] === undefined) return { ...base, ...size, layer };
  return { ...base, facet: { field: 'panel', type: 'nominal', title: null, sort: panels }, columns: 2, spec: { ...size, layer } };
}

/** The figures the rows can draw: loss (false failures, detection) and pause (declarations). */
export function reportFigures(rows: readonly ResultRow[]): Figure[] {
  const loss = { title: 'packet loss (%)' };
  const figures: Figure[] = [];
  const falseFailures = intervalPoints(rows, 'loss', 'falseFailures');
  if (falseFailures.length)
    figures.push({
      scenario: 'loss',
      name: 'loss-false-failures',
      caption: 'False failures (failed events about members that were up, summed over observers) against the loss every member suffers on what it receives.',
      spec: intervalChart('False failures under packet loss', loss, { title: 'false failures (symlog)', scale: 'symlog' }, falseFailures),
    });
  const detection = [...intervalPoints(rows, 'loss', 'detectionFirstS', 'first member'), ...intervalPoints(rows, 'loss', 'detectionAllS', 'every member')];
  if (detection.length)
    figures.push({
      scenario: 'loss',
      name: 'loss-detection',
      caption: 'Seconds from the SIGKILL of one member until the first member (left) and the last member (right) lists it failed, against the loss.',
      spec: intervalChart('Crash detection under packet loss', loss, { title: 'SIGKILL → listed failed (s)' }, detection),
    });
  const declared = intervalPoints(rows, 'pause', 'pausedDeclared');
  if (declared.length)
    figures.push({
      scenario: 'pause',
      name: 'pause-declared',
      caption: 'Members that declared a SIGSTOPped member failed, against how long it was paused: short pauses should go undeclared.',
      spec: intervalChart('Paused members declared failed', { title: 'pause (s)' }, { title: 'members declaring it failed' }, declared),
    });
  return figures;
}
