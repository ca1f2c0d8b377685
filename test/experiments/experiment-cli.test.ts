import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode } from 'fast-png';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';

// The built CLI: simulations run in worker threads, which load the compiled JS.
const cli = fileURLToPath(new URL('../../packages/agent/dist/cli/main.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'hearsay-experiments-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function hearsay(...args: string[]) {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

type Record = { [column: string]: string };

/** Our CSVs quote nothing (no commas in values), so a split is a full parse. */
function readCsv(path: string): { header: string[]; rows: Record[] } {
  const [head, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const header = head!.split(',');
  return { header, rows: lines.map((line) => Object.fromEntries(line.split(',').map((cell, i) => [header[i]!, cell]))) };
}

const number = (cell: string | undefined) => (cell === undefined || cell === '' ? null : Number(cell));

/** Expected columns, and what a sane row looks like, per experiment. */
const EXPECTATIONS: { [name: string]: { columns: string[]; sane: (row: Record) => void } } = {
  convergence: {
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
    sane: (row) => {
      expect(['swim', 'heartbeat']).toContain(row.protocol);
      expect(['join', 'crash']).toContain(row.event);
      expect(number(row.informed)).toBe(1);
      const [first, half, all] = [number(row.first_ms)!, number(row.half_ms)!, number(row.all_ms)!];
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThanOrEqual(half);
      expect(half).toBeLessThanOrEqual(all);
      // A join reaches 40 nodes within a few gossip periods; a crash within SWIM's timeouts.
      expect(all).toBeLessThan(row.event === 'join' ? 5_000 : 60_000);
    },
  },
  detection: {
    columns: ['protocol', 'nodes', 'seed', 'crash', 'live_nodes', 'first_suspect_ms', 'all_failed_ms', 'expected_first_suspect_ms', 'false_positives'],
    sane: (row) => {
      const [suspect, failed] = [number(row.first_suspect_ms)!, number(row.all_failed_ms)!];
      expect(suspect).toBeGreaterThan(0);
      expect(suspect).toBeLessThanOrEqual(failed);
      expect(failed).toBeLessThan(30_000);
      // SWIM's (e/(e−1) + 1)·T = 2.58 s, more while an earlier crash is still undetected (q < 1).
      if (row.protocol === 'swim') {
        expect(number(row.expected_first_suspect_ms)).toBeGreaterThanOrEqual(2581);
        expect(number(row.expected_first_suspect_ms)).toBeLessThan(4000);
      } else expect(row.expected_first_suspect_ms).toBe('');
      expect(number(row.false_positives)).toBe(0);
    },
  },
  'false-positives': {
    columns: [
      'detector',
      'nodes',
      'loss',
      'duration_ms',
      'seed',
      'node_hours',
      'false_positives',
      'fp_per_node_hour',
      'suspicions',
      'suspicions_per_node_hour',
    ],
    sane: (row) => {
      expect(['swim-lifeguard', 'swim-plain', 'heartbeat-fixed', 'heartbeat-phi']).toContain(row.detector);
      const rate = number(row.fp_per_node_hour)!;
      expect(rate).toBeGreaterThanOrEqual(0);
      expect(rate).toBeCloseTo(number(row.false_positives)! / number(row.node_hours)!, 2);
      if (number(row.loss) === 0) expect(number(row.false_positives)).toBe(0);
    },
  },
  load: {
    columns: ['protocol', 'nodes', 'duration_ms', 'seed', 'msgs_per_node_per_s', 'bytes_per_node_per_s', 'detector_msgs_per_node_per_s', 'false_positives'],
    sane: (row) => {
      const [msgs, bytes, nodes] = [number(row.msgs_per_node_per_s)!, number(row.bytes_per_node_per_s)!, number(row.nodes)!];
      expect(bytes).toBeGreaterThan(msgs);
      // SWIM: a ping and an ack per second plus push/pull; all-to-all: 2(N−1) per second.
      if (row.protocol === 'swim') {
        expect(msgs).toBeGreaterThan(1.9);
        expect(msgs).toBeLessThan(3);
      }
      if (row.protocol === 'all-to-all') expect(msgs).toBeCloseTo(2 * (nodes - 1), -1);
    },
  },
  'rtt-timeouts': {
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
    sane: (row) => {
      expect(['lan', 'jitter', 'two-sites']).toContain(row.network);
      expect(['true', 'false']).toContain(row.rtt_timeouts);
      // At most one probe per member per interval (Lifeguard's health stretches the interval under loss).
      const perInterval = (number(row.nodes)! * number(row.window_ms)!) / 1000;
      expect(number(row.probes)).toBeLessThanOrEqual(perInterval + number(row.nodes)!);
      expect(number(row.probes)).toBeGreaterThan(perInterval / 2);
      expect(number(row.failed_probes_per_node_hour)).toBeCloseTo(number(row.failed_probes)! / number(row.node_hours)!, 2);
      expect(number(row.false_failures_per_node_hour)).toBeCloseTo(number(row.false_failures)! / number(row.node_hours)!, 2);
      if (number(row.loss) === 0) {
        expect(number(row.failed_probes)).toBe(0);
        expect(number(row.false_failures)).toBe(0);
      }
      expect(number(row.crashes_all_failed)).toBe(number(row.crashes));
      expect(number(row.first_suspect_ms)).toBeLessThanOrEqual(number(row.all_failed_ms)!);
    },
  },
  stress: {
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
    sane: (row) => {
      const sync = number(row.sync_fraction)!;
      expect(sync).toBeGreaterThanOrEqual(0);
      expect(sync).toBeLessThanOrEqual(1);
      expect(number(row.suspect_after_ms)).toBe(number(row.k)! * number(row.period_ms)!);
      expect(number(row.fail_after_ms)).toBe(2 * number(row.suspect_after_ms)!);
    },
  },
};

describe('hearsay experiment --quick', () => {
  for (const [name, expectation] of Object.entries(EXPECTATIONS)) {
    it(`${name}: CSV, SVG, PNG and report; the same CSV again with one worker`, () => {
      const out = join(scratch, name);
      const run = hearsay('experiment', name, '--quick', '--out', out);
      expect(run.code, run.stderr).toBe(0);

      const { header, rows } = readCsv(join(out, `${name}.csv`));
      expect(header).toEqual(expectation.columns);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expectation.sane(row);
      expect(new Set(rows.map((row) => row.seed))).toEqual(new Set(['1', '2']));

      const files = readdirSync(out);
      const figures = files.filter((file) => file.endsWith('.svg')).map((file) => file.slice(0, -4));
      expect(figures.length).toBeGreaterThan(0);
      const report = readFileSync(join(out, 'README.md'), 'utf8');
      expect(report).toContain('## Parameters');
      expect(report).toContain('| seeds | 1, 2 |');
      for (const figure of figures) {
        const svg = readFileSync(join(out, `${figure}.svg`), 'utf8');
        expect(XMLValidator.validate(svg)).toBe(true);
        const root = new XMLParser({ ignoreAttributes: false }).parse(svg).svg;
        const [width, height] = [Number(root['@_width']), Number(root['@_height'])];
        expect(width).toBeGreaterThan(100);
        const png = decode(readFileSync(join(out, `${figure}.png`)));
        expect([png.width, png.height]).toEqual([Math.round(2 * width), Math.round(2 * height)]);
        expect(report).toContain(`](${figure}.svg)`);
        expect(report).toContain(`(${figure}.png)`);
      }

      // Redrawn from the CSV and run.json alone: the same report.
      expect(hearsay('experiment', name, '--replot', '--out', out).code).toBe(0);
      expect(readFileSync(join(out, 'README.md'), 'utf8')).toBe(report);

      // Same seeds, one worker instead of one per core: the rows finish in another order.
      const again = join(scratch, `${name}-again`);
      expect(hearsay('experiment', name, '--quick', '--workers', '1', '--out', again).code).toBe(0);
      expect(readFileSync(join(again, `${name}.csv`), 'utf8')).toBe(readFileSync(join(out, `${name}.csv`), 'utf8'));
    });
  }

  it('rejects bad flags with a precise message and exit code 2', () => {
    const unknown = hearsay('experiment', 'gossip', '--quick');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/value 'gossip' is invalid.*convergence, detection, false-positives, load, rtt-timeouts, stress/s);
    const misplaced = hearsay('experiment', 'load', '--nodes', '50', '--quick', '--out', join(scratch, 'misplaced'));
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain('--nodes applies to the stress experiment only');
    const seeds = hearsay('experiment', 'load', '--seeds', '0');
    expect(seeds.code).toBe(2);
    expect(seeds.stderr).toContain('"0" must be at least 1');
  });
});
