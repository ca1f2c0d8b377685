import { Command, InvalidArgumentError, Option } from 'commander';
import { parseCount, parseDuration, parseSeed } from './parse.js';
import { agentFlags, defaultWindowMs, formatDuration, tune, type Measurement, type TuneReport } from './tuning.js';

/** At 2,000 nodes the grid already takes minutes: its crashes are watched until every member knows. */
const MAX_NODES = 2000;
/** Past half the packets lost, most probes fail whatever the timing. */
const MAX_LOSS_PERCENT = 50;
/** The grid's intervals start at 6 RTTs: a longer round trip would leave the window a handful of probes. */
const MAX_RTT_MS = 1000;
/** The crash-free window: 1m to 1h. */
const MIN_WINDOW_MS = 60_000;
const MAX_WINDOW_MS = 3_600_000;

interface TuneFlags {
  nodes: number;
  loss: number;
  rtt: number;
  targetDetection?: number;
  seed: number;
  duration?: number;
  json?: boolean;
}

function parseNodes(text: string): number {
  const nodes = parseCount(text);
  if (nodes < 2 || nodes > MAX_NODES) throw new InvalidArgumentError(`"${text}" is out of range: use 2 to ${MAX_NODES} nodes`);
  return nodes;
}

/** `5` or `5%`: a percentage of packets lost, returned as a fraction. */
function parseLossPercent(text: string): number {
  const match = /^(\d*\.?\d+)%?$/.exec(text.trim());
  const percent = match ? Number(match[1]) : Number.NaN;
  if (!(percent >= 0 && percent <= MAX_LOSS_PERCENT)) {
    throw new InvalidArgumentError(`"${text}" is not a loss percentage: use a number from 0 to ${MAX_LOSS_PERCENT}, like 5 or 5%`);
  }
  return percent / 100;
}

function parseRtt(text: string): number {
  const rttMs = parseDuration(text);
  if (rttMs > MAX_RTT_MS) throw new InvalidArgumentError(`"${text}" is too long a round trip: use at most ${formatDuration(MAX_RTT_MS)}`);
  return rttMs;
}

function parseTarget(text: string): number {
  const targetMs = parseDuration(text);
  if (targetMs === 0) throw new InvalidArgumentError(`"${text}" is no target: use a duration above 0, like 5s`);
  return targetMs;
}

function parseWindow(text: string): number {
  const windowMs = parseDuration(text);
  if (windowMs < MIN_WINDOW_MS || windowMs > MAX_WINDOW_MS) {
    throw new InvalidArgumentError(`"${text}" is out of range: use 1m to 1h`);
  }
  return windowMs;
}

export function tuneCommand(): Command {
  return new Command('tune')
    .description('simulate candidate probe and suspicion timings for a cluster and network, and recommend one')
    .addOption(new Option('--nodes <n>', `cluster size (2 to ${MAX_NODES})`).argParser(parseNodes).default(50))
    .addOption(new Option('--loss <percent>', `packets lost, in percent (0 to ${MAX_LOSS_PERCENT}): 5 or 5%`).argParser(parseLossPercent).makeOptionMandatory())
    .addOption(
      new Option('--rtt <duration>', `mean round trip between members (at most ${formatDuration(MAX_RTT_MS)})`).argParser(parseRtt).makeOptionMandatory(),
    )
    .addOption(new Option('--target-detection <duration>', 'the time by which 99% of the members should mark a crashed one failed').argParser(parseTarget))
    .addOption(new Option('--seed <n>', 'random seed; the same seed gives the same result').argParser(parseSeed).default(1))
    .addOption(
      new Option(
        '--duration <duration>',
        'crash-free virtual time per timing in which false failures are counted, 1m to 1h (default: 500 node-minutes, 10m at 50 nodes)',
      ).argParser(parseWindow),
    )
    .option('--json', 'print exactly one JSON object on stdout')
    .action((flags: TuneFlags) => {
      const progress = process.stderr.isTTY ? (done: number, total: number) => process.stderr.write(`\rsimulated ${done} of ${total} timings`) : undefined;
      const report = tune(
        {
          nodes: flags.nodes,
          loss: flags.loss,
          rttMs: flags.rtt,
          windowMs: flags.duration ?? defaultWindowMs(flags.nodes),
          seed: flags.seed,
          ...(flags.targetDetection === undefined ? {} : { targetDetectionMs: flags.targetDetection }),
        },
        progress,
      );
      if (progress) process.stderr.write('\r\x1b[K');
      process.stdout.write(flags.json ? `${JSON.stringify(jsonReport(report))}\n` : humanReport(report));
    });
}

