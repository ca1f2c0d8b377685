import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBench as runScript, runsAgent, serfInstalled } from './bench-helpers.js';

const bench = fileURLToPath(new URL('../../packages/bench/dist/attack-bench.js', import.meta.url));

interface Result {
  attack: string;
  system: string;
  amplification: number | null;
  rss_before_mib: number | null;
  peak_rss_mib: number | null;
  rss_after_mib: number | null;
  outcome: string;
  recovery: string;
}

interface Report {
  parameters: { cluster_size: number; scale: string; settle_s: number; versions: Record<string, string> };
  results: Result[];
  pids: Record<string, number[]>;
  temp_dir: string;
}

const runBench = (args: string[]) => runScript(bench, args, 100_000);

describe('bench:attack', () => {
  it('runs three attacks at a tiny scale against hearsay (and Serf) and leaves no agent or temp dir behind', async () => {
    const attacks = ['nested-compound', 'large-streams', 'cross-site-leave'];
    const { code, stdout, stderr } = await runBench([
      '--small',
      '--settle',
      '1s',
      '--attacks',
      attacks.join(','),
      '--json',
      ...(serfInstalled ? [] : ['--no-serf']),
    ]);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(report.parameters).toMatchObject({ cluster_size: 3, scale: 'small', settle_s: 1 });

    const systems = serfInstalled ? ['hearsay', 'serf'] : ['hearsay'];
    // The cross-site POST is an HTTP attack: Serf has no HTTP API.
    const expected = attacks.flatMap((attack) => (attack === 'cross-site-leave' ? ['hearsay'] : systems).map((system) => `${attack} ${system}`));
    expect(report.results.map((r) => `${r.attack} ${r.system}`).sort()).toEqual(expected.sort());
    for (const result of report.results) {
      expect(result.outcome, `${result.attack} ${result.system}`).not.toMatch(/^the attack failed/);
      expect(result.recovery).toMatch(/^(up|DOWN|WEDGED)/);
      expect(result.peak_rss_mib).toBeGreaterThan(0);
    }
    for (const result of report.results.filter((r) => r.attack === 'nested-compound')) {
      expect(Number.isFinite(result.amplification), `${result.system} amplification`).toBe(true);
    }
    for (const result of report.results.filter((r) => r.attack === 'large-streams')) {
      expect(result.rss_after_mib, `${result.system} RSS after`).toBeGreaterThan(0);
    }
    // Serf answers every ping of the nested compound: what amplification means, measured.
    if (serfInstalled) expect(report.results.find((r) => r.attack === 'nested-compound' && r.system === 'serf')!.amplification).toBeGreaterThan(100);

    const pids = Object.values(report.pids).flat();
    expect(pids.length).toBeGreaterThanOrEqual(3);
    expect(pids.filter(runsAgent)).toEqual([]);
    expect(existsSync(report.temp_dir)).toBe(false);
  }, 110_000);

  it('prints Markdown by default', async () => {
    const { code, stdout, stderr } = await runBench(['--small', '--settle', '0s', '--attacks', 'nul-name-query', '--no-serf']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^## hearsay under attack/);
    expect(stdout).toContain('| attack | measure | hearsay |');
    expect(stdout).toMatch(/\| query from a member whose name holds a NUL byte.* \| peak RSS \| [\d.]+ MiB \|/);
  }, 60_000);
});
