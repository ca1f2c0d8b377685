/**
 * `npm run bench:attack`: the attacks of issue 11 against a 3-agent hearsay cluster and, in the
 * same run, a 3-agent cluster of Debian's Serf (where an attack applies to Serf), and with
 * `--before DIR` a cluster of hearsay agents built from DIR (the code before the fixes). Each
 * attack hits the first agent of each cluster in turn, bounded in count and time; for each the
 * bench reports the amplification (UDP answers counted where they arrive), the victim's peak RSS
 * (VmHWM, reset before the attack), its RSS `--settle` after a memory attack (default 10 s), what
 * the attack achieved, and whether the victim recovered (a victim that stopped is restarted, a
 * cluster left broken is started afresh, so that each attack meets a healthy one).
 *
 * Markdown on stdout (`--json` for JSON); progress on stderr. Every agent is killed by its PID at
 * the end, on failure and on Ctrl-C.
 *
 *   npm run bench:attack -- [--before DIR] [--attacks key,…] [--small] [--settle 10s] [--no-serf] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from 'hearsay-agent/scripting';
import { fmt, markdownTable } from 'hearsay-experiments/table';
import { ATTACKS, FULL_SCALE, SMALL_SCALE, type Attack, type AttackOutcome, type AttackScale } from './attacks.js';
import { AttackCluster, hearsayAttackSystem, serfAttackSystem, type AttackSystem, type AttackSystemName } from './attack-systems.js';
import { BenchFailure, installCleanup, makeTempDir, removeTempDir, sleep } from './bench-processes.js';
import { hearsayVersion, serfSystem } from './bench-systems.js';
import { peakResidentBytes, residentBytes, resetPeakResident } from './proc-stats.js';

interface Options {
  readonly before: string | undefined;
  readonly attacks: readonly Attack[];
  readonly scale: AttackScale;
  readonly settleMs: number;
  readonly serf: boolean;
  readonly json: boolean;
}

const CLUSTER_SIZE = 3;
/** A safety net: every attack bounds itself well below this. */
const ATTACK_TIMEOUT_MS = 120_000;
const MiB = 2 ** 20;

