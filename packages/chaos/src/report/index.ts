/**
 * The chaos lab's report: results.csv, run.json, the figures (SVG and PNG) and README.md in one
 * directory. Everything is derived from the rows and the run's facts, so `--report-only` can
 * redraw it from a results.csv (loadResults) and its run.json; a findings.md written there by
 * hand (what the figures mean, why hearsay is worse where it is) goes into the README.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { render } from 'hearsay-experiments/plot';
import type { ResultRow, RunFacts } from '../types.js';
import { resultsCsv } from './csv.js';
import { reportFigures } from './figures.js';
import { FINDINGS_MD, RESULTS_CSV, RUN_JSON, renderReadme } from './readme.js';

export { loadResults, parseResults, resultsCsv } from './csv.js';
export { renderReadme } from './readme.js';
export { evaluateGoals, type Goal, type Verdict } from './goals.js';

export async function writeReport(outDir: string, rows: readonly ResultRow[], facts: RunFacts): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, RESULTS_CSV), resultsCsv(rows));
  await writeFile(join(outDir, RUN_JSON), `${JSON.stringify(facts, null, 2)}\n`);
  for (const figure of reportFigures(rows)) {
    const { svg, png } = await render(figure.spec);
    await writeFile(join(outDir, `${figure.name}.svg`), svg);
    await writeFile(join(outDir, `${figure.name}.png`), png);
  }
  const findings = await readFile(join(outDir, FINDINGS_MD), 'utf8').catch(() => undefined);
  await writeFile(join(outDir, 'README.md'), renderReadme(rows, facts, findings));
}
