import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { estimate, tQuantile975 } from '../../packages/chaos/src/report/confidence.js';
import { resultsCsv } from '../../packages/chaos/src/report/csv.js';
import { evaluateGoals, loadResults, parseResults, renderReadme, writeReport } from '../../packages/chaos/src/report/index.js';
import { sortResults } from '../../packages/chaos/src/report/rows.js';
import { emptyFigures, type ResultRow, type ScenarioName, type SystemName } from '../../packages/chaos/src/types.js';

type Figures = Partial<ReturnType<typeof emptyFigures>>;

/** One run per value list entry: rep 1, 2, … with the figures of that index. */
function runs(scenario: ScenarioName, system: SystemName, variant: string, param: number, figures: Record<string, (number | null)[]>): ResultRow[] {
  const reps = Math.max(...Object.values(figures).map((values) => values.length));
  return Array.from({ length: reps }, (_, i) => {
    const own: Figures = Object.fromEntries(Object.entries(figures).map(([column, values]) => [column, values[i] ?? null]));
    return { scenario, system, variant, param, rep: i + 1, seed: 7 + i, nodes: 8, faultS: 60, ...emptyFigures(), ...own };
  });
}

const ROWS: ResultRow[] = [
  // Loss 10%: hearsay 7 s to detect everywhere against Serf's 6 s × 1.1 = 6.6 s, so goal (c) fails there.
  ...runs('loss', 'hearsay', 'loss 10%', 10, { falseFailures: [0, 0], detectionFirstS: [1.5, 2.5], detectionAllS: [6, 8], packetsPerNodeS: [12.5, 13.5] }),
  ...runs('loss', 'serf', 'loss 10%', 10, { falseFailures: [3, 5], detectionFirstS: [1, 1], detectionAllS: [5, 7] }),
  ...runs('loss', 'sim', 'loss 10%', 10, { falseFailures: [0, 0], detectionFirstS: [1, 1], detectionAllS: [3, 3] }),
  ...runs('loss', 'mixed', 'loss 10%', 10, { falseFailures: [2] }),
  ...runs('loss', 'hearsay', 'loss 20%', 20, { falseFailures: [2, 4], detectionFirstS: [2, 2], detectionAllS: [6, 6] }),
  ...runs('loss', 'serf', 'loss 20%', 20, { falseFailures: [10, 20], detectionFirstS: [2, 2], detectionAllS: [6, 6] }),
  ...runs('loss', 'sim', 'loss 20%', 20, { falseFailures: [1, 1], detectionFirstS: [2, 2], detectionAllS: [6, 6] }),
  ...runs('partition', 'hearsay', 'partition 50/50', 50, { convergenceS: [4, 6], ghosts: [0, 0], eventDeliveryRatio: [1, 1] }),
  ...runs('partition', 'serf', 'partition 50/50', 50, { convergenceS: [9, 11], ghosts: [2, 0], eventDeliveryRatio: [0.5, 1] }),
  // Churn: one hearsay ghost fails goal (d).
  ...runs('churn', 'hearsay', 'churn 25%/10s', 25, {
    ghosts: [0, 1],
    eventDeliveryRatio: [1, 1],
    falseFailures: [0, 0],
    convergenceS: [3, 5],
    peakMembers: [8, 8],
  }),
  ...runs('churn', 'serf', 'churn 25%/10s', 25, {
    ghosts: [0, 0],
    eventDeliveryRatio: [1, 1],
    falseFailures: [1, 1],
    convergenceS: [3, 3],
    peakMembers: [9, 10],
  }),
  // Pause: hearsay only, and one repetition never converged.
  ...runs('pause', 'hearsay', 'pause 5s', 5, { pausedDeclared: [0, 0], falseFailures: [0, 0], convergenceS: [1.25, null] }),
];

const FACTS = {
  command: 'npm run chaos -- --nodes 8 --reps 2',
  startedAt: '2025-01-02T03:04:05.000Z',
  durationMs: 3_723_000,
  machine: { serf: 'Serf v0.10.1', node: 'v20.19.0', kernel: '6.1.0', cpus: '4' },
};

const readme = renderReadme(ROWS, FACTS);
const lineStarting = (prefix: string) => readme.split('\n').find((line) => line.startsWith(prefix));

