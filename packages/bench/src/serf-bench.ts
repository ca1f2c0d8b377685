/**
 * `npm run bench:serf`: hearsay against Debian's Serf agent, measured in one run on this
 * machine, printed as ratios. For the same N (`--nodes`, default 10) each system runs N agents
 * as separate processes on 127.0.0.1 with its LAN defaults, one cluster after the other so that
 * they do not compete for CPU: join convergence, memory, CPU and traffic over a steady window
 * (`--window`, default 30 s, opening `--settle` after the joiners were spawned, default one
 * push/pull interval), failure detection after a SIGKILL, and a graceful leave.
 * `--json` prints one JSON object instead of the table.
 *
 * Serf counts no bytes, so traffic is counted where both systems can be measured alike: the
 * bench runs itself in a network namespace of its own (`unshare --user --net`), whose loopback
 * interface then carries nothing but the cluster under test. Where that is not allowed, the
 * traffic rows fall back to hearsay's own counters and Serf's are left empty.
 */
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism, constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { parseDuration } from 'hearsay-agent/scripting';
import { PROFILES, pushPullScale } from 'hearsay/core';
import { fmt } from 'hearsay-experiments/table';
import { BenchFailure, diesWithParent, installCleanup } from './bench-processes.js';
import { hearsaySystem, serfSystem, type SystemName } from './bench-systems.js';
import { MEMBER_POLL_MS, measureCluster, type ClusterMeasurement } from './measure-cluster.js';

/** Set in the environment of the bench re-run inside its own network namespace. */
const PRIVATE_NETWORK_ENV = 'HEARSAY_BENCH_PRIVATE_NETWORK';
const UNSHARE_ARGS = ['--user', '--map-root-user', '--net', '--'];

interface Options {
  readonly nodes: number;
  readonly settleMs: number;
  readonly windowMs: number;
  readonly json: boolean;
}

/**
 * memberlist's first push/pull comes a random stagger plus one full interval after start,
 * hearsay's after the stagger alone; a window opening one interval after the joiners started
 * holds one push/pull per agent from both (30 s on LAN up to 32 nodes). Before that it would
 * hold hearsay's and few of Serf's.
 */
const defaultSettleMs = (nodes: number): number => PROFILES.lan.pushPullIntervalMs * pushPullScale(nodes);

function parseOptions(): Options {
  const usage = 'usage: serf-bench [--nodes N ≥ 3] [--settle DURATION] [--window DURATION ≥ 1s, like 30s] [--json]';
  try {
    const { values } = parseArgs({
      options: {
        nodes: { type: 'string', default: '10' },
        settle: { type: 'string' },
        window: { type: 'string', default: '30s' },
        json: { type: 'boolean', default: false },
      },
    });
    const nodes = Number(values.nodes);
    const windowMs = parseDuration(values.window);
    // Three at least: a seed, one agent to kill and one to leave.
    if (Number.isInteger(nodes) && nodes >= 3 && windowMs >= 1000) {
      const settleMs = values.settle === undefined ? defaultSettleMs(nodes) : parseDuration(values.settle);
      return { nodes, settleMs, windowMs, json: values.json };
    }
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
  }
  process.stderr.write(`${usage}\n`);
  process.exit(2);
}

/** Whether this machine lets an unprivileged process have a network namespace with lo up. */
function canUnshareNetwork(): boolean {
  return spawnSync('unshare', [...UNSHARE_ARGS, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' }).status === 0;
}

/** Runs this script again inside a network namespace of its own, passing its exit on. */
function rerunInPrivateNetwork(): void {
  const [command, args] = diesWithParent(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)]);
  const child = spawn('unshare', [...UNSHARE_ARGS, 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', command, ...args], {
    stdio: 'inherit',
    env: { ...process.env, [PRIVATE_NETWORK_ENV]: '1' },
  });
  // The re-run cleans up its agents on these signals; wait for it to finish doing so.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal === null ? 0 : constants.signals[signal])));
}

interface MetricRow {
  readonly key: string;
  readonly label: string;
  readonly unit: string;
  readonly value: (m: ClusterMeasurement) => number | null;
}

