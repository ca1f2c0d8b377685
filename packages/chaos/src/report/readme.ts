/** README.md: the run, the lab, the goals against Serf, one section per scenario, the definitions. */
import { minSuspicionTimeout, PROFILES } from 'hearsay/core';
import { fmt } from 'hearsay-experiments/table';
import { CHURN_PERIOD_MS, CHURN_SHARE, FLAP_HALF_PERIOD_MS, WATCH_MS } from '../scenarios/plan.js';
import type { ResultRow, RunFacts, ScenarioName } from '../types.js';
import { type Figure, reportFigures } from './figures.js';
import { evaluateGoals, type Goal } from './goals.js';
import { scenariosIn } from './rows.js';
import { scenarioTable, simulatorBesideLab } from './tables.js';

export const RESULTS_CSV = 'results.csv';
export const RUN_JSON = 'run.json';

const LAN = PROFILES.lan;

const SCENARIO_TITLES: Readonly<Record<ScenarioName, string>> = {
  loss: 'Packet loss',
  oneway: 'One-way loss',
  partition: 'Partition and heal',
  flap: 'Flapping link',
  pause: 'Process pause',
  churn: 'Churn',
};

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${fmt(ms / 1000)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(seconds / 3600)} h ${String(Math.floor(seconds / 60) % 60).padStart(2, '0')} min`;
}

/** The distinct values of a column over some rows, as prose: `5, 10 and 20`. */
function listed(values: readonly number[]): string {
  const distinct = [...new Set(values)].sort((a, b) => a - b).map((value) => fmt(value));
  return distinct.length > 1 ? `${distinct.slice(0, -1).join(', ')} and ${distinct.at(-1)}` : (distinct[0] ?? '—');
}

/** What the scenario does to the cluster, from the plan's constants and the rows' own windows. */
function describeScenario(scenario: ScenarioName, rows: readonly ResultRow[]): string {
  const ofScenario = rows.filter((row) => row.scenario === scenario);
  const fault = `${listed(ofScenario.map((row) => row.faultS))} s`;
  const watch = `${WATCH_MS[scenario] / 1000} s`;
  switch (scenario) {
    case 'loss':
      return `Every member loses ${listed(ofScenario.map((row) => row.param))} % of the packets it receives for ${fault}. At the end of that window one member is SIGKILLed, and the lab watches ${watch} for its detection: failures raised before the kill are false.`;
    case 'oneway':
      return `One member cannot send to one other for ${fault} (one-way loss of 100%) while everything else flows. Indirect probes can vouch for both, so every failure raised is false.`;
    case 'partition':
      return `The cluster is split in two halves for ${fault}, with one user event sent on each side half way through. Then the partition heals and the lab watches up to ${watch} for the halves to merge and both events to reach everyone.`;
    case 'flap':
      return `One member's link is cut for ${FLAP_HALF_PERIOD_MS / 1000} s and restored for ${FLAP_HALF_PERIOD_MS / 1000} s, over and over, for ${fault}; the lab then watches ${watch}. Failures of the flapping member are counted in flapsSeen; failures of any other member are false.`;
    case 'pause': {
      // Lifeguard's suspicion starts at the maximum timeout and shrinks towards the minimum as members confirm it.
      const timeouts = [...new Set(ofScenario.map((row) => row.nodes))].map((nodes) => {
        const minimum = minSuspicionTimeout(LAN.suspicionMult, nodes, LAN.probeIntervalMs) / 1000;
        return `${fmt(minimum)} s to ${fmt(minimum * LAN.suspicionMaxTimeoutMult)} s with ${nodes} members`;
      });
      return `One member is SIGSTOPped for ${fault}, then SIGCONTed; the lab watches ${watch} after. A suspicion lasts ${timeouts.join(', ')} before the member is declared failed, so a shorter pause should go undeclared; declarations about the paused member are counted in pausedDeclared, not as false failures.`;
    }
    case 'churn':
      return `Every ${CHURN_PERIOD_MS / 1000} s for ${fault}, ${CHURN_SHARE * 100}% of the members (never n0, the seed) are SIGKILLed and started again at once with the same name and address; half a period after each batch a member that was not restarted sends a user event. The lab watches ${watch} after the last restart.`;
  }
}

const LAB = [
  'Each member runs in its own network namespace, joined by a veth pair to a bridge that lives in a namespace of its own, so the agents talk real UDP and TCP through the kernel.',
  "Faults are nftables rules inside a member's namespace: random loss of what it receives, and dropping what it sends to or hears from chosen addresses (partitions, one-way loss, a flapping link); processes are frozen with SIGSTOP and SIGCONT, and crashed with SIGKILL.",
  `Every system runs memberlist's LAN timings: a probe every ${LAN.probeIntervalMs} ms with a ${LAN.probeTimeoutMs} ms timeout, ${LAN.indirectChecks} indirect checks, suspicion multiplier ${LAN.suspicionMult} (maximum ×${LAN.suspicionMaxTimeoutMult}), gossip to ${LAN.gossipNodes} members every ${LAN.gossipIntervalMs} ms, push/pull every ${LAN.pushPullIntervalMs / 1000} s.`,
  "Each scenario's random choices (the member killed, paused, cut off or restarted, the two sides of the split) come from its seed, seed + rep − 1 for repetition rep, so hearsay, serf (Debian's agent) and the mixed cluster (even hosts hearsay, odd hosts serf) face the same faults at the same times against the same members.",
  "The simulator (system sim: hearsay's core on virtual time) runs the same timelines.",
].join(' ');

