import { PROFILES } from 'hearsay/core';
import { swimCost } from './grid.js';
import { chart, type Point } from './plot.js';
import { RTT_NETWORKS } from './scenarios.js';
import { mean, standardError } from './theory.js';
import { fmt, markdownTable, num, numbers } from './table.js';
import type { Experiment, Row, RttNetwork, RunSettings, Task } from './types.js';

const LAN = PROFILES.lan;
const MODES = [false, true] as const;
const MODE_NAMES = { false: `fixed: probeTimeoutMs (${LAN.probeTimeoutMs} ms)`, true: 'from RTT: srtt + 4·rttvar' } as const;
const NETWORK_NAMES: Record<RttNetwork, string> = {
  lan: 'LAN: 1 ms + ≤ 1 ms one way',
  jitter: 'jitter: 50 ms + ≤ 100 ms one way',
  'two-sites': 'two sites: 1 ms within, 60 ms + ≤ 40 ms between',
};

interface Grid {
  nodes: number;
  losses: number[];
  networks: RttNetwork[];
  warmupMs: number;
  windowMs: number;
  crashes: number;
  crashEveryMs: number;
}

function grid(settings: RunSettings): Grid {
  return settings.quick
    ? { nodes: 12, losses: [0, 0.2], networks: ['lan', 'jitter'], warmupMs: 40_000, windowMs: 60_000, crashes: 1, crashEveryMs: 30_000 }
    : {
        nodes: 50,
        losses: [0, 0.05, 0.1, 0.2],
        networks: ['lan', 'jitter', 'two-sites'],
        // Every member probes each other one about once per N − 1 intervals; an estimate needs 3 direct acks.
        warmupMs: 180_000,
        windowMs: 1_200_000,
        crashes: 5,
        crashEveryMs: 30_000,
      };
}

function tasks(settings: RunSettings): Task[] {
  const g = grid(settings);
  const out: Task[] = [];
  const virtualMs = g.warmupMs + g.windowMs + g.crashes * g.crashEveryMs;
  for (const network of g.networks) {
    for (const loss of g.losses) {
      for (const rtt of MODES) {
        for (const seed of settings.seeds) {
          const params = {
            network,
            rtt,
            nodes: g.nodes,
            loss,
            warmupMs: g.warmupMs,
            windowMs: g.windowMs,
            crashes: g.crashes,
            crashEveryMs: g.crashEveryMs,
            seed,
          };
          // Loss adds indirect probes, TCP pings and refutations.
          out.push({ scenario: 'rttTimeouts', params, cost: swimCost(g.nodes, virtualMs) * (1 + 2 * loss) });
        }
      }
    }
  }
  return out;
}

const modeName = (row: Row) => MODE_NAMES[String(row.rtt_timeouts) as 'true' | 'false'];

function points(rows: Row[], column: string, scale = 1): Point[] {
  return rows.map((r) => ({
    x: num(r, 'loss')! * 100,
    y: num(r, column) === null ? null : num(r, column)! * scale,
    series: modeName(r),
    panel: NETWORK_NAMES[r.network as RttNetwork],
  }));
}

/** The rows of one cell (or of every loss, with `loss` undefined); the CSV gives booleans back as text. */
function cell(rows: Row[], network: RttNetwork, rtt: boolean, loss?: number): Row[] {
  return rows.filter((r) => String(r.rtt_timeouts) === String(rtt) && r.network === network && (loss === undefined || r.loss === loss));
}

const sum = (rows: Row[], column: string) => numbers(rows, column).reduce((a, b) => a + b, 0);
const perNodeHour = (rows: Row[], column: string) => sum(rows, column) / sum(rows, 'node_hours');

/** Mean over crashes (each run's mean weighted by its detected crashes) ± standard error over runs, in s. */
function detectionOf(rows: Row[], column: string): { mean: number; se: number; crashes: number } {
  const weighted = rows.filter((r) => num(r, column) !== null);
  const crashes = sum(weighted, 'crashes_all_failed');
  const total = weighted.reduce((s, r) => s + num(r, column)! * num(r, 'crashes_all_failed')!, 0);
  return { mean: total / crashes / 1000, se: standardError(numbers(weighted, column)) / 1000, crashes };
}

const ratio = (off: number, on: number) => (off === 0 && on === 0 ? 'both 0' : on === 0 ? `${fmt(off)} → 0` : `${fmt(on / off, 2)}×`);

