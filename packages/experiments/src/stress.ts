import { heartbeatCost } from './grid.js';
import { chart, type Point } from './plot.js';
import { formatDuration } from './report.js';
import { roundsToAll } from './theory.js';
import { distinct, fmt, groupBy, markdownTable, num } from './table.js';
import type { Experiment, Row, RunSettings, SyncParams, Task } from './types.js';

/** Acceptably synchronised: every live node lists every live node alive this share of the time… */
const SYNC_TARGET = 0.99;
/** …and no live member is ever declared failed. */
const PERIODS_PER_RUN = 100;

interface Grid {
  periods: number[];
  fanouts: number[];
  maxK: number;
}

function grid(settings: RunSettings): Grid {
  return settings.quick ? { periods: [500], fanouts: [2, 3], maxK: 8 } : { periods: [250, 500, 1000], fanouts: [1, 2, 3, 4], maxK: 32 };
}

function passes(rows: Row[]): boolean {
  return rows.every((r) => num(r, 'sync_fraction')! >= SYNC_TARGET && num(r, 'false_failures') === 0);
}

/** The epidemic time of one heartbeat to the last node, fan-out thinned by loss (docs/detectors.md). */
function spreadMs(nodes: number, loss: number, periodMs: number, fanout: number): number {
  return periodMs * roundsToAll(nodes, fanout * (1 - loss));
}

/** One binary search per (X, M) over k, the suspicion threshold in periods: [lo fails, hi passes]. */
interface Search {
  periodMs: number;
  fanout: number;
  lo: number;
  hi: number | null;
}

/** The next k to test: maxK first; then bisect; null when the bracket is closed or maxK failed. */
function nextK(search: Search, maxK: number): number | null {
  if (search.hi === null) return search.lo === 0 ? maxK : null;
  return search.hi - search.lo > 1 ? Math.floor((search.lo + search.hi) / 2) : null;
}

