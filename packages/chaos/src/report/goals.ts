/**
 * Issue 16's goals against Serf, judged from the rows: each is MET, NOT MET, or NOT MEASURED
 * when the rows it needs are missing, with the figures it was judged on.
 */
import { fmt } from 'hearsay-experiments/table';
import type { ResultRow, ScenarioName } from '../types.js';
import { type Metric, summarize } from './metrics.js';
import { ofSystem, scenariosIn, variantsOf } from './rows.js';

export type Verdict = 'MET' | 'NOT MET' | 'NOT MEASURED';

export interface Goal {
  readonly id: string;
  readonly statement: string;
  readonly verdict: Verdict;
  /** One line per variant judged, with its figures. */
  readonly evidence: string[];
  /** What failed, in a sentence; empty unless NOT MET. */
  readonly shortfall: string;
}

/** Goal (c)'s slack: hearsay may take up to 10% longer than Serf to detect a crash. */
const DETECTION_SLACK = 1.1;

/** A variant's result against the goal: whether it holds, and the line that shows it. */
interface Check {
  readonly holds: boolean | null;
  readonly line: string;
}

function verdictOf(checks: readonly Check[]): Verdict {
  if (checks.some((check) => check.holds === false)) return 'NOT MET';
  return checks.some((check) => check.holds === true) ? 'MET' : 'NOT MEASURED';
}

function goal(id: string, statement: string, checks: readonly Check[], failure: string, emptyLine: string): Goal {
  const verdict = verdictOf(checks);
  const failing = checks.filter((check) => check.holds === false).map((check) => check.line);
  return {
    id,
    statement,
    verdict,
    evidence: checks.length ? checks.map((check) => (check.holds === null ? `${check.line}: not measured` : check.line)) : [emptyLine],
    shortfall: verdict === 'NOT MET' ? `${failure}: ${failing.join('; ')}.` : '',
  };
}

const mean = (rows: readonly ResultRow[], metric: Metric) => summarize(rows, metric).estimate?.mean ?? null;

/** (a) In every scenario variant, hearsay's mean false failures are at most Serf's. */
function fewerFalseFailures(rows: readonly ResultRow[]): Goal {
  const checks: Check[] = [];
  for (const scenario of scenariosIn(rows)) {
    for (const { variant, rows: variantRows } of variantsOf(rows, scenario)) {
      const hearsay = mean(ofSystem(variantRows, 'hearsay'), 'falseFailures');
      if (hearsay === null) continue;
      const serf = mean(ofSystem(variantRows, 'serf'), 'falseFailures');
      checks.push(
        serf === null
          ? { holds: null, line: `${variant}: hearsay ${fmt(hearsay)}, serf` }
          : { holds: hearsay <= serf, line: `${variant}: hearsay ${fmt(hearsay)} ${hearsay <= serf ? '≤' : '>'} serf ${fmt(serf)}` },
      );
    }
  }
  return goal(
    'a',
    "hearsay's false failures ≤ Serf's in every scenario variant (means over repetitions)",
    checks,
    'hearsay raised more false failures than Serf in',
    'no hearsay false-failure figures: not measured',
  );
}

/** (b) Not one false failure at 10% loss, in any repetition. */
function noFalseFailuresAtTenPercent(rows: readonly ResultRow[]): Goal {
  const runs = ofSystem(rows, 'hearsay').filter((row) => row.scenario === 'loss' && row.param === 10 && row.falseFailures !== null);
  const checks = runs.length
    ? [
        {
          holds: runs.every((row) => row.falseFailures === 0),
          line: `loss 10%: hearsay false failures ${runs.map((row) => row.falseFailures).join(', ')} over ${runs.length} repetition(s)`,
        },
      ]
    : [];
  return goal(
    'b',
    'hearsay raises no false failure at 10% loss',
    checks,
    'hearsay raised false failures at 10% loss',
    'no hearsay run at loss 10%: not measured',
  );
}

