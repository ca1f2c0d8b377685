import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBench as runScript, runsAgent, serfInstalled } from './bench-helpers.js';

const bench = fileURLToPath(new URL('../../packages/bench/dist/serf-bench.js', import.meta.url));

const METRICS = [
  'startup_s',
  'joiners_listening_s',
  'join_convergence_s',
  'rss_mib',
  'cpu_percent',
  'sent_bytes_per_s',
  'sent_packets_per_s',
  'failure_detection_s',
  'leave_propagation_s',
];
const TRAFFIC_METRICS = ['sent_bytes_per_s', 'sent_packets_per_s'];

interface Metric {
  hearsay: number | null;
  serf: number | null;
  ratio: number | null;
}

interface Report {
  parameters: { nodes: number; settle_s: number; window_s: number; hearsay_version: string; serf_version: string; private_network: boolean };
  metrics: Record<string, Metric>;
  pids: { hearsay: number[]; serf: number[] };
  temp_dirs: string[];
}

const runBench = (args: string[]) => runScript(bench, args, 80_000);

describe.skipIf(!serfInstalled)('bench:serf', () => {
  it('measures every metric for hearsay and Serf at N = 3 and leaves no agent or temp dir behind', async () => {
    const { code, stdout, stderr } = await runBench(['--nodes', '3', '--settle', '0s', '--window', '3s', '--json']);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Report;

    expect(report.parameters).toMatchObject({ nodes: 3, settle_s: 0, window_s: 3 });
    expect(report.parameters.serf_version).toMatch(/\d/);
    expect(Object.keys(report.metrics).sort()).toEqual([...METRICS].sort());
    for (const key of METRICS) {
      const { hearsay, serf, ratio } = report.metrics[key]!;
      expect(hearsay, `hearsay ${key}`).toBeGreaterThan(0);
      expect(Number.isFinite(hearsay), `hearsay ${key}`).toBe(true);
      // Serf counts no bytes: without a network namespace of its own the bench cannot either.
      if (TRAFFIC_METRICS.includes(key) && !report.parameters.private_network) {
        expect(serf, `serf ${key}`).toBeNull();
        continue;
      }
      expect(serf, `serf ${key}`).toBeGreaterThan(0);
      expect(Number.isFinite(serf), `serf ${key}`).toBe(true);
      expect(ratio, `ratio ${key}`).toBeCloseTo(hearsay! / serf!, 9);
    }

    expect(report.pids.hearsay).toHaveLength(3);
    expect(report.pids.serf).toHaveLength(3);
    expect([...report.pids.hearsay, ...report.pids.serf].filter(runsAgent)).toEqual([]);
    expect(report.temp_dirs).toHaveLength(2);
    expect(report.temp_dirs.filter((dir) => existsSync(dir))).toEqual([]);
  }, 90_000);
});
