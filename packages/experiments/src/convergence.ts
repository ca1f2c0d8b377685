import { PROFILES } from 'hearsay/core';
import { heartbeatCost, seedsFor, swimCost } from './grid.js';
import { chart, type Point } from './plot.js';
import { fitLine, mean, roundsToAll, roundsToHalf, swimFirstVerdictMs } from './theory.js';
import { distinct, fmt, groupBy, markdownTable, num, numbers } from './table.js';
import type { Experiment, Row, RunSettings, SpreadParams, Task } from './types.js';

const LAN = PROFILES.lan;
type Protocol = SpreadParams['protocol'];

interface Grid {
  sizes: number[];
  fanouts: number[];
  periods: number[];
  /** Heartbeat tables cost O(N²) per period to simulate: the largest sizes get one setting. */
  heartbeatMaxNodes: number;
  heartbeatLargest: { nodes: number; fanout: number; periodMs: number } | null;
}

function grid(settings: RunSettings): Grid {
  return settings.quick
    ? { sizes: [10, 40], fanouts: [2], periods: [200], heartbeatMaxNodes: 40, heartbeatLargest: null }
    : {
        sizes: [10, 30, 100, 300, 1000, 3000, 10_000],
        fanouts: [1, 2, 3, 4],
        periods: [200, 1000],
        heartbeatMaxNodes: 300,
        heartbeatLargest: { nodes: 1000, fanout: 3, periodMs: 1000 },
      };
}

/**
 * The fan-out an update actually gets per gossip period X. SWIM: M gossip targets plus the
 * piggyback on its probe traffic (a ping and an ack per node per probe interval T, 2X/T per
 * period). Heartbeat: a joiner spreads both as memberlist's alive gossip (M per X) and in the
 * tables (M per X): 2M; a crash spreads only as the last heartbeat in the tables: M.
 */
function effectiveFanout(protocol: Protocol, event: 'join' | 'crash', fanout: number, periodMs: number): number {
  if (protocol === 'swim') return fanout + (2 * periodMs) / LAN.probeIntervalMs;
  return event === 'join' ? 2 * fanout : fanout;
}

/**
 * Heartbeat thresholds scaled to the epidemic: a live member's heartbeat must reach everyone
 * well within the silence that fails it, or the crash measurement drowns in false verdicts.
 */
function heartbeatThresholds(nodes: number, fanout: number, periodMs: number): { suspectAfterMs: number; failAfterMs: number } {
  const failPeriods = Math.ceil(2 * roundsToAll(nodes, fanout) + 4);
  return { suspectAfterMs: Math.ceil(failPeriods / 2) * periodMs, failAfterMs: failPeriods * periodMs };
}

function tasks(settings: RunSettings): Task[] {
  const g = grid(settings);
  const out: Task[] = [];
  const add = (protocol: Protocol, nodes: number, fanout: number, periodMs: number, seed: number) => {
    const thresholds = heartbeatThresholds(nodes, fanout, periodMs);
    const params: SpreadParams = { protocol, nodes, fanout, periodMs, ...thresholds, crash: true, seed };
    // SWIM: a join, then a crash found within ~30 s; heartbeat: failAfter plus two spreads.
    const periods = 4 + thresholds.failAfterMs / periodMs + 2 * roundsToAll(nodes, fanout);
    const cost = protocol === 'swim' ? swimCost(nodes, 30_000) : heartbeatCost(nodes, fanout, periods);
    out.push({ scenario: 'spread', params, cost });
  };
  for (const nodes of g.sizes) {
    for (const fanout of g.fanouts) {
      for (const periodMs of g.periods) {
        for (const seed of seedsFor(settings.seeds, nodes)) {
          add('swim', nodes, fanout, periodMs, seed);
          if (nodes <= g.heartbeatMaxNodes) add('heartbeat', nodes, fanout, periodMs, seed);
        }
      }
    }
  }
  const largest = g.heartbeatLargest;
  if (largest) for (const seed of seedsFor(settings.seeds, 3000)) add('heartbeat', largest.nodes, largest.fanout, largest.periodMs, seed);
  return out;
}

const label = (protocol: string) => (protocol === 'swim' ? 'SWIM' : 'heartbeat');
const panelOf = (row: Row) => `${label(String(row.protocol))}, X = ${num(row, 'period_ms')! / 1000} s`;

