import type { Experiment, Figure, RunSettings, Task } from './types.js';

/** What a run did, kept in run.json so that figures and report can be redrawn from the CSV. */
export interface RunFacts {
  command: string;
  settings: RunSettings;
  runs: number;
  wallMs: number;
  workers: number;
  /** The longest simulations, with their parameters. */
  slowest: { params: Task['params']; wallMs: number }[];
}

export interface ReportFacts extends RunFacts {
  figures: Figure[];
  reading: string;
  csvName: string;
}

/** The Markdown report: question, how to reproduce, parameters, seeds, figures, reading. */
export function markdownReport(experiment: Experiment, facts: ReportFacts): string {
  const { settings } = facts;
  const parameters = experiment.parameters(settings);
  const lines = [
    `# ${experiment.title}`,
    '',
    `**Question.** ${experiment.question}`,
    '',
    `Produced by \`${facts.command}\`${settings.quick ? ' (--quick: a tiny grid, not for conclusions)' : ''}. Every number below comes from [\`${facts.csvName}\`](${facts.csvName}) (one row per measurement, every parameter in its columns); the same command and seeds give the same CSV.`,
    '',
    '## Parameters',
    '',
    '| parameter | value |',
    '|---|---|',
    ...parameters.map(([name, value]) => `| ${name} | ${value} |`),
    `| seeds | ${settings.seeds.join(', ')} |`,
    '',
    '## Figures',
    '',
    ...facts.figures.flatMap((figure) => [
      `![${figure.caption}](${figure.name}.svg)`,
      '',
      `*${figure.caption}* ([PNG](${figure.name}.png), [SVG](${figure.name}.svg))`,
      '',
    ]),
    '## Run time',
    '',
    `${facts.runs} simulations, ${formatDuration(facts.wallMs)} of wall time on ${facts.workers} worker thread${facts.workers === 1 ? '' : 's'}. The slowest:`,
    '',
    ...facts.slowest.map(
      ({ params, wallMs }) =>
        `- ${formatDuration(wallMs)}: ${Object.entries(params)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
    ),
    '',
    '## Reading',
    '',
    facts.reading.trim(),
    '',
  ];
  return lines.join('\n');
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}