function parseOptions(): Options {
  const keys = ATTACKS.map((attack) => attack.key).join(',');
  const usage = `usage: attack-bench [--before DIR] [--attacks ${keys}] [--small] [--settle DURATION] [--no-serf] [--json]`;
  try {
    const { values } = parseArgs({
      options: {
        before: { type: 'string' },
        attacks: { type: 'string' },
        small: { type: 'boolean', default: false },
        settle: { type: 'string', default: '10s' },
        'no-serf': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    const chosen = values.attacks?.split(',').map((key) => key.trim());
    const unknown = chosen?.filter((key) => !ATTACKS.some((attack) => attack.key === key)) ?? [];
    if (unknown.length > 0) throw new Error(`unknown attack(s): ${unknown.join(', ')}`);
    const before = values.before === undefined ? undefined : resolve(values.before);
    if (before !== undefined && !existsSync(join(before, 'dist', 'cli', 'main.js'))) {
      throw new Error(`${before} has no dist/cli/main.js: build it first (cd ${before} && npx tsc -p tsconfig.json)`);
    }
    return {
      before,
      attacks: chosen === undefined ? ATTACKS : ATTACKS.filter((attack) => chosen.includes(attack.key)),
      scale: values.small ? SMALL_SCALE : FULL_SCALE,
      settleMs: parseDuration(values.settle),
      serf: !values['no-serf'],
      json: values.json,
    };
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
    process.exit(2);
  }
}

interface AttackResult extends AttackOutcome {
  readonly attack: string;
  readonly system: AttackSystemName;
  readonly rssBeforeMiB: number | null;
  peakRssMiB: number | null;
  /** `--settle` after a memory attack; null for other attacks or a victim that stopped. */
  rssAfterMiB: number | null;
  readonly recovery: string;
  readonly seconds: number;
}

const progress = (text: string): void => void process.stderr.write(`  ${text}\n`);

function rssMiB(pid: number): number | null {
  try {
    return residentBytes(pid) / MiB;
  } catch {
    return null; // the process has exited
  }
}

/** Whether the victim came through: restarted if it stopped or wedged; `healthy` false asks for a fresh cluster. */
async function recover(cluster: AttackCluster): Promise<{ text: string; healthy: boolean }> {
  const victim = cluster.victim;
  if (victim.process.hasExited() || !(await cluster.system.answers(victim, 3_000))) {
    const why = victim.process.hasExited() ? 'DOWN: the victim stopped' : 'WEDGED: the victim does not answer';
    await cluster.restart(victim);
    const back = await cluster.seesAllAlive(victim, 15_000);
    return { text: `${why} (restarted by the bench)`, healthy: back };
  }
  if (await cluster.seesAllAlive(victim, 10_000)) return { text: `up, lists all ${cluster.agents.length} alive`, healthy: true };
  const members = await cluster.system.members(victim).catch(() => []);
  const alive = cluster.agents.filter((agent) => members.some((m) => m.name === agent.name && m.status === 'alive')).length;
  return { text: `up, but lists ${alive}/${cluster.agents.length} of the cluster alive after 10 s`, healthy: false };
}

async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One attack on one cluster. What it left in memory is sampled `settleMs` later, by the returned
 * promise, while the other systems are attacked; a victim then holding more than twice its memory
 * at start is restarted, so that the next attack measures it afresh.
 */
async function runAttack(
  attack: Attack,
  cluster: AttackCluster,
  options: Options,
): Promise<{ result: AttackResult; settled: Promise<void>; healthy: boolean }> {
  const victim = cluster.victim;
  const pid = victim.process.pid;
  const peakResets = resetPeakResident(pid);
  const rssBeforeMiB = rssMiB(pid);
  // Sampled as well, for a kernel that refuses the reset (and for a victim that dies: VmHWM goes with it).
  let sampledPeak = rssBeforeMiB ?? 0;
  const sample = () => (sampledPeak = Math.max(sampledPeak, rssMiB(pid) ?? 0));
  const sampler = setInterval(sample, 100);
  const sameProcess = () => victim.process.pid === pid && !victim.process.hasExited();
  const peak = () => (peakResets && sameProcess() ? Math.max(sampledPeak, peakResidentBytes(pid) / MiB) : sampledPeak);
  const started = performance.now();
  let outcome: AttackOutcome;
  try {
    outcome = await withDeadline(attack.run({ cluster, scale: options.scale }), ATTACK_TIMEOUT_MS, attack.key);
  } catch (error) {
    outcome = { outcome: `the attack failed: ${(error as Error).message.split('\n')[0]}` };
  }
  const ended = performance.now();
  if (!attack.memory) clearInterval(sampler);
  const recovery = await recover(cluster);
  const result: AttackResult = {
    attack: attack.key,
    system: cluster.system.name,
    ...outcome,
    rssBeforeMiB,
    peakRssMiB: peak(),
    rssAfterMiB: null,
    recovery: recovery.text,
    seconds: (ended - started) / 1000,
  };
  progress(`${cluster.system.name} ${attack.key}: ${outcome.outcome}; ${recovery.text}`);
  if (!attack.memory) return { result, settled: Promise.resolve(), healthy: recovery.healthy };
  const settled = (async () => {
    await sleep(Math.max(0, ended + options.settleMs - performance.now()));
    clearInterval(sampler);
    if (victim.process.pid !== pid) return; // restarted: what the attack left went with it
    // A memory attack may keep the victim growing after the last byte: its peak runs to here.
    result.peakRssMiB = peak();
    result.rssAfterMiB = rssMiB(pid);
    if (result.rssAfterMiB !== null && result.rssAfterMiB > 2 * cluster.victimStartMiB) {
      await cluster.restart(victim);
      await cluster.seesAllAlive(victim, 15_000);
      progress(`${cluster.system.name}: victim restarted to shed the ${fmt(result.rssAfterMiB)} MiB ${attack.key} left`);
    }
  })();
  return { result, settled, healthy: recovery.healthy };
}

function versionOf(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');
const times = (value: number | null | undefined): string => (value === null || value === undefined ? '—' : `×${fmt(value)}`);
const mib = (value: number | null | undefined): string => (value === null || value === undefined ? '—' : `${fmt(value)} MiB`);
const ratio = (a: number | null | undefined, b: number | null | undefined): string =>
  a === null || a === undefined || b === null || b === undefined || b === 0 ? '—' : fmt(a / b);

function markdown(options: Options, systems: readonly AttackSystem[], results: readonly AttackResult[], header: string[]): string {
  const names = systems.map((system) => system.name);
  const labels: Record<AttackSystemName, string> = { hearsay: 'hearsay', 'hearsay-before': 'hearsay before', serf: 'serf' };
  const ratios: [AttackSystemName, AttackSystemName, string][] = [
    ['hearsay', 'serf', 'hearsay / serf'],
    ['hearsay', 'hearsay-before', 'hearsay / before'],
  ];
  const shownRatios = ratios.filter(([, b]) => names.includes(b));
  const rows: string[][] = [];
  for (const attack of options.attacks) {
    const of = (name: AttackSystemName) => results.find((r) => r.attack === attack.key && r.system === name);
    const line = (measure: string, show: (r: AttackResult) => string, value?: (r: AttackResult) => number | null | undefined) => {
      const cells = names.map((name) => {
        const result = of(name);
        return result === undefined ? 'n/a' : cell(show(result));
      });
      const measured = (name: AttackSystemName) => {
        const result = of(name);
        return result === undefined || value === undefined ? null : value(result);
      };
      const ratioCells = shownRatios.map(([a, b]) => (value === undefined ? '' : ratio(measured(a), measured(b))));
      rows.push(['', measure, ...cells, ...ratioCells]);
    };
    const first = rows.length;
    if (results.some((r) => r.attack === attack.key && r.amplification !== undefined)) {
      line(
        'amplification',
        (r) => times(r.amplification),
        (r) => r.amplification,
      );
    }
    if (attack.memory)
      line(
        'RSS before',
        (r) => mib(r.rssBeforeMiB),
        (r) => r.rssBeforeMiB,
      );
    line(
      'peak RSS',
      (r) => mib(r.peakRssMiB),
      (r) => r.peakRssMiB,
    );
    if (attack.memory)
      line(
        `RSS ${options.settleMs / 1000} s after`,
        (r) => mib(r.rssAfterMiB),
        (r) => r.rssAfterMiB,
      );
    line('outcome', (r) => r.outcome);
    line('recovery', (r) => r.recovery);
    rows[first]![0] = cell(attack.title);
  }
  const table = markdownTable(['attack', 'measure', ...names.map((name) => labels[name]), ...shownRatios.map(([, , label]) => label)], rows);
  return [...header, '', table, ''].join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions();
  installCleanup();
  const serfInstalled = spawnSync('serf', ['version'], { stdio: 'ignore' }).status === 0;
  const systems: AttackSystem[] = [hearsayAttackSystem()];
  if (options.before !== undefined) systems.push(hearsayAttackSystem(options.before));
  if (options.serf && serfInstalled) systems.push(serfAttackSystem());
  const versions: Record<string, string> = { hearsay: `${hearsayVersion()} (Node ${process.version})` };
  if (options.before !== undefined) versions['hearsay-before'] = `${versionOf(options.before)} from ${options.before}`;
  if (systems.some((system) => system.kind === 'serf')) versions.serf = serfSystem().version;

  const logDir = makeTempDir('hearsay-attack-');
  const clusters = new Map<AttackSystemName, AttackCluster>();
  const pids = new Map<AttackSystemName, Set<number>>();
  const remember = (cluster: AttackCluster) => {
    const set = pids.get(cluster.system.name) ?? new Set<number>();
    for (const agent of cluster.agents) set.add(agent.process.pid);
    pids.set(cluster.system.name, set);
  };
  let fresh = 0;
  const startCluster = async (system: AttackSystem): Promise<AttackCluster> => {
    const dir = join(logDir, `${system.name}-${++fresh}`);
    mkdirSync(dir, { recursive: true });
    const cluster = await AttackCluster.start(system, CLUSTER_SIZE, dir);
    clusters.set(system.name, cluster);
    remember(cluster);
    progress(`${system.name}: ${CLUSTER_SIZE} agents up, all alive`);
    return cluster;
  };
  const results: AttackResult[] = [];
  const startedAt = performance.now();
  try {
    await Promise.all(systems.map(startCluster));
    const pending = new Map<AttackSystemName, Promise<void>>();
    const broken = new Set<AttackSystemName>();
    const attackOne = async (attack: Attack, system: AttackSystem): Promise<void> => {
      await pending.get(system.name);
      let cluster = clusters.get(system.name)!;
      if (broken.delete(system.name)) {
        await cluster.stop();
        cluster = await startCluster(system);
      }
      const { result, settled, healthy } = await runAttack(attack, cluster, options);
      remember(cluster);
      results.push(result);
      pending.set(
        system.name,
        settled.then(() => remember(cluster)),
      );
      if (!healthy) broken.add(system.name);
    };
    for (const attack of options.attacks) {
      process.stderr.write(`${attack.key}: ${attack.title}\n`);
      const targets = systems.filter((system) => !(attack.hearsayOnly && system.kind === 'serf'));
      if (attack.alone) {
        for (const system of targets) await attackOne(attack, system);
      } else {
        await Promise.all(targets.map((system) => attackOne(attack, system)));
      }
    }
    await Promise.all(pending.values());
  } finally {
    await Promise.all([...clusters.values()].map((cluster) => cluster.stop()));
    removeTempDir(logDir);
  }

  const parameters = {
    cluster_size: CLUSTER_SIZE,
    scale: options.scale === SMALL_SCALE ? 'small' : 'full',
    settle_s: options.settleMs / 1000,
    versions,
    serf_installed: serfInstalled,
    cpus: availableParallelism(),
    seconds: (performance.now() - startedAt) / 1000,
  };
  if (options.json) {
    const report = {
      parameters,
      results: results.map((r) => ({
        attack: r.attack,
        system: r.system,
        amplification: r.amplification ?? null,
        rss_before_mib: r.rssBeforeMiB,
        peak_rss_mib: r.peakRssMiB,
        rss_after_mib: r.rssAfterMiB,
        outcome: r.outcome,
        recovery: r.recovery,
        figures: r.figures ?? {},
        seconds: r.seconds,
      })),
      pids: Object.fromEntries([...pids].map(([name, set]) => [name, [...set]])),
      temp_dir: logDir,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const header = [
    '## hearsay under attack (`npm run bench:attack`)',
    '',
    `${CLUSTER_SIZE} agents per system on 127.0.0.1, no encryption, LAN defaults. Every attack hits the first agent of each cluster:`,
    'one system at a time for those that load the victim, all at once for a forged message and its checks.',
    `Versions: ${Object.entries(versions)
      .map(([name, version]) => `${name} ${version}`)
      .join('; ')}. ${parameters.cpus} CPUs; ${fmt(parameters.seconds)} s in all.`,
    'Amplification: bytes of the answers (or reflected pings) that arrived on the attacker’s (or the third address’s) UDP socket over the bytes sent.',
    `Peak RSS: the victim’s VmHWM from the start of the attack (reset then) to its end, or for a memory attack to ${parameters.settle_s} s after it, when its RSS is read again.`,
    'A victim that stopped or wedged is restarted, one left holding over twice its starting memory too, and a cluster left broken is started afresh: each attack meets a healthy victim.',
    ...(serfInstalled || !options.serf ? [] : ['Serf is not installed (Debian: apt-get install serf): its column is missing.']),
  ];
  process.stdout.write(markdown(options, systems, results, header));
}

main().catch((error: unknown) => {
  if (!(error instanceof BenchFailure)) throw error;
  process.stderr.write(`attack-bench: ${error.message}\n`);
  process.exit(1);
});