describe('confidence intervals', () => {
  it('is t(df = n − 1) × the standard error', () => {
    // [6, 8]: mean 7, s = √2, standard error 1, t₀.₉₇₅(1) = 12.706.
    expect(estimate([6, 8])).toEqual({ n: 2, mean: 7, halfWidth: 12.706 });
    // [1, 2, 3, 4]: mean 2.5, s = √(5/3), standard error √(5/3)/2 = 0.6455, t₀.₉₇₅(3) = 3.182: 2.0540.
    expect(estimate([1, 2, 3, 4])!.halfWidth).toBeCloseTo(2.054, 3);
  });

  it('gives no interval for one value, and nothing for none', () => {
    expect(estimate([3])).toEqual({ n: 1, mean: 3, halfWidth: null });
    expect(estimate([])).toBeNull();
  });

  it('uses the normal quantile beyond 30 degrees of freedom', () => {
    expect(tQuantile975(30)).toBe(2.042);
    expect(tQuantile975(31)).toBe(1.96);
    expect(() => tQuantile975(0)).toThrow(RangeError);
  });
});

describe('README tables', () => {
  it("compares the systems on the scenario's columns, mean ± 95% half-width", () => {
    expect(
      lineStarting('| variant | system | repetitions | falseFailures | failedProbes | refutations | packetsPerNodeS | detectionFirstS | detectionAllS |'),
    ).toBeDefined();
    expect(lineStarting('| loss 10% | hearsay | n = 2 |')).toBe('| loss 10% | hearsay | n = 2 | 0 ± 0 | — | — | 13 ± 6.4 | 2 ± 6.4 | 7 ± 13 |');
    expect(lineStarting('| loss 10% | serf | n = 2 |')).toBe('| loss 10% | serf | n = 2 | 4 ± 13 | — | — | — | 1 ± 0 | 6 ± 13 |');
    expect(lineStarting('| loss 10% | mixed |')).toBe('| loss 10% | mixed | n = 1, no interval | 2 | — | — | — | — | — |');
    expect(lineStarting('| partition 50/50 | serf |')).toBe('| partition 50/50 | serf | n = 2 | 10 ± 13 | 1 ± 13 | 0.75 ± 3.2 |');
  });

  it('orders systems hearsay, serf, mixed, sim and variants by parameter', () => {
    const lossLines = readme.split('\n').filter((line) => line.startsWith('| loss '));
    expect(lossLines.slice(0, 7).map((line) => line.split(' | ').slice(0, 2).join(' | '))).toEqual([
      '| loss 10% | hearsay',
      '| loss 10% | serf',
      '| loss 10% | mixed',
      '| loss 10% | sim',
      '| loss 20% | hearsay',
      '| loss 20% | serf',
      '| loss 20% | sim',
    ]);
  });

  it('says when a time never came', () => {
    expect(lineStarting('| pause 5s | hearsay |')).toBe('| pause 5s | hearsay | n = 2 | 0 ± 0 | 0 ± 0 | 1.25; never 1/2 |');
  });

  it('sets the simulator beside the lab and names differences beyond a factor of 2', () => {
    expect(lineStarting('| loss 10% | 0 ± 0 | 0 ± 0 |')).toBe('| loss 10% | 0 ± 0 | 0 ± 0 | 1 ± 0 | 2 ± 6.4 | 3 ± 0 | 7 ± 13 | detectionAllS |');
    expect(readme).toContain('They differ by more than a factor of 2 in: loss 10%: detectionAllS; loss 20%: falseFailures.');
  });

  it('states the run and its sections', () => {
    expect(readme.startsWith('# Reliability: hearsay and Serf under real faults\n')).toBe(true);
    expect(readme).toContain('`npm run chaos -- --nodes 8 --reps 2`');
    expect(readme).toContain('in 1 h 02 min');
    expect(readme).toContain('| serf | Serf v0.10.1 |');
    for (const heading of [
      '## How the lab works',
      '## Goals against Serf',
      '## Packet loss (loss)',
      '## Partition and heal (partition)',
      '## Metric definitions',
    ])
      expect(readme).toContain(heading);
    expect(readme).not.toContain('(oneway)');
    expect(readme).toContain('![False failures');
  });
});