const READING =
  'Cells show the mean over the repetitions ± the half-width of its 95% confidence interval (Student t, df = n − 1); a variant run once shows its one value (n = 1, no interval). — marks a figure the system did not report; "never k/n": in k of the n repetitions the cluster did not converge within the watch window; "(n = k)": only k repetitions reported the figure.';

/** types.ts's ResultRow definitions, for readers of the README alone. */
const DEFINITIONS = [
  'Counts are summed over observers (every member that is up), so one false failure seen by 15 members counts 15: each is an alarm an operator of that member would get. Columns that do not apply to a scenario are empty.',
  '',
  '- **falseFailures**: `failed` events about a member that was up and unpaused at that moment (for `pause`: a pause shorter than the suspicion timeout must not be declared, so declarations about the paused member are counted in pausedDeclared instead).',
  "- **degradedPairs**: degraded pairs reported over the fault window: a member whose probes were answered only through helpers or TCP twice in a row (hearsay's `degraded` event; Serf reports none).",
  '- **failedProbes**: probes that ended with no direct, indirect or TCP ack (memberlist\'s "Suspect X has failed, no acks received"; hearsay\'s `hearsay_probes_failed_total`), over the fault window.',
  '- **refutations**: times a member refuted a suspicion about itself.',
  "- **packetsPerNodeS**: packets the members sent (nftables counter on each host's link), per member per second, over the fault window.",
  '- **detectionFirstS / detectionAllS**: after a SIGKILL, seconds until the first / the last member up lists it failed.',
  '- **convergenceS**: seconds from the heal (partition), the last restart (churn) or the end of the fault until every member up lists exactly the members up as alive, and keeps doing so; empty if never within the watch window.',
  '- **ghosts**: at the end, (observer, member) pairs where the observer lists a member that is up as failed or left, or lists as alive one that is gone.',
  '- **eventsSent / eventsDelivered**: user events sent during the fault, and (event, member) deliveries to the members that were up from the send until the end; **eventDeliveryRatio** = delivered / expected.',
  '- **flapsSeen**: `failed` events about the flapping member, summed over observers.',
  '- **pausedDeclared**: members that declared the paused member failed.',
  '- **peakMembers**: the most members any observer listed (alive, suspect or failed) at once.',
];

function goalLines(goal: Goal): string[] {
  const shortfall = goal.shortfall ? ` **Not met:** ${goal.shortfall}` : '';
  return [`- **(${goal.id}) ${goal.verdict}**: ${goal.statement}.${shortfall}`, ...goal.evidence.map((line) => `  - ${line}`)];
}

function figureLines(figure: Figure): string[] {
  return [`![${figure.caption}](${figure.name}.svg)`, '', `*${figure.caption}* ([PNG](${figure.name}.png), [SVG](${figure.name}.svg))`, ''];
}

function simulatorSection(rows: readonly ResultRow[]): string[] {
  const sideBySide = simulatorBesideLab(rows);
  if (!sideBySide) return [];
  const verdict = sideBySide.disagreements.length
    ? `They differ by more than a factor of 2 in: ${sideBySide.disagreements.join('; ')}.`
    : 'They agree within a factor of 2 at every loss level both measured.';
  return [
    '## The simulator beside the lab (packet loss)',
    '',
    "The simulator's predictions (sim) beside hearsay's measurements in the lab, level by level. A zero against a non-zero counts as a difference of more than a factor of 2.",
    '',
    sideBySide.table,
    '',
    verdict,
    '',
  ];
}

/** The hand-written analysis of a run, kept beside its results and placed after the goals. */
export const FINDINGS_MD = 'findings.md';

/** The whole README, from the rows, the run's facts and the findings written about them (no files read). */
export function renderReadme(rows: readonly ResultRow[], facts: RunFacts, findings?: string): string {
  const figures = reportFigures(rows);
  const scenarios = scenariosIn(rows);
  const nodes = listed(rows.map((row) => row.nodes));
  const machine = Object.entries(facts.machine);
  const lines = [
    '# Reliability: hearsay and Serf under real faults',
    '',
    `Produced by \`${facts.command}\`, started ${facts.startedAt}, in ${formatDuration(facts.durationMs)}; clusters of ${nodes} members. Every number below comes from [\`${RESULTS_CSV}\`](${RESULTS_CSV}) (one row per run of a variant by a system); [\`${RUN_JSON}\`](${RUN_JSON}) holds the run's facts.`,
    '',
    ...(machine.length ? ['| machine | |', '|---|---|', ...machine.map(([name, value]) => `| ${name} | ${value} |`), ''] : []),
    '## How the lab works',
    '',
    LAB,
    '',
    '## Goals against Serf',
    '',
    'Each goal is judged on every variant it covers; it is MET only if it holds in all of them, and NOT MEASURED where the rows it needs are missing.',
    '',
    ...evaluateGoals(rows).flatMap(goalLines),
    '',
    ...(findings ? ['## Findings', '', findings.trim(), ''] : []),
    '## Reading the tables',
    '',
    READING,
    '',
    ...scenarios.flatMap((scenario) => [
      `## ${SCENARIO_TITLES[scenario]} (${scenario})`,
      '',
      describeScenario(scenario, rows),
      '',
      scenarioTable(rows, scenario),
      '',
      ...figures.filter((figure) => figure.scenario === scenario).flatMap(figureLines),
    ]),
    ...simulatorSection(rows),
    '## Metric definitions',
    '',
    ...DEFINITIONS,
    '',
  ];
  return lines.join('\n');
}