export const stress: Experiment = {
  name: 'stress',
  title: 'Stress: where heartbeat membership lists stop agreeing',
  question:
    'For a given cluster size and packet loss, with no node killed, which gossip periods X, fan-outs M and suspicion/failure thresholds keep every membership list in agreement — and where is the boundary?',
  columns: [
    'nodes',
    'loss',
    'period_ms',
    'fanout_m',
    'k',
    'suspect_after_ms',
    'fail_after_ms',
    'duration_ms',
    'seed',
    'sync_fraction',
    'false_failures',
    'suspicions',
  ],
  sortBy: ['period_ms', 'fanout_m', 'k', 'seed'],

  /**
   * Bisects k for every (X, M) at once, a round at a time (all seeds of all searches in one
   * batch): first k = maxK, then the midpoint of the bracket. At most 1 + log2(maxK) rounds,
   * and no new round once the wall-clock budget is spent. Assumes agreement only improves
   * with a longer threshold, which the rows let one check.
   */
  async run(settings, runTasks) {
    const g = grid(settings);
    const searches: Search[] = g.periods.flatMap((periodMs) => g.fanouts.map((fanout) => ({ periodMs, fanout, lo: 0, hi: null })));
    const started = performance.now();
    const rows: Row[] = [];
    const maxRounds = 1 + Math.ceil(Math.log2(g.maxK));
    for (let round = 0; round < maxRounds && performance.now() - started < settings.searchBudgetMs; round++) {
      const probes = searches.map((search) => ({ search, k: nextK(search, g.maxK) })).filter((p): p is { search: Search; k: number } => p.k !== null);
      if (probes.length === 0) break;
      const tasks: Task[] = probes.flatMap(({ search, k }) =>
        settings.seeds.map((seed): Task => {
          const params: SyncParams = {
            nodes: settings.nodes,
            loss: settings.loss,
            periodMs: search.periodMs,
            fanout: search.fanout,
            k,
            durationMs: PERIODS_PER_RUN * search.periodMs,
            seed,
          };
          return { scenario: 'sync', params, cost: heartbeatCost(settings.nodes, search.fanout, PERIODS_PER_RUN) };
        }),
      );
      const results = await runTasks(tasks, `bisection round ${round + 1}/${maxRounds}`);
      probes.forEach(({ search, k }, i) => {
        const seedRows = results.slice(i * settings.seeds.length, (i + 1) * settings.seeds.length).flat();
        rows.push(...seedRows);
        if (passes(seedRows)) search.hi = k;
        else search.lo = k;
      });
    }
    return rows;
  },

  parameters(settings) {
    const g = grid(settings);
    return [
      ['cluster size N', String(settings.nodes)],
      ['packet loss', `${settings.loss * 100}%`],
      ['protocol', 'heartbeat gossip (the parameters X, M and the thresholds are its own)'],
      ['period X', `${g.periods.join(', ')} ms`],
      ['fan-out M', g.fanouts.join(', ')],
      ['thresholds', `suspectAfter = k·X, failAfter = 2k·X; k bisected within 1 … ${g.maxK}`],
      [
        'acceptable',
        `every live node lists every live node alive ≥ ${SYNC_TARGET * 100}% of the time (sampled every 50 ms), and no false failure, for every seed`,
      ],
      ['run', `${PERIODS_PER_RUN} periods of virtual time, converged start, no crashes`],
      ['search bounds', `at most ${1 + Math.ceil(Math.log2(g.maxK))} rounds, and no new round after ${formatDuration(settings.searchBudgetMs)} of wall time`],
    ];
  },

  figures(rows, settings) {
    const boundary: Point[] = [];
    const theory: Point[] = [];
    for (const b of boundaries(rows)) {
      const series = `X = ${b.periodMs / 1000} s`;
      boundary.push({ x: b.fanout, y: b.hi === null ? null : (b.hi * b.periodMs) / 1000, series });
      theory.push({ x: b.fanout, y: spreadMs(settings.nodes, settings.loss, b.periodMs, b.fanout) / 1000, series });
    }
    const sync: Point[] = rows.map((r) => ({
      x: num(r, 'suspect_after_ms')! / 1000,
      y: num(r, 'sync_fraction')! * 100,
      series: `M = ${r.fanout_m}`,
      panel: `X = ${num(r, 'period_ms')! / 1000} s`,
    }));
    return [
      {
        name: 'stress-boundary',
        caption: `The shortest suspicion threshold (failAfter twice it) that kept every list in agreement ≥ ${SYNC_TARGET * 100}% of the time with no false failure, N = ${settings.nodes}, loss ${settings.loss * 100}%. Dashed: the epidemic time of one heartbeat to the last node, X·ln(2N(N+1))/(M(1−loss)).`,
        spec: chart({
          title: `Boundary of agreement (N = ${settings.nodes}, loss ${settings.loss * 100}%)`,
          x: { title: 'fan-out M (members per period)', zero: false, integer: true },
          y: { title: 'shortest safe suspectAfter (s)' },
          seriesTitle: 'period',
          measured: boundary,
          theory,
          theoryLabel: 'epidemic time to all',
          measuredLabel: 'measured boundary (all seeds pass)',
        }),
      },
      {
        name: 'stress-sync',
        caption: 'Every tested point: the share of time all membership lists agreed, against the suspicion threshold (log scale).',
        spec: chart({
          title: 'Agreement against the suspicion threshold',
          x: { title: 'suspectAfter (s, log scale)', scale: 'log' },
          y: { title: 'time all lists agree (%)', zero: false },
          seriesTitle: 'fan-out',
          measured: sync,
          columns: 3,
          width: 240,
          height: 180,
        }),
      },
    ];
  },

  reading(rows, settings) {
    const ratios = boundaries(rows)
      .filter((b) => b.hi !== null)
      .map((b) => (b.hi! * b.periodMs) / spreadMs(settings.nodes, settings.loss, b.periodMs, b.fanout));
    const body = boundaries(rows).map((b) => {
      const spread = spreadMs(settings.nodes, settings.loss, b.periodMs, b.fanout);
      const safe = b.hi === null ? null : b.hi * b.periodMs;
      return [
        String(b.periodMs),
        String(b.fanout),
        b.hi === null ? `> ${b.lo}` : String(b.hi),
        b.lo === 0 ? '—' : String(b.lo),
        safe === null ? '—' : fmt(safe / 1000),
        fmt(spread / 1000),
        safe === null ? '—' : `${fmt(safe / spread, 2)}×`,
        b.monotone ? 'yes' : 'no',
      ];
    });
    return [
      markdownTable(['X (ms)', 'M', 'safe k', 'largest failing k', 'safe suspectAfter (s)', 'epidemic time to all (s)', 'ratio', 'monotone'], body),
      '',
      `Acceptable means every list agreed ≥ ${SYNC_TARGET * 100}% of the time and no live node was declared failed, for all ${settings.seeds.length} seeds. The boundary lies between "largest failing k" and "safe k" periods of silence (failAfter is twice that). "monotone" says whether every tested k above the boundary passed and every one below failed, as the bisection assumes.`,
      '',
      `**Reading.** The boundary tracks the time a heartbeat needs to reach the last node, X·ln(2N(N+1))/(M(1−loss)) (docs/detectors.md's logistic model with the fan-out thinned by loss): across the grid the safe suspicion threshold is ${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}× that time. Halving X halves the safe threshold in seconds, and a larger fan-out shortens it roughly as 1/M. The safe threshold sits above the epidemic's *expected* time to all because agreement must hold for every one of N(N−1) observer–member pairs at every moment of the run, so it is set by the tail of the longest gap between heartbeat arrivals, not by its mean. Below the boundary suspicions come and go (a suspect revives when a fresher heartbeat arrives), lists disagree, and with failAfter also below the tail live members are declared failed and must rejoin with a new generation.` +
        ' A rule of thumb follows: with heartbeat gossip, set suspectAfter to at least twice X·ln(2N(N+1))/(M(1−loss)), and failAfter above that.',
    ].join('\n');
  },
};

interface Boundary {
  periodMs: number;
  fanout: number;
  /** Largest tested k that failed (0: none). */
  lo: number;
  /** Smallest tested k that passed (null: none). */
  hi: number | null;
  monotone: boolean;
}

/** The bracket of every (X, M) from the tested points, whatever order they were run in. */
function boundaries(rows: Row[]): Boundary[] {
  const out: Boundary[] = [];
  for (const [, group] of groupBy(rows, (r) => `${r.period_ms}|${r.fanout_m}`)) {
    const verdicts = distinct<number>(group, 'k').map((k) => ({ k, ok: passes(group.filter((r) => r.k === k)) }));
    const passing = verdicts.filter((v) => v.ok).map((v) => v.k);
    const hi = passing.length ? Math.min(...passing) : null;
    const failing = verdicts.filter((v) => !v.ok && (hi === null || v.k < hi)).map((v) => v.k);
    const lo = failing.length ? Math.max(...failing) : 0;
    const monotone = verdicts.every((v) => v.ok === (hi !== null && v.k >= hi));
    out.push({ periodMs: num(group[0]!, 'period_ms')!, fanout: num(group[0]!, 'fanout_m')!, lo, hi, monotone });
  }
  return out.sort((a, b) => a.periodMs - b.periodMs || a.fanout - b.fanout);
}