/** The report as `--json` prints it: snake_case, as `hearsay sim --json`. */
function jsonReport(report: TuneReport): Record<string, unknown> {
  const { request, recommendation } = report;
  const flags = agentFlags(report.measurements[recommendation.choice]!.timing);
  return {
    nodes: request.nodes,
    loss: request.loss,
    rtt_ms: request.rttMs,
    seed: request.seed,
    window_ms: request.windowMs,
    target_detection_ms: request.targetDetectionMs ?? null,
    crashes: report.crashes,
    node_hours: report.nodeHours,
    candidates: report.measurements.map((m, i) => ({
      probe_interval_ms: m.timing.probeIntervalMs,
      probe_timeout_ms: m.timing.probeTimeoutMs,
      suspicion_mult: m.timing.suspicionMult,
      detection_mean_ms: m.detectionMeanMs,
      detection_p99_ms: m.detectionP99Ms,
      undetected: m.undetected,
      false_failures: m.falseFailures,
      false_failures_per_node_hour: m.falseFailuresPerNodeHour,
      packets_per_node_per_s: m.packetsPerNodePerS,
      recommended: i === recommendation.choice,
    })),
    recommended: recommendation.choice,
    meets_target: recommendation.meetsTarget,
    fastest_meeting_target: recommendation.fastestMeetingTarget,
    agent_flags: flags,
    command: ['hearsay', 'agent', ...flags].join(' '),
  };
}

const seconds = (ms: number | null): string => (ms === null ? 'never' : `${(ms / 1000).toFixed(2)}s`);
/** Two significant digits below 10 (0.12, 3.6), whole numbers above (18, 330). */
const rate = (perHour: number): string => (perHour >= 10 ? String(Math.round(perHour)) : String(+perHour.toPrecision(2)));
const timingName = (m: Measurement): string =>
  `probe interval ${formatDuration(m.timing.probeIntervalMs)}, probe timeout ${formatDuration(m.timing.probeTimeoutMs)}, suspicion multiplier ${m.timing.suspicionMult}`;

const COLUMNS = ['interval', 'timeout', 'suspicion mult', 'detection mean', 'detection p99', 'false failures', 'per node-hour', 'packets/node/s'];

function row(m: Measurement): string[] {
  return [
    formatDuration(m.timing.probeIntervalMs),
    formatDuration(m.timing.probeTimeoutMs),
    String(m.timing.suspicionMult),
    seconds(m.detectionMeanMs),
    m.undetected > 0 ? `${seconds(m.detectionP99Ms)} (${m.undetected} never)` : seconds(m.detectionP99Ms),
    String(m.falseFailures),
    rate(m.falseFailuresPerNodeHour),
    m.packetsPerNodePerS.toFixed(2),
  ];
}

function humanReport(report: TuneReport): string {
  const { request, recommendation, measurements } = report;
  const choice = measurements[recommendation.choice]!;
  const rows = measurements.map(row);
  const widths = COLUMNS.map((head, c) => Math.max(head.length, ...rows.map((cells) => cells[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ');
  const lines = [
    `Tuning SWIM for ${request.nodes} nodes, ${+(request.loss * 100).toFixed(2)}% packet loss, ${formatDuration(request.rttMs)} round trips (seed ${request.seed}).`,
    `Each timing ran ${formatDuration(request.windowMs)} of virtual time without a crash (${report.nodeHours.toFixed(1)} node-hours), then ${report.crashes === 1 ? 'a crash' : `${report.crashes} crashes, one after the other`}.`,
    '',
    `  ${line(COLUMNS)}`,
    ...rows.map((cells, i) => `${i === recommendation.choice ? '*' : ' '} ${line(cells)}`.trimEnd()),
    '',
    `* Recommended: ${timingName(choice)}.`,
    `  ${choiceReason(report)}`,
  ];
  const target = targetVerdict(report);
  if (target) lines.push(`  ${target}`);
  lines.push(
    '',
    `  hearsay agent ${agentFlags(choice.timing).join(' ')}`,
    '',
    `Detection: from a crash until each live member marked it failed (mean, 99th percentile; "k never": k members had not within the longest suspicion timeout plus 10 probe intervals). False failures: live members declared failed during the crash-free window; none in ${report.nodeHours.toFixed(1)} node-hours bounds the rate, it does not prove it zero.`,
    '',
  );
  return lines.join('\n');
}

function choiceReason(report: TuneReport): string {
  const choice = report.measurements[report.recommendation.choice]!;
  const detection = `${seconds(choice.detectionMeanMs)} on average, ${seconds(choice.detectionP99Ms)} at p99`;
  return choice.falseFailures === 0
    ? `The fastest detection of the timings without a false failure: ${detection}.`
    : `No timing ran without a false failure; the fastest detection of those with the fewest (${rate(choice.falseFailuresPerNodeHour)} per node-hour): ${detection}.`;
}

/** Whether the recommendation meets --target-detection, said plainly; null without a target. */
function targetVerdict(report: TuneReport): string | null {
  const { request, recommendation, measurements } = report;
  if (request.targetDetectionMs === undefined) return null;
  const target = formatDuration(request.targetDetectionMs);
  if (recommendation.meetsTarget) return `It meets the ${target} detection target.`;
  const faster = recommendation.fastestMeetingTarget === null ? null : measurements[recommendation.fastestMeetingTarget]!;
  return faster === null
    ? `No timing meets the ${target} detection target: none detected within it at p99.`
    : `It does not meet the ${target} detection target, and no timing with as few false failures does. The fastest that meets it (${timingName(faster)}) made ${rate(faster.falseFailuresPerNodeHour)} false failures per node-hour.`;
}