describe('goals against Serf', () => {
  const verdicts = Object.fromEntries(evaluateGoals(ROWS).map((goal) => [goal.id, goal.verdict]));

  it('judges each goal from the rows', () => {
    expect(verdicts).toEqual({ a: 'MET', b: 'MET', c: 'NOT MET', d: 'NOT MET', e: 'MET' });
    expect(readme).toMatch(/^- \*\*\(a\) MET\*\*: hearsay's false failures ≤ Serf's/m);
    expect(readme).toContain('  - pause 5s: hearsay 0, serf: not measured');
    expect(readme).toContain('  - loss 10%: hearsay 7 s > serf 6 s × 1.1 = 6.6 s');
    expect(readme).toContain('**Not met:** hearsay was more than 10% slower than Serf to detect the crash at: loss 10%: hearsay 7 s > serf 6 s × 1.1 = 6.6 s.');
    expect(readme).toMatch(/^- \*\*\(d\) NOT MET\*\*: .* \*\*Not met:\*\* hearsay left ghosts in: churn 25%\/10s/m);
  });

  it('says "not measured" without Serf', () => {
    const hearsayOnly = ROWS.filter((row) => row.system !== 'serf');
    const goals = evaluateGoals(hearsayOnly);
    expect(goals.map((goal) => goal.verdict)).toEqual(['NOT MEASURED', 'MET', 'NOT MEASURED', 'NOT MET', 'MET']);
    expect(goals[0]!.evidence).toContain('loss 10%: hearsay 0, serf: not measured');
    expect(evaluateGoals([]).every((goal) => goal.verdict === 'NOT MEASURED')).toBe(true);
  });

  it('fails goal (c) where hearsay never saw the crash everywhere', () => {
    const undetected = ROWS.map((row) => (row.system === 'hearsay' && row.variant === 'loss 20%' && row.rep === 2 ? { ...row, detectionAllS: null } : row));
    const detection = evaluateGoals(undetected)[2]!;
    expect(detection.verdict).toBe('NOT MET');
    expect(detection.evidence).toContain('loss 20%: hearsay has no detection time in 1 of 2 repetition(s)');
  });
});

describe('results.csv', () => {
  it("round-trips numbers and nulls, in the plan's order", () => {
    const csv = resultsCsv(ROWS);
    expect(csv.split('\n')[0]).toBe(
      'scenario,system,variant,param,rep,seed,nodes,faultS,falseFailures,failedProbes,refutations,packetsPerNodeS,detectionFirstS,detectionAllS,convergenceS,ghosts,eventsSent,eventsDelivered,eventDeliveryRatio,flapsSeen,pausedDeclared,peakMembers,degradedPairs',
    );
    expect(csv).toContain('\nloss,hearsay,loss 10%,10,1,7,8,60,0,,,12.5,1.5,6,,,,,,,,,\n');
    expect(parseResults(csv)).toEqual(sortResults(ROWS));
  });

  it('rejects a row that is not a result, naming its line', () => {
    expect(() => parseResults('scenario,system\nloss,consul\n')).toThrow(/line 2: unknown system "consul"/);
    const csv = resultsCsv(ROWS.slice(0, 1)).replace(',8,60,', ',eight,60,');
    expect(() => parseResults(csv)).toThrow(/nodes should be a number/);
  });
});

describe('writeReport', () => {
  const scratch = mkdtemp(join(tmpdir(), 'hearsay-chaos-report-'));
  afterAll(async () => rm(await scratch, { recursive: true, force: true }));

  it('writes the CSV, run.json, the figures and the README', async () => {
    const dir = await scratch;
    // Only the pause scenario: one small figure keeps the rendering quick.
    const pauseRows = ROWS.filter((row) => row.scenario === 'pause');
    await writeReport(dir, pauseRows, FACTS);
    expect((await readdir(dir)).sort()).toEqual(['README.md', 'pause-declared.png', 'pause-declared.svg', 'results.csv', 'run.json']);
    expect(await loadResults(join(dir, 'results.csv'))).toEqual(pauseRows);
    expect(JSON.parse(await readFile(join(dir, 'run.json'), 'utf8'))).toEqual(FACTS);
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toBe(renderReadme(pauseRows, FACTS));
    expect(await readFile(join(dir, 'pause-declared.svg'), 'utf8')).toMatch(/^<svg/);
    const png = await readFile(join(dir, 'pause-declared.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });
});