/** Theory: X × rounds(N, f_eff), drawn over the sizes measured. */
function theoryPoints(rows: Row[], event: 'join' | 'crash', rounds: (n: number, f: number) => number, shiftMs: (row: Row) => number): Point[] {
  const points: Point[] = [];
  for (const [, group] of groupBy(rows, (r) => `${r.protocol}|${r.period_ms}|${r.fanout_m}`)) {
    const first = group[0]!;
    const protocol = first.protocol as Protocol;
    const periodMs = num(first, 'period_ms')!;
    const fanout = num(first, 'fanout_m')!;
    const f = effectiveFanout(protocol, event, fanout, periodMs);
    for (const nodes of distinct<number>(group, 'nodes')) {
      const row = group.find((r) => r.nodes === nodes)!;
      points.push({ x: nodes, y: (periodMs * rounds(nodes, f) + shiftMs(row)) / 1000, series: `M = ${fanout}`, panel: panelOf(first) });
    }
  }
  return points;
}

function measuredPoints(rows: Row[], value: (row: Row) => number | null): Point[] {
  return rows.map((row) => {
    const v = value(row);
    return { x: num(row, 'nodes')!, y: v === null ? null : v / 1000, series: `M = ${row.fanout_m}`, panel: panelOf(row) };
  });
}

/** The fitted slope of time against ln N, next to theory's 2X/f (join, crash spread). */
function slopeTable(rows: Row[], event: 'join' | 'crash', value: (row: Row) => number | null): string {
  const body: string[][] = [];
  for (const [, group] of groupBy(rows, (r) => `${r.protocol}|${r.period_ms}|${r.fanout_m}`)) {
    const first = group[0]!;
    const protocol = first.protocol as Protocol;
    const periodMs = num(first, 'period_ms')!;
    const fanout = num(first, 'fanout_m')!;
    const points = group.map((r) => ({ x: Math.log(num(r, 'nodes')!), y: value(r) })).filter((p): p is { x: number; y: number } => p.y !== null);
    const fit = fitLine(points);
    const f = effectiveFanout(protocol, event, fanout, periodMs);
    const theory = (2 * periodMs) / f;
    const sizes = distinct<number>(group, 'nodes');
    body.push([
      label(protocol),
      String(periodMs),
      String(fanout),
      `${sizes[0]!.toLocaleString('en-US')}–${sizes[sizes.length - 1]!.toLocaleString('en-US')}`,
      fmt(f),
      fmt(fit?.slope),
      fmt(theory),
      fit ? `${fmt(fit.slope / theory, 2)}×` : '—',
      fmt(fit?.r2, 2),
    ]);
  }
  return markdownTable(['protocol', 'X (ms)', 'M', 'N', 'f_eff', 'fitted ms per ln N', 'theory 2X/f_eff', 'ratio', 'R²'], body);
}

function spreadOf(row: Row): number | null {
  const all = num(row, 'all_ms');
  const first = num(row, 'first_ms');
  return all === null || first === null ? null : all - first;
}

