/**
 * The two systems the bench compares, behind one interface: how to start an agent joining
 * through a seed, read its member list, and make it leave gracefully. Both run their LAN
 * defaults on 127.0.0.1 with ports probed free.
 */
import { createRequire } from 'node:module';
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cliPath, fetchMembers } from 'hearsay-agent/scripting';
import { BenchFailure, freePort, LOOPBACK, spawnAgent, type AgentProcess } from './bench-processes.js';
import type { SentCounts } from './proc-stats.js';

export type SystemName = 'hearsay' | 'serf';

export interface MemberStatus {
  readonly name: string;
  readonly status: string;
}

export interface BenchAgent {
  readonly name: string;
  /** host:port of its gossip socket, what others join through. */
  readonly gossip: string;
  /** The port of its control API on 127.0.0.1: HTTP for hearsay, RPC for Serf. */
  readonly controlPort: number;
  readonly process: AgentProcess;
}

export interface BenchSystem {
  readonly name: SystemName;
  readonly version: string;
  /** The signal on which an agent leaves gracefully, so that peers list it `left`. */
  readonly leaveSignal: NodeJS.Signals;
  /** Spawns an agent; it may not answer yet. */
  start(name: string, seed: string | undefined, logDir: string): Promise<BenchAgent>;
  members(agent: BenchAgent): Promise<MemberStatus[]>;
  /** The UDP traffic the agent has sent by its own count, when it keeps one (Serf does not). */
  sentCounters?(agent: BenchAgent): Promise<SentCounts>;
}

const REQUEST_TIMEOUT_MS = 5_000;

/** The version of the hearsay library installed beside the benchmarks. */
export function hearsayVersion(): string {
  return (createRequire(import.meta.url)('hearsay/package.json') as { version: string }).version;
}

export function hearsaySystem(): BenchSystem {
  const base = (agent: BenchAgent): string => `http://${LOOPBACK}:${agent.controlPort}`;
  return {
    name: 'hearsay',
    version: `${hearsayVersion()} (Node ${process.version})`,
    leaveSignal: 'SIGTERM',
    async start(name, seed, logDir) {
      const gossip = `${LOOPBACK}:${await freePort()}`;
      const controlPort = await freePort();
      const http = `${LOOPBACK}:${controlPort}`;
      const args = [cliPath(), 'agent', '--name', name, '--bind', gossip, '--http', http, ...(seed === undefined ? [] : ['--join', seed])];
      return { name, gossip, controlPort, process: spawnAgent(process.execPath, args, join(logDir, `${name}.log`)) };
    },
    members: (agent) => fetchMembers(base(agent), REQUEST_TIMEOUT_MS),
    async sentCounters(agent) {
      const response = await fetch(`${base(agent)}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const text = await response.text();
      const counter = (metric: string): number => {
        if (!text.includes(`# TYPE ${metric} counter`)) throw new BenchFailure(`${agent.name}: no ${metric} in GET /metrics`);
        // prom-client prints a labelled series only once it has grown.
        const match = new RegExp(`^${metric}\\{direction="out"\\} (\\S+)$`, 'm').exec(text);
        return match === null ? 0 : Number(match[1]);
      };
      return { bytes: counter('hearsay_bytes_total'), packets: counter('hearsay_packets_total') };
    },
  };
}

/** `serf version` says 0.8.2-dev whatever the release; Debian's package version says which it is. */
function serfVersion(): string {
  const version = spawnSync('serf', ['version'], { encoding: 'utf8' });
  if (version.error !== undefined || version.status !== 0) throw new BenchFailure('`serf version` failed: is Serf installed (Debian: apt-get install serf)?');
  const reported = version.stdout.split('\n')[0]!.trim();
  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${Version} is dpkg-query's field syntax, not a JavaScript template
  const debian = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'serf'], { encoding: 'utf8' });
  return debian.status === 0 && debian.stdout !== '' ? `${reported} (Debian ${debian.stdout})` : reported;
}

/** `serf members` of the agent whose RPC listens on `rpcPort`. */
export function serfMembers(rpcPort: number): Promise<MemberStatus[]> {
  const rpc = `${LOOPBACK}:${rpcPort}`;
  return new Promise((resolve, reject) => {
    execFile('serf', ['members', '-format', 'json', `-rpc-addr=${rpc}`], { timeout: REQUEST_TIMEOUT_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error !== null) return reject(new Error(`serf members -rpc-addr=${rpc}: ${stderr.trim() || error.message}`));
      try {
        resolve((JSON.parse(stdout) as { members: MemberStatus[] }).members);
      } catch {
        reject(new Error(`serf members -rpc-addr=${rpc} printed something that is not JSON: ${stdout.slice(0, 200)}`));
      }
    });
  });
}

export function serfSystem(): BenchSystem {
  return {
    name: 'serf',
    version: serfVersion(),
    // SIGTERM is "shutdown without a leave" in Serf: peers would list the agent failed.
    leaveSignal: 'SIGINT',
    async start(name, seed, logDir) {
      const gossip = `${LOOPBACK}:${await freePort()}`;
      const controlPort = await freePort();
      const rpc = `${LOOPBACK}:${controlPort}`;
      const args = ['agent', '-node', name, '-bind', gossip, '-rpc-addr', rpc, ...(seed === undefined ? [] : ['-join', seed])];
      return { name, gossip, controlPort, process: spawnAgent('serf', args, join(logDir, `${name}.log`)) };
    },
    members: (agent) => serfMembers(agent.controlPort),
  };
}
