import { minSuspicionTimeout, PROFILES } from 'hearsay/core';
import { heartbeatCost, swimCost } from './grid.js';
import { chart } from './plot.js';
import { DETECTOR_CONFIGS } from './scenarios.js';
import { mean } from './theory.js';
import { fmt, groupBy, markdownTable, num, numbers } from './table.js';
import type { Detector, Experiment, RunSettings, Task } from './types.js';

const LAN = PROFILES.lan;
const DETECTORS: Detector[] = ['swim-lifeguard', 'swim-plain', 'heartbeat-fixed', 'heartbeat-phi'];
const NAMES: Record<Detector, string> = {
  'swim-lifeguard': 'SWIM with Lifeguard',
  'swim-plain': 'SWIM without Lifeguard',
  'heartbeat-fixed': 'heartbeat, fixed thresholds',
  'heartbeat-phi': 'heartbeat, phi accrual (8)',
};

function grid(settings: RunSettings): { nodes: number; losses: number[]; durationMs: number } {
  return settings.quick
    ? { nodes: 12, losses: [0, 0.3], durationMs: 120_000 }
    : { nodes: 30, losses: [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3], durationMs: 1_200_000 };
}

function tasks(settings: RunSettings): Task[] {
  const { nodes, losses, durationMs } = grid(settings);
  const out: Task[] = [];
  for (const detector of DETECTORS) {
    for (const loss of losses) {
      for (const seed of settings.seeds) {
        // Phi accrual finds each deadline by bisection: some 4× the fixed detector's work.
        const cost = detector.startsWith('swim')
          ? swimCost(nodes, durationMs)
          : heartbeatCost(nodes, LAN.heartbeatFanout, durationMs / LAN.heartbeatIntervalMs) * (detector === 'heartbeat-phi' ? 4 : 1);
        out.push({ scenario: 'falsePositives', params: { detector, nodes, loss, durationMs, seed }, cost });
      }
    }
  }
  return out;
}