/** (c) At each loss level, hearsay sees a crash everywhere within Serf's time × 1.1. */
function detectionWithinSerfs(rows: readonly ResultRow[]): Goal {
  const checks: Check[] = [];
  for (const { variant, rows: variantRows } of variantsOf(rows, 'loss')) {
    const hearsay = summarize(ofSystem(variantRows, 'hearsay'), 'detectionAllS');
    const serf = summarize(ofSystem(variantRows, 'serf'), 'detectionAllS');
    if (hearsay.runs === 0) continue;
    // A crash not seen everywhere leaves no time: hearsay then misses the goal, whatever Serf did.
    if (hearsay.missing > 0)
      checks.push({ holds: false, line: `${variant}: hearsay has no detection time in ${hearsay.missing} of ${hearsay.runs} repetition(s)` });
    else if (!serf.estimate) checks.push({ holds: null, line: `${variant}: hearsay ${fmt(hearsay.estimate!.mean)} s, serf` });
    else {
      const bound = serf.estimate.mean * DETECTION_SLACK;
      const holds = hearsay.estimate!.mean <= bound;
      const serfGaps = serf.missing ? ` (serf: no time in ${serf.missing} of ${serf.runs})` : '';
      checks.push({
        holds,
        line: `${variant}: hearsay ${fmt(hearsay.estimate!.mean)} s ${holds ? '≤' : '>'} serf ${fmt(serf.estimate.mean)} s × ${DETECTION_SLACK} = ${fmt(bound)} s${serfGaps}`,
      });
    }
  }
  return goal(
    'c',
    "hearsay's detection time (every member) ≤ Serf's × 1.1 at each loss level (means over repetitions)",
    checks,
    'hearsay was more than 10% slower than Serf to detect the crash at',
    'no hearsay detection figures under loss: not measured',
  );
}

/** Goals (d) and (e): every hearsay repetition of partition and churn has `metric` exactly `target`. */
function everyRunAt(rows: readonly ResultRow[], metric: 'ghosts' | 'eventDeliveryRatio', target: number, scenarios: readonly ScenarioName[]): Check[] {
  const checks: Check[] = [];
  for (const scenario of scenarios) {
    for (const { variant, rows: variantRows } of variantsOf(rows, scenario)) {
      const values = ofSystem(variantRows, 'hearsay')
        .map((row) => row[metric])
        .filter((value): value is number => value !== null);
      if (values.length === 0) continue;
      const off = values.filter((value) => value !== target);
      const serf = mean(ofSystem(variantRows, 'serf'), metric);
      const serfNote = serf === null ? '' : ` (serf: mean ${fmt(serf, 6)})`;
      const line = off.length
        ? `${variant}: hearsay ${metric} ${values.map((value) => fmt(value, 6)).join(', ')}, not ${target} in ${off.length} of ${values.length} repetition(s)${serfNote}`
        : `${variant}: hearsay ${metric} = ${target} in all ${values.length} repetition(s)${serfNote}`;
      checks.push({ holds: off.length === 0, line });
    }
  }
  return checks;
}

const HEALING: readonly ScenarioName[] = ['partition', 'churn'];

/** The goals (a) … (e), in order. */
export function evaluateGoals(rows: readonly ResultRow[]): Goal[] {
  return [
    fewerFalseFailures(rows),
    noFalseFailuresAtTenPercent(rows),
    detectionWithinSerfs(rows),
    goal(
      'd',
      'no ghosts for hearsay after partition and churn (ghosts = 0)',
      everyRunAt(rows, 'ghosts', 0, HEALING),
      'hearsay left ghosts in',
      'no hearsay partition or churn run: not measured',
    ),
    goal(
      'e',
      'hearsay delivers every user event in partition and churn (eventDeliveryRatio = 1)',
      everyRunAt(rows, 'eventDeliveryRatio', 1, HEALING),
      'hearsay lost user events in',
      'no hearsay partition or churn run: not measured',
    ),
  ];
}
