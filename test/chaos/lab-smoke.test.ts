/**
 * The chaos lab's smoke run: N = 4 hearsay agents and 4 Debian `serf` agents, each cluster in
 * network namespaces of its own, side by side, through two scenarios of 30 s each (loss 10% then
 * a SIGKILL; a 2 s SIGSTOP), with the simulator beside them; then the report from those rows.
 * Skipped, saying why, where namespaces cannot be made (not root, no nftables) or serf is missing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUpNow } from '../../packages/chaos/src/lab/cleanup.js';
import { labUnavailable, removeStaleLabs } from '../../packages/chaos/src/lab/namespaces.js';
import { writeReport } from '../../packages/chaos/src/report/index.js';
import { labFigures } from '../../packages/chaos/src/scenarios/lab-figures.js';
import { type LabRecord, runInLab } from '../../packages/chaos/src/scenarios/lab-run.js';
import { planVariants } from '../../packages/chaos/src/scenarios/plan.js';
import { simulateScenario } from '../../packages/chaos/src/sim/index.js';
import type { ResultRow, ScenarioSpec } from '../../packages/chaos/src/types.js';

/** Why the lab cannot run here (namespaces, nftables, Debian's serf), or undefined. */
async function whyUnavailable(): Promise<string | undefined> {
  try {
    execFileSync('serf', ['version'], { stdio: 'ignore' });
  } catch {
    return 'Debian’s serf is not installed';
  }
  return labUnavailable();
}

const unavailable = await whyUnavailable();
if (unavailable) console.warn(`chaos lab smoke run skipped: ${unavailable}`);

/** Our namespaces still present. */
const ourNamespaces = () =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.startsWith(`hschaos-${process.pid}-`));

/** Both systems side by side, each in a lab of its own; both finish (and clean up) before a failure is reported. */
async function bothSystems(spec: ScenarioSpec): Promise<LabRecord[]> {
  const settled = await Promise.allSettled((['hearsay', 'serf'] as const).map((system) => runInLab({ spec, rep: 1, system, label: system.slice(0, 1) })));
  return settled.map((outcome) => {
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  });
}

describe.skipIf(unavailable !== undefined)('the chaos lab, smoke run (N = 4, 30 s per scenario)', () => {
  const specs = planVariants({ nodes: 4, seed: 7, scenarios: ['loss', 'pause'], faultMs: 15_000, watchMs: 15_000 }).filter(
    (spec) => spec.variant === 'loss 10%' || spec.variant === 'pause 2s',
  );
  const rows: ResultRow[] = [];

  beforeAll(() => removeStaleLabs());
  afterAll(() => {
    // Whatever a failed run left: its agents by PID, its namespaces.
    cleanUpNow();
    expect(ourNamespaces()).toEqual([]);
  });

  it('runs loss 10% then a SIGKILL in both systems: formed, packets counted, the killed member detected by all', async () => {
    const loss = specs.find((spec) => spec.scenario === 'loss')!;
    const records = await bothSystems(loss);
    expect(ourNamespaces()).toEqual([]);
    for (const record of records) {
      const row = labFigures(record);
      rows.push(row);
      expect(row).toMatchObject({ scenario: 'loss', system: record.system, nodes: 4, param: 10 });
      // 4 members probing once a second (with acks, gossip and push/pulls) send well over one packet per member per second.
      expect(row.packetsPerNodeS).toBeGreaterThan(1);
      expect(row.detectionFirstS).toBeGreaterThan(0);
      expect(row.detectionAllS).toBeGreaterThanOrEqual(row.detectionFirstS!);
      expect(row.detectionAllS).toBeLessThan(15);
      expect(row.falseFailures).toBeGreaterThanOrEqual(0);
    }
    rows.push(simulateScenario(loss, 1));
  }, 120_000);

  it('a 2 s SIGSTOP is not declared failed by either system', async () => {
    const pause = specs.find((spec) => spec.scenario === 'pause')!;
    const records = await bothSystems(pause);
    for (const record of records) {
      const row = labFigures(record);
      rows.push(row);
      expect(record.paused.get(record.timeline.paused!)![0]!.toMs).toBeGreaterThan(1900);
      expect(row.pausedDeclared).toBe(0);
    }
    rows.push(simulateScenario(pause, 1));
  }, 120_000);

  it('writes the report from these rows', async () => {
    const out = await mkdtemp(join(tmpdir(), 'hearsay-chaos-report-'));
    try {
      await writeReport(out, rows, { command: 'vitest (smoke run)', startedAt: new Date().toISOString(), durationMs: 1, machine: {} });
      const readme = await readFile(join(out, 'README.md'), 'utf8');
      expect(readme).toContain('loss 10%');
      expect(readme).toContain('pause 2s');
      expect((await readFile(join(out, 'results.csv'), 'utf8')).trim().split('\n')).toHaveLength(1 + rows.length);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