export const falsePositives: Experiment = {
  name: 'false-positives',
  title: 'False positives: live members declared failed, against packet loss',
  question:
    'How often is a live, reachable member declared failed, per node-hour, as packet loss grows from 0 to 30% — for SWIM with and without Lifeguard, and for heartbeat gossip with fixed thresholds and with phi accrual?',
  columns: ['detector', 'nodes', 'loss', 'duration_ms', 'seed', 'node_hours', 'false_positives', 'fp_per_node_hour', 'suspicions', 'suspicions_per_node_hour'],
  sortBy: ['detector', 'loss', 'seed'],

  async run(settings, runTasks) {
    return (await runTasks(tasks(settings), 'loss sweep')).flat();
  },

  parameters(settings) {
    const { nodes, losses, durationMs } = grid(settings);
    const config = (d: Detector) =>
      Object.entries(DETECTOR_CONFIGS[d].config)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    return [
      ['cluster size N', String(nodes)],
      ['packet loss', `${losses.map((l) => `${l * 100}%`).join(', ')} (every UDP packet, independently)`],
      ['virtual time per run', `${durationMs / 60_000} min, converged start, no crashes: ${fmt((nodes * durationMs) / 3_600_000)} node-hours per run`],
      ...DETECTORS.map((d): [string, string] => [NAMES[d], `${DETECTOR_CONFIGS[d].protocol}; ${config(d)}; LAN profile otherwise`]),
      [
        'SWIM without Lifeguard switches off',
        'the local health multiplier (awarenessMaxMultiplier 1: the wait of a probe for an ack never stretches, so nacks change nothing) and the confirmation-shortened suspicion timeout (suspicionMaxTimeoutMult 1: the timeout is always the minimum, SuspicionMult·log10 N·T). Still on in both: the buddy system (a suspect message rides on the ping to the suspect) and nack messages themselves (the core has no switch for them)',
      ],
      ['TCP pings', "off for both SWIM variants: the simulator's streams are lossless, so the TCP fallback would hide every UDP loss"],
      ['heartbeat', `X = ${LAN.heartbeatIntervalMs} ms, M = ${LAN.heartbeatFanout}`],
    ];
  },

  figures(rows) {
    const measured = (column: string) => rows.map((r) => ({ x: num(r, 'loss')! * 100, y: num(r, column), series: NAMES[r.detector as Detector] }));
    return [
      {
        name: 'false-positives',
        caption: 'False failure declarations of live members per node-hour against packet loss (symmetric-log scale: zero is drawn).',
        spec: chart({
          title: 'False failure declarations',
          x: { title: 'packet loss (%)' },
          y: { title: 'false failures per node-hour', scale: 'symlog' },
          seriesTitle: 'detector',
          measured: measured('fp_per_node_hour'),
        }),
      },
      {
        name: 'false-positives-suspicions',
        caption: 'Suspicions raised per node-hour (most refuted or revived in time), against packet loss.',
        spec: chart({
          title: 'Suspicions raised',
          x: { title: 'packet loss (%)' },
          y: { title: 'suspicions per node-hour', scale: 'symlog' },
          seriesTitle: 'detector',
          measured: measured('suspicions_per_node_hour'),
        }),
      },
    ];
  },

  reading(rows) {
    const losses = [...new Set(numbers(rows, 'loss'))].sort((a, b) => a - b);
    const rate = (detector: Detector, loss: number) => {
      const group = rows.filter((r) => r.detector === detector && r.loss === loss);
      const fp = numbers(group, 'false_positives').reduce((a, b) => a + b, 0);
      const hours = numbers(group, 'node_hours').reduce((a, b) => a + b, 0);
      return { fp, hours, perHour: fp / hours };
    };
    const body = losses.map((loss) => [`${loss * 100}%`, ...DETECTORS.map((d) => `${fmt(rate(d, loss).perHour)} (${rate(d, loss).fp})`)]);
    const top = losses[losses.length - 1]!;
    const withLg = rate('swim-lifeguard', top);
    const without = rate('swim-plain', top);
    const reduction = withLg.fp === 0 ? `more than ${without.fp}×` : `${fmt(without.fp / withLg.fp, 2)}×`;
    const suspicionsBy = groupBy(rows, (r) => String(r.detector));
    const meanSusp = (d: Detector) => mean(numbers(suspicionsBy.get(d) ?? [], 'suspicions_per_node_hour'));
    return [
      'False failures per node-hour (total count over all seeds in brackets):',
      '',
      markdownTable(['loss', ...DETECTORS.map((d) => NAMES[d])], body),
      '',
      `**Lifeguard.** At ${top * 100}% loss SWIM without Lifeguard declared ${without.fp} live members failed, with Lifeguard ${withLg.fp}: ${reduction} fewer. The Lifeguard paper reports more than 50× fewer false positives, but in a different test: a few members are made slow (CPU-starved), which is what the local health multiplier detects — a slow member stretches its own probe timeouts instead of accusing healthy peers. Here the fault is uniform random loss on every link, so all members are equally "unhealthy" and the remaining gain comes from both Lifeguard mechanisms together (local health, and a suspicion timeout that starts at ${LAN.suspicionMaxTimeoutMult}× the minimum and shrinks only with independent confirmations, which a live member rarely collects); this experiment does not separate the two. The buddy system, on in both variants, lets a suspect refute at the next probe it receives.`,
      '',
      `**Heartbeats.** A heartbeat reaches each member along many gossip paths (M = ${LAN.heartbeatFanout} copies per node per period), so a silence of failAfter = ${LAN.failAfterMs / 1000} s needs nearly all of them to lose it: the fixed detector's false failures are ${DETECTORS.slice(2, 3).map((d) => fmt(rate(d, top).perHour))[0]} per node-hour even at ${top * 100}% loss — bought with a long threshold (detection after ~${LAN.failAfterMs / 1000} s, against SWIM's ${fmt(minSuspicionTimeout(LAN.suspicionMult, 30, LAN.probeIntervalMs) / 1000)} s minimum suspicion timeout at N = 30 plus about two probe intervals to the first suspicion). Phi accrual (failed once phi ≥ 8 and the silence reaches 5 s) can fail a member after half the fixed detector's silence; its price under loss is ${fmt(rate('heartbeat-phi', top).perHour)} false failures per node-hour at ${top * 100}% loss, ${rate('heartbeat-phi', top).perHour < withLg.perHour ? 'below' : 'not below'} SWIM with Lifeguard's ${fmt(withLg.perHour)}.`,
      '',
      `Suspicions per node-hour, averaged over loss rates: ${DETECTORS.map((d) => `${NAMES[d]} ${fmt(meanSusp(d))}`).join('; ')}. SWIM raises many more suspicions than it turns into failures: most are refuted in time.`,
    ].join('\n');
  },
};
