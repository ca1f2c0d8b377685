/** `hearsay experiment NAME`: runs one experiment and writes its CSV, figures and report. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { convergence } from './convergence.js';
import { parseCsv, sortRows, toCsv } from './csv.js';
import { detection } from './detection.js';
import { falsePositives } from './false-positives.js';
import { load } from './load.js';
import { render } from './plot.js';
import { WorkerPool } from './pool.js';
import { Progress } from './progress.js';
import { formatDuration, markdownReport, type RunFacts } from './report.js';
import { rttTimeouts } from './rtt-timeouts.js';
import { stress } from './stress.js';
import type { ExperimentName } from './names.js';
import type { Experiment, Row, RunSettings, Task } from './types.js';

export type { Experiment, RunSettings, Row, Task } from './types.js';

export { EXPERIMENT_NAMES, type ExperimentName } from './names.js';

export const EXPERIMENTS: Readonly<Record<ExperimentName, Experiment>> = {
  convergence,
  detection,
  'false-positives': falsePositives,
  load,
  'rtt-timeouts': rttTimeouts,
  stress,
};

export interface ExperimentOptions {
  settings: RunSettings;
  out: string;
  workers: number;
  /** The command line, quoted in the report. */
  command: string;
}

/** How many of the slowest simulations the report names. */
const SLOWEST = 3;

/** Runs the simulations, then writes CSV, figures, report and run.json (what replot needs). */
export async function runExperiment(experiment: Experiment, options: ExperimentOptions): Promise<void> {
  const started = performance.now();
  const progress = new Progress(experiment.name);
  const pool = new WorkerPool(options.workers);
  const timings: { task: Task; wallMs: number }[] = [];
  let rows: Row[];
  try {
    rows = await experiment.run(options.settings, async (tasks: Task[], label: string) => {
      progress.add(
        tasks.reduce((sum, task) => sum + task.cost, 0),
        tasks.length,
        label,
      );
      return pool.run(tasks, (task, wallMs) => {
        timings.push({ task, wallMs });
        progress.advance(task.cost, label);
      });
    });
  } finally {
    progress.stop();
    await pool.close();
  }
  const facts: RunFacts = {
    command: options.command,
    settings: options.settings,
    runs: timings.length,
    wallMs: performance.now() - started,
    workers: pool.size,
    slowest: timings
      .sort((a, b) => b.wallMs - a.wallMs)
      .slice(0, SLOWEST)
      .map(({ task, wallMs }) => ({ params: task.params, wallMs: Math.round(wallMs) })),
  };
  await mkdir(options.out, { recursive: true });
  await writeFile(join(options.out, `${experiment.name}.csv`), toCsv(experiment.columns, sortRows(rows, experiment.sortBy)));
  await writeFile(join(options.out, 'run.json'), `${JSON.stringify(facts, null, 2)}\n`);
  await writeFigures(experiment, options.out, facts);
  process.stderr.write(`${experiment.name}: ${facts.runs} simulations in ${formatDuration(facts.wallMs)}; results in ${options.out}\n`);
}

/** Redraws the figures and the report from the CSV and run.json of an earlier run, without simulating. */
export async function replotExperiment(experiment: Experiment, out: string): Promise<void> {
  const facts = JSON.parse(await readFile(join(out, 'run.json'), 'utf8')) as RunFacts;
  await writeFigures(experiment, out, facts);
  process.stderr.write(`${experiment.name}: figures and report redrawn in ${out}\n`);
}

async function writeFigures(experiment: Experiment, out: string, facts: RunFacts): Promise<void> {
  const csvName = `${experiment.name}.csv`;
  const rows = parseCsv(await readFile(join(out, csvName), 'utf8'));
  const figures = experiment.figures(rows, facts.settings);
  for (const figure of figures) {
    const { svg, png } = await render(figure.spec);
    await writeFile(join(out, `${figure.name}.svg`), svg);
    await writeFile(join(out, `${figure.name}.png`), png);
  }
  const report = markdownReport(experiment, { ...facts, figures, reading: experiment.reading(rows, facts.settings), csvName });
  await writeFile(join(out, 'README.md'), report);
}