export const rttTimeouts: Experiment = {
  name: 'rtt-timeouts',
  title: 'RTT timeouts: per-member direct-ack waits from measured round trips',
  question:
    'Does waiting for a direct ack only as long as the measured round trip of each member (probeTimeoutFromRtt: smoothed RTT + 4 × deviation, within probeTimeoutMs/10 … max(probeTimeoutMs, interval/2)) change failed probes, false failures, detection time and traffic of SWIM, on a 1 ms LAN, a jittery 50–150 ms network and two sites, at 0–20% packet loss?',
  columns: [
    'network',
    'rtt_timeouts',
    'nodes',
    'loss',
    'warmup_ms',
    'window_ms',
    'seed',
    'node_hours',
    'probes',
    'failed_probes',
    'failed_probes_per_node_hour',
    'indirect_pings_per_probe',
    'tcp_pings_per_probe',
    'suspicions_per_node_hour',
    'false_failures',
    'false_failures_per_node_hour',
    'packets_per_node_per_s',
    'crashes',
    'crashes_all_failed',
    'first_suspect_ms',
    'all_failed_ms',
  ],
  sortBy: ['network', 'rtt_timeouts', 'loss', 'seed'],

  async run(settings, runTasks) {
    return (await runTasks(tasks(settings), 'network × loss × timeout')).flat();
  },

  parameters(settings) {
    const g = grid(settings);
    return [
      ['cluster size N', String(g.nodes)],
      [
        'packet loss',
        `${g.losses.map((l) => `${l * 100}%`).join(', ')}: every UDP packet independently, and every TCP segment (streamLoss: a lost SYN is resent after 1 s, a data segment after 200 ms, doubling)`,
      ],
      [
        'networks',
        g.networks
          .map((n) => {
            const d = RTT_NETWORKS[n];
            return `${n}: ${d.delayMs} ms + up to ${d.jitterMs} ms one way${d.crossDelayMs === undefined ? '' : `; between the two halves of the cluster ${d.crossDelayMs} ms + up to ${d.crossJitterMs} ms`} (uniform)`;
          })
          .join('; '),
      ],
      [
        'direct-ack wait',
        `fixed: probeTimeoutMs = ${LAN.probeTimeoutMs} ms for every member; from RTT: per member, smoothed RTT + 4 × deviation of its direct acks (TCP's estimator) once it has 3, within ${LAN.probeTimeoutMs / 10} … ${Math.max(LAN.probeTimeoutMs, LAN.probeIntervalMs / 2)} ms; before 3 acks, ${LAN.probeTimeoutMs} ms`,
      ],
      [
        'SWIM',
        `LAN profile with Lifeguard: probe interval ${LAN.probeIntervalMs} ms (the verdict at its end, whatever the direct wait), ${LAN.indirectChecks} indirect checks, TCP ping alongside them, suspicion mult ${LAN.suspicionMult}, max timeout mult ${LAN.suspicionMaxTimeoutMult}`,
      ],
      [
        'per run',
        `converged start; ${g.warmupMs / 1000} s warm-up (each member's estimate of each other needs 3 of its own direct acks, one probe per member every ~${g.nodes - 1} s), then a ${g.windowMs / 60_000} min crash-free window (${fmt((g.nodes * g.windowMs) / 3_600_000)} node-hours: failed probes, false failures, packets), then ${g.crashes} random crash${g.crashes === 1 ? '' : 'es'} ${g.crashEveryMs / 1000} s apart (detection)`,
      ],
    ];
  },

  figures(rows) {
    const x = { title: 'packet loss (%)' };
    const common = { x, seriesTitle: 'direct-ack wait', panelTitle: 'network', columns: 3, width: 260, height: 200 };
    return [
      {
        name: 'rtt-timeouts-false-failures',
        caption: 'Live members declared failed per node-hour in the crash-free window (symmetric-log scale: zero is drawn).',
        spec: chart({
          ...common,
          title: 'False failures',
          y: { title: 'false failures per node-hour', scale: 'symlog' },
          measured: points(rows, 'false_failures_per_node_hour'),
        }),
      },
      {
        name: 'rtt-timeouts-failed-probes',
        caption:
          'Probes that ended without any ack (direct, relayed or TCP) per node-hour in the crash-free window, each one a suspicion (symmetric-log scale).',
        spec: chart({
          ...common,
          title: 'Failed probes',
          y: { title: 'failed probes per node-hour', scale: 'symlog' },
          measured: points(rows, 'failed_probes_per_node_hour'),
        }),
      },
      {
        name: 'rtt-timeouts-detection',
        caption: 'Crash until every live member marks it failed, mean over the crashes of each run.',
        spec: chart({
          ...common,
          title: 'Detection: all marked failed',
          y: { title: 'crash → all failed (s)' },
          measured: points(rows, 'all_failed_ms', 1 / 1000),
        }),
      },
      {
        name: 'rtt-timeouts-first-suspicion',
        caption: 'Crash until the first suspicion of it by anyone, mean over the crashes of each run.',
        spec: chart({
          ...common,
          title: 'Detection: first suspicion',
          y: { title: 'crash → first suspicion (s)' },
          measured: points(rows, 'first_suspect_ms', 1 / 1000),
        }),
      },
      {
        name: 'rtt-timeouts-packets',
        caption: 'Packets and stream messages sent per node per second in the crash-free window.',
        spec: chart({
          ...common,
          title: 'Traffic',
          y: { title: 'packets per node per second', zero: false },
          measured: points(rows, 'packets_per_node_per_s'),
        }),
      },
    ];
  },

  reading(rows) {
    const networks = (Object.keys(NETWORK_NAMES) as RttNetwork[]).filter((n) => rows.some((r) => r.network === n));
    const losses = [...new Set(numbers(rows, 'loss'))].sort((a, b) => a - b);
    const body: string[][] = [];
    for (const network of networks) {
      for (const loss of losses) {
        const [off, on] = MODES.map((rtt) => cell(rows, network, rtt, loss));
        if (!off!.length || !on!.length) continue;
        const pair = (f: (group: Row[]) => string) => `${f(off!)} / ${f(on!)}`;
        body.push([
          network,
          `${loss * 100}%`,
          pair((g) => fmt(perNodeHour(g, 'failed_probes'))),
          pair((g) => `${fmt(perNodeHour(g, 'false_failures'))} (${sum(g, 'false_failures')})`),
          pair((g) => fmt(mean(numbers(g, 'indirect_pings_per_probe')), 2)),
          pair((g) => fmt(mean(numbers(g, 'tcp_pings_per_probe')), 2)),
          pair((g) => fmt(detectionOf(g, 'first_suspect_ms').mean)),
          pair((g) => fmt(detectionOf(g, 'all_failed_ms').mean)),
          pair((g) => fmt(mean(numbers(g, 'packets_per_node_per_s')), 3)),
        ]);
      }
    }
    const lossy = (group: Row[]) => group.filter((r) => num(r, 'loss')! > 0);
    const findings = networks.map((network) => {
      const [off, on] = MODES.map((rtt) => cell(rows, network, rtt));
      const [lossOff, lossOn] = [lossy(off!), lossy(on!)];
      const failed = [sum(lossOff, 'failed_probes'), sum(lossOn, 'failed_probes')];
      const falseFailures = [sum(lossOff, 'false_failures'), sum(lossOn, 'false_failures')];
      const [allOff, allOn] = [detectionOf(off!, 'all_failed_ms'), detectionOf(on!, 'all_failed_ms')];
      const [firstOff, firstOn] = [detectionOf(off!, 'first_suspect_ms'), detectionOf(on!, 'first_suspect_ms')];
      const [indirectOff, indirectOn] = [mean(numbers(off!, 'indirect_pings_per_probe')), mean(numbers(on!, 'indirect_pings_per_probe'))];
      const [packetsOff, packetsOn] = [mean(numbers(off!, 'packets_per_node_per_s')), mean(numbers(on!, 'packets_per_node_per_s'))];
      return `**${NETWORK_NAMES[network]}.** With loss, summed over the lossy cells: failed probes ${failed[0]} fixed, ${failed[1]} from RTT (${ratio(failed[0]!, failed[1]!)}); false failures ${falseFailures[0]} and ${falseFailures[1]}. Detection over every loss: all failed after ${fmt(allOff.mean)} ± ${fmt(allOff.se, 2)} s fixed and ${fmt(allOn.mean)} ± ${fmt(allOn.se, 2)} s from RTT (${allOff.crashes} and ${allOn.crashes} crashes), first suspicion ${fmt(firstOff.mean)} ± ${fmt(firstOff.se, 2)} s and ${fmt(firstOn.mean)} ± ${fmt(firstOn.se, 2)} s. Indirect pings per probe ${fmt(indirectOff, 2)} and ${fmt(indirectOn, 2)}; packets per node per second ${fmt(packetsOff, 3)} and ${fmt(packetsOn, 3)} (${packetsOn >= packetsOff ? '+' : ''}${fmt((100 * (packetsOn - packetsOff)) / packetsOff, 2)}%).`;
    });
    // Over every network and lossy cell: what the option changes, against counting noise.
    const [allOff, allOn] = MODES.map((rtt) => lossy(rows.filter((r) => String(r.rtt_timeouts) === String(rtt))));
    const total = (group: Row[], column: string) => sum(group, column);
    const [failedOff, failedOn] = [total(allOff!, 'failed_probes'), total(allOn!, 'failed_probes')];
    const [ffOff, ffOn] = [total(allOff!, 'false_failures'), total(allOn!, 'false_failures')];
    // Two Poisson counts differ by more than 2·√(a + b) about one time in twenty by chance.
    const beyondNoise = (a: number, b: number) => Math.abs(a - b) > 2 * Math.sqrt(a + b);
    const pairs = allOff!.map((off) => {
      const on = allOn!.find((r) => r.network === off.network && r.loss === off.loss && r.seed === off.seed);
      return on ? [num(off, 'failed_probes')!, num(on, 'failed_probes')!] : null;
    });
    const fewer = pairs.filter((p) => p !== null && p[1]! < p[0]!).length;
    const [detOff, detOn] = [
      detectionOf(
        rows.filter((r) => String(r.rtt_timeouts) === 'false'),
        'all_failed_ms',
      ),
      detectionOf(
        rows.filter((r) => String(r.rtt_timeouts) === 'true'),
        'all_failed_ms',
      ),
    ];
    const [zeroOff, zeroOn] = MODES.map((rtt) => rows.filter((r) => String(r.rtt_timeouts) === String(rtt) && num(r, 'loss') === 0));
    const maxIndirectGap = Math.max(
      ...networks.flatMap((network) =>
        losses
          .filter((l) => l > 0)
          .map((loss) =>
            Math.abs(
              mean(numbers(cell(rows, network, true, loss), 'indirect_pings_per_probe')) -
                mean(numbers(cell(rows, network, false, loss), 'indirect_pings_per_probe')),
            ),
          ),
      ),
    );
    const summary = [
      `**In sum** (every network, the lossy cells): failed probes ${failedOff} with the fixed wait, ${failedOn} with the wait from RTT (${fmt((100 * (failedOn - failedOff)) / failedOff, 2)}%; fewer in ${fewer} of ${pairs.length} runs compared with the same network, loss and seed), ${beyondNoise(failedOff, failedOn) ? 'a difference beyond counting noise (more than 2·√(sum))' : 'within counting noise (less than 2·√(sum))'} — a rough test: failed probes need not be independent events, so the true noise may be larger. False failures ${ffOff} and ${ffOn}: ${beyondNoise(ffOff, ffOn) ? 'a difference beyond counting noise' : 'within counting noise; the data show no change in false failures either way'}. Detection is the same within its standard error: all failed after ${fmt(detOff.mean)} ± ${fmt(detOff.se, 2)} s and ${fmt(detOn.mean)} ± ${fmt(detOn.se, 2)} s over all ${detOff.crashes} and ${detOn.crashes} crashes, as expected since the verdict comes at the end of the probe interval whatever the direct wait. Traffic is ${fmt((100 * (mean(numbers(allOn!, 'packets_per_node_per_s')) - mean(numbers(allOff!, 'packets_per_node_per_s')))) / mean(numbers(allOff!, 'packets_per_node_per_s')), 2)}% with loss.`,
      '',
      `**Why so little.** A shorter direct wait does not decide whether a probe goes indirect — a lost ping or ack does, and indirect pings per probe differ by at most ${fmt(maxIndirectGap, 2)} between the two waits in any lossy cell — it only moves the indirect probe and TCP ping earlier, giving them the rest of the interval. The indirect round trip (four one-way hops) takes at most 8 ms on the LAN and 600 ms on the jittery network, so on the LAN it fits the ${LAN.probeIntervalMs - LAN.probeTimeoutMs} ms the fixed wait leaves; what the extra time can save is a retransmitted TCP segment (200 ms, doubling) or a late relayed ack, and a lost SYN costs 1 s, which neither wait leaves room for. Without loss the wait from RTT costs a few spurious indirect probes where an ack outruns its member's estimate (${fmt(mean(numbers(zeroOn!, 'indirect_pings_per_probe')), 2)} indirect pings per probe against ${fmt(mean(numbers(zeroOff!, 'indirect_pings_per_probe')), 2)}), but no failed probe: the late direct ack still counts.`,
    ].join('\n');
    return [
      'Each cell: fixed wait / wait from RTT. Failed probes and false failures per node-hour of the crash-free windows (false failures: total count over seeds in brackets); indirect and TCP pings per probe; detection in s, mean over crashes; packets per node per second.',
      '',
      markdownTable(
        [
          'network',
          'loss',
          'failed probes / node-h',
          'false failures / node-h',
          'indirect pings / probe',
          'TCP pings / probe',
          'first suspicion (s)',
          'all failed (s)',
          'packets / node / s',
        ],
        body,
      ),
      '',
      ...findings.flatMap((f) => [f, '']),
      summary,
    ].join('\n');
  },
};