function metricRows(privateLoopback: boolean): MetricRow[] {
  const traffic = (m: ClusterMeasurement) => (privateLoopback ? m.loopback : m.ownCounters);
  const sent = privateLoopback ? 'sent on loopback per agent' : 'UDP payload sent per agent (own counter)';
  return [
    { key: 'startup_s', label: 'first agent: spawn → control port open', unit: 's', value: (m) => m.startupS },
    { key: 'joiners_listening_s', label: 'join: N−1 spawned → all ports open', unit: 's', value: (m) => m.joinersListeningS },
    { key: 'join_convergence_s', label: 'join: N−1 spawned → all list N alive', unit: 's', value: (m) => m.joinConvergenceS },
    { key: 'rss_mib', label: 'resident memory per agent', unit: 'MiB', value: (m) => m.residentMiB },
    { key: 'cpu_percent', label: 'CPU per agent', unit: '% of a core', value: (m) => m.cpuPercent },
    { key: 'sent_bytes_per_s', label: sent, unit: 'B/s', value: (m) => traffic(m)?.bytesPerS ?? null },
    { key: 'sent_packets_per_s', label: sent, unit: 'packets/s', value: (m) => traffic(m)?.packetsPerS ?? null },
    { key: 'failure_detection_s', label: 'SIGKILL → all others list it failed', unit: 's', value: (m) => m.failureDetectionS },
    { key: 'leave_propagation_s', label: 'leave → all others list it left', unit: 's', value: (m) => m.leavePropagationS },
  ];
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (process.env[PRIVATE_NETWORK_ENV] === undefined && canUnshareNetwork()) return rerunInPrivateNetwork();
  const privateLoopback = process.env[PRIVATE_NETWORK_ENV] !== undefined;
  installCleanup();

  const systems = [hearsaySystem(), serfSystem()];
  const results = {} as Record<SystemName, ClusterMeasurement>;
  for (const system of systems) {
    process.stderr.write(`${system.name} ${system.version}: ${options.nodes} agents\n`);
    results[system.name] = await measureCluster(system, { ...options, privateLoopback });
  }

  const rows = metricRows(privateLoopback).map((row) => {
    const hearsay = row.value(results.hearsay);
    const serf = row.value(results.serf);
    return { ...row, hearsay, serf, ratio: hearsay === null || serf === null || serf === 0 ? null : hearsay / serf };
  });
  const trafficCounted = privateLoopback
    ? 'everything sent on the loopback interface of a network namespace holding only the cluster: ' +
      "UDP gossip and TCP push/pull, IP/UDP/TCP headers and lo's 14-byte link header included"
    : "no network namespace of our own (unshare --user --net failed), so lo is shared: hearsay's own UDP payload counters; " + 'Serf counts no bytes';
  const parameters = {
    nodes: options.nodes,
    settle_s: options.settleMs / 1000,
    window_s: options.windowMs / 1000,
    hearsay_version: systems[0]!.version,
    serf_version: systems[1]!.version,
    cpus: availableParallelism(),
    private_network: privateLoopback,
    traffic_counted: trafficCounted,
  };
  const hearsayCounters = results.hearsay.ownCounters!;

  if (options.json) {
    const metrics = Object.fromEntries(rows.map(({ key, label, unit, hearsay, serf, ratio }) => [key, { label, unit, hearsay, serf, ratio }]));
    const report = {
      parameters,
      metrics,
      hearsay_udp_counters: { bytes_per_s: hearsayCounters.bytesPerS, packets_per_s: hearsayCounters.packetsPerS },
      pids: { hearsay: results.hearsay.pids, serf: results.serf.pids },
      temp_dirs: [results.hearsay.logDir, results.serf.logDir],
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }

  const table = new Table({
    head: ['metric', 'unit', 'hearsay', 'serf', 'hearsay / serf'],
    style: { head: [], border: [] },
    colAligns: ['left', 'left', 'right', 'right', 'right'],
  });
  for (const row of rows) table.push([row.label, row.unit, fmt(row.hearsay), fmt(row.serf), row.ratio === null ? '—' : `${fmt(row.ratio)}×`]);
  process.stdout.write(
    [
      `hearsay vs Serf: ${options.nodes} agents each, separate processes on 127.0.0.1, LAN defaults, one cluster after the other`,
      `hearsay ${parameters.hearsay_version}; serf ${parameters.serf_version}; ${parameters.cpus} CPUs`,
      `steady window: ${parameters.window_s} s, from ${parameters.settle_s} s after the joiners were spawned`,
      table.toString(),
      `Traffic: ${trafficCounted}.`,
      ...(privateLoopback
        ? [`hearsay's own counters: ${fmt(hearsayCounters.bytesPerS)} B/s of UDP payload in ${fmt(hearsayCounters.packetsPerS)} packets/s per agent.`]
        : []),
      `Times run to the first poll that saw the change: ports every 10 ms, member lists every ${MEMBER_POLL_MS} ms.`,
      'Memory, CPU and traffic are means over the agents during the window; above 1× hearsay takes longer or uses more.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  if (!(error instanceof BenchFailure)) throw error;
  process.stderr.write(`serf-bench: ${error.message}\n`);
  process.exit(1);
});
