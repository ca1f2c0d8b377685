/**
 * Figures as Vega-Lite specs, drawn headless by Vega to SVG and by resvg to PNG. Measured
 * points come one per seed; the plot shows their mean joined by lines, with ±1 standard
 * deviation bars, and theory as dashed lines in the same colour.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface Point {
  x: number;
  y: number | null;
  series: string;
  /** Panel, when the figure has several. */
  panel?: string;
}

export interface Axis {
  title: string;
  scale?: 'linear' | 'log' | 'symlog';
  /** Whether a linear axis starts at zero (default true). */
  zero?: boolean;
  /** Whole-number ticks only (counts such as a fan-out). */
  integer?: boolean;
}

export interface ChartOptions {
  title: string;
  x: Axis;
  y: Axis;
  seriesTitle: string;
  measured: Point[];
  theory?: Point[];
  theoryLabel?: string;
  /** What the solid lines show, when not a mean over seeds. */
  measuredLabel?: string;
  panelTitle?: string;
  columns?: number;
  width?: number;
  height?: number;
}

const MEASURED = 'measured (mean ± 1 sd over seeds and runs)';
/** PNGs at twice the SVG's size, for sharp text. */
export const PNG_ZOOM = 2;

export function chart(options: ChartOptions): Record<string, unknown> {
  const theoryLabel = `dashed: ${options.theoryLabel ?? 'theory'}`;
  const measuredLabel = `solid: ${options.measuredLabel ?? MEASURED}`;
  const values = [
    ...options.measured.filter((p) => p.y !== null && Number.isFinite(p.y)).map((p) => ({ ...p, kind: measuredLabel })),
    ...(options.theory ?? []).filter((p) => p.y !== null && Number.isFinite(p.y)).map((p) => ({ ...p, kind: theoryLabel })),
  ];
  // Counts on a symlog axis are never negative, even where mean − sd would be.
  const scaleOf = (axis: Axis) =>
    axis.scale === 'symlog' ? { type: 'symlog', domainMin: 0 } : axis.scale === 'log' ? { type: 'log' } : { zero: axis.zero ?? true };
  const axisOf = (axis: Axis) => (axis.integer ? { axis: { tickMinStep: 1, format: 'd' } } : {});
  const x = { field: 'x', type: 'quantitative', title: options.x.title, scale: scaleOf(options.x), ...axisOf(options.x) };
  const y = { field: 'y', type: 'quantitative', title: options.y.title, scale: scaleOf(options.y) };
  const color = { field: 'series', type: 'nominal', title: options.seriesTitle };
  const dash = {
    field: 'kind',
    type: 'nominal',
    title: null,
    scale: {
      domain: [measuredLabel, theoryLabel],
      range: [
        [1, 0],
        [6, 4],
      ],
    },
    legend: {
      symbolType: 'stroke',
      symbolStrokeColor: 'black',
      symbolStrokeWidth: 2,
      symbolSize: 400,
      orient: 'bottom',
      direction: 'vertical',
      labelLimit: 900,
    },
  };
  const isMeasured = `datum.kind === '${measuredLabel}'`;
  const layer = [
    { transform: [{ filter: isMeasured }], mark: { type: 'errorbar', extent: 'stdev', ticks: true }, encoding: { x, y, color } },
    {
      transform: [{ filter: isMeasured }],
      mark: { type: 'line', point: true },
      encoding: { x, y: { ...y, aggregate: 'mean' }, color, ...(options.theory?.length ? { strokeDash: dash } : {}) },
    },
    ...(options.theory?.length
      ? [{ transform: [{ filter: `!(${isMeasured})` }], mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color, strokeDash: dash } }]
      : []),
  ];
  const size = { width: options.width ?? 420, height: options.height ?? 260 };
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    background: 'white',
    config: { legend: { labelLimit: 480 } },
    data: { values },
  };
  if (!values.some((p) => p.panel !== undefined)) return { ...base, ...size, layer };
  return {
    ...base,
    facet: { field: 'panel', type: 'nominal', title: options.panelTitle ?? null },
    columns: options.columns ?? 2,
    spec: { ...size, layer },
  };
}

/** Draws a Vega-Lite spec: SVG text, and a PNG of it at PNG_ZOOM. */
export async function render(spec: Record<string, unknown>): Promise<{ svg: string; png: Buffer }> {
  // Vega-Lite's optimiser warns about its own iteration limit; only errors are worth printing.
  const compiled = compile(spec as unknown as TopLevelSpec, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  // System fonts (DejaVu on Debian: fonts-dejavu-core) give the PNG its text; without any, resvg
  // draws the plot without labels rather than failing.
  const png = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: PNG_ZOOM },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
  return { svg, png };
}