export const convergence: Experiment = {
  name: 'convergence',
  title: 'Convergence: how long until every node knows a join, and a crash',
  question:
    'How does the time until every member knows that a node joined — and that a node crashed — grow with the cluster size N, the gossip fan-out M and the gossip period X, for SWIM and for heartbeat gossip?',
  columns: [
    'protocol',
    'nodes',
    'fanout_m',
    'period_ms',
    'suspect_after_ms',
    'fail_after_ms',
    'seed',
    'event',
    'first_ms',
    'half_ms',
    'all_ms',
    'first_suspect_ms',
    'informed',
  ],
  sortBy: ['protocol', 'period_ms', 'fanout_m', 'nodes', 'seed', 'event'],

  async run(settings, runTasks) {
    const list = tasks(settings);
    return (await runTasks(list, 'join + crash')).flat();
  },

  parameters(settings) {
    const g = grid(settings);
    return [
      [
        'cluster sizes N',
        `${g.sizes.join(', ')} (heartbeat up to ${g.heartbeatMaxNodes}${g.heartbeatLargest ? `, and ${g.heartbeatLargest.nodes} with M = ${g.heartbeatLargest.fanout}, X = ${g.heartbeatLargest.periodMs} ms, first two seeds` : ''})`,
      ],
      ['fan-out M', `${g.fanouts.join(', ')}: memberlist's gossipNodes, and heartbeatFanout`],
      ['period X', `${g.periods.join(', ')} ms: memberlist's gossipIntervalMs, and heartbeatIntervalMs`],
      ['seeds per size', 'all below 3,000 nodes; the first two at 3,000; the first one at 10,000'],
      ['start', 'N nodes converged (everyone lists everyone alive); node N joins through a random member after max(2 s, 2X)'],
      ['crash', 'once every member lists the joiner, a random original member crashes'],
      [
        'SWIM timing',
        `LAN profile: probe interval ${LAN.probeIntervalMs} ms, suspicion mult ${LAN.suspicionMult}, max timeout mult ${LAN.suspicionMaxTimeoutMult}, retransmit mult ${LAN.retransmitMult}`,
      ],
      [
        'heartbeat thresholds',
        'failAfter = ⌈2·ln(2N(N+1))/M + 4⌉ periods, suspectAfter half of it: twice the epidemic time, so that live members are not declared failed',
      ],
      ['network', 'no loss, 1 ms + up to 1 ms one-way delay; bytes estimated from message sizes'],
    ];
  },

  figures(rows) {
    const join = rows.filter((r) => r.event === 'join');
    const crash = rows.filter((r) => r.event === 'crash');
    const x = { title: 'cluster size N (nodes, log scale)', scale: 'log' as const };
    const common = { seriesTitle: 'fan-out', columns: 2, width: 300, height: 200 };
    return [
      {
        name: 'convergence-join',
        caption: 'Time from a join until every member lists the new node, against N (log scale); dashed: the epidemic model X·ln(2N(N+1))/f_eff.',
        spec: chart({
          ...common,
          title: 'Join: time until every node knows the new member',
          x,
          y: { title: 'time until all know (s)' },
          measured: measuredPoints(join, (r) => num(r, 'all_ms')),
          theory: theoryPoints(join, 'join', roundsToAll, () => 0),
          theoryLabel: 'theory: X·ln(2N(N+1))/f_eff',
        }),
      },
      {
        name: 'convergence-join-half',
        caption: 'Time from a join until half the members list the new node; dashed: X·ln(N+1)/f_eff.',
        spec: chart({
          ...common,
          title: 'Join: time until half the nodes know the new member',
          x,
          y: { title: 'time until half know (s)' },
          measured: measuredPoints(join, (r) => num(r, 'half_ms')),
          theory: theoryPoints(join, 'join', roundsToHalf, () => 0),
          theoryLabel: 'theory: X·ln(N+1)/f_eff',
        }),
      },
      {
        name: 'convergence-crash',
        caption:
          'Time from a crash until every live member marks it failed (log scale). Dashed, SWIM: (e/(e−1) + 1)·T to the first suspicion, plus the minimum suspicion timeout 4·max(1, log10 N)·T, plus the spread X·ln(2N(N+1))/f_eff; heartbeat: failAfter − X/2 (the last heartbeat left half a period before the crash on average) plus the spread of that heartbeat through the tables, X·ln(2N(N+1))/M.',
        spec: chart({
          ...common,
          title: 'Crash: time until every node knows',
          x,
          y: { title: 'time until all know (s)', scale: 'log' },
          measured: measuredPoints(crash, (r) => num(r, 'all_ms')),
          theory: theoryPoints(crash, 'crash', roundsToAll, verdictMs),
          theoryLabel: 'theory: first verdict expected (see caption) + X·ln(2N(N+1))/f_eff',
        }),
      },
      {
        name: 'convergence-crash-spread',
        caption: 'From the first failed verdict to the last: the spread of the failure alone; dashed: X·ln(2N(N+1))/f_eff.',
        spec: chart({
          ...common,
          title: 'Crash: first verdict to every node knowing',
          x,
          y: { title: 'spread of the verdict (s)' },
          measured: measuredPoints(crash, spreadOf),
          theory: theoryPoints(crash, 'crash', roundsToAll, () => 0),
          theoryLabel: 'theory: X·ln(2N(N+1))/f_eff',
        }),
      },
    ];
  },

  reading(rows, settings) {
    const join = rows.filter((r) => r.event === 'join');
    const crash = rows.filter((r) => r.event === 'crash');
    const incomplete = rows.filter((r) => num(r, 'informed') !== 1);
    const swimJoin = join.filter((r) => r.protocol === 'swim');
    const largest = Math.max(...numbers(rows, 'nodes'));
    const crashRatio = (protocol: Protocol) =>
      mean(
        crash
          .filter((r) => r.protocol === protocol && num(r, 'all_ms') !== null)
          .map(
            (r) =>
              num(r, 'all_ms')! /
              (verdictMs(r) +
                num(r, 'period_ms')! * roundsToAll(num(r, 'nodes')!, effectiveFanout(protocol, 'crash', num(r, 'fanout_m')!, num(r, 'period_ms')!))),
          ),
      );
    const atLargest = swimJoin.filter((r) => r.nodes === largest);
    return [
      `**Join.** Every series grows about linearly in ln N, as an epidemic should: the table fits time-until-all = a + b·ln N per series and sets b beside the model's 2X/f_eff (logistic spread, docs/detectors.md: the last node hears after ln(2N(N+1))/f rounds, ≈ 2·ln N / f). f_eff counts every way an update travels in a period: SWIM gossips it to M members every X and piggybacks it on its probe traffic, a ping and an ack per node per probe interval (2X/T more per period); a heartbeat joiner travels both as memberlist's alive gossip and inside the M tables (2M).`,
      '',
      slopeTable(join, 'join', (r) => num(r, 'all_ms')),
      '',
      `At N = ${largest.toLocaleString('en-US')} SWIM's join reached everyone in ${fmt(Math.min(...numbers(atLargest, 'all_ms')) / 1000)}–${fmt(Math.max(...numbers(atLargest, 'all_ms')) / 1000)} s over the ${atLargest.length} settings of M and X.`,
      '',
      `**Crash.** SWIM needs a probe to find the crash (e/(e−1) + 1 probe intervals on average), then the suspicion timeout — at least 4·log10 N probe intervals, up to ${LAN.suspicionMaxTimeoutMult}× that until independent confirmations arrive — before the first failed verdict. So the total grows like log N, through the timeout rather than the gossip; and M and X hardly matter, because the suspicion spreads while its timer runs and every node that heard it times out on its own at about the same moment. Measured time-until-all averages ${fmt(crashRatio('swim'), 2)}× the dashed model for SWIM. A heartbeat node fails a member on its own after failAfter of silence (here set from N and M, see the parameters); the verdicts are local, so what spreads is the last heartbeat, through the tables alone (f_eff = M): measured ${fmt(crashRatio('heartbeat'), 2)}× the model. The spread of the verdicts alone, from the first to the last node, against ln N:`,
      '',
      slopeTable(crash, 'crash', spreadOf),
      '',
      `SWIM's verdicts spread faster than gossip would carry a dead message (ratios under 1): most nodes reach the verdict by their own suspicion timers, started by the suspect message a few seconds earlier. Heartbeat verdicts spread a little slower than one heartbeat (ratios above 1): the first verdict comes from a node that also missed the last heartbeat or two, so first-to-last spans more than one epidemic.`,
      '',
      '**Where the numbers and the model part.** The model assumes every informed node keeps pushing; memberlist stops retransmitting an update after retransmitMult·⌈log10(N+1)⌉ sends, and the joiner itself is learned through push/pull before any gossip, so the intercepts differ and a late node may have to wait for an unrelated message or a push/pull; the gossip rounds are asynchronous (each node at its own phase), which the continuous logistic model describes better than synchronous rounds would. A ratio below 1 means faster than the model (more paths than counted, e.g. SWIM acks returning to the node that just told the news), above 1 slower (retransmit limits, packets full of other updates).',
      '',
      incomplete.length
        ? `${incomplete.length} of ${rows.length} measurements did not reach every node within the 240 s limit (column \`informed\` < 1).`
        : `Every measurement reached every node${settings.quick ? '' : ' within the 240 s limit'}.`,
      '',
      `Heartbeat points stop at ${Math.max(
        ...numbers(
          rows.filter((r) => r.protocol === 'heartbeat'),
          'nodes',
        ),
      )} nodes: every table is the whole membership list, so one period costs N²·M entries to simulate (and to send), and a 10,000-node heartbeat cluster would need 10⁸·M entry merges per period.`,
    ].join('\n');
  },
};

/** When the first failed verdict is expected after a crash, before the verdict spreads (see the crash figure). */
function verdictMs(row: Row): number {
  if (row.protocol === 'heartbeat') return num(row, 'fail_after_ms')! - num(row, 'period_ms')! / 2;
  const n = num(row, 'nodes')!;
  return swimFirstVerdictMs(LAN, n, n);
}
