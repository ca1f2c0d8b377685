/**
 * One system's run: start N agents, time the join, watch a steady window, kill one agent and
 * time its detection, make another leave and time the news. Every wait has a deadline and
 * fails naming the agent that did not get there, with its view and its log.
 */
import net from 'node:net';
import { logTail } from 'hearsay-agent/scripting';
import { BenchFailure, killAgent, LOOPBACK, makeTempDir, removeTempDir, signalAgent, sleep } from './bench-processes.js';
import type { BenchAgent, BenchSystem, MemberStatus } from './bench-systems.js';
import { cpuSecondsBetween, cpuSnapshot, loopbackSent, residentBytes, type SentCounts } from './proc-stats.js';

export interface MeasureOptions {
  readonly nodes: number;
  /** From spawning the joiners to the start of the steady window (at least until they converged). */
  readonly settleMs: number;
  readonly windowMs: number;
  /** Whether this process has a network namespace of its own, so lo carries only the cluster. */
  readonly privateLoopback: boolean;
}

/** Per agent and per second, averaged over the agents. */
export interface TrafficRate {
  readonly bytesPerS: number;
  readonly packetsPerS: number;
}

export interface ClusterMeasurement {
  /** The first agent, from spawn until its control port (HTTP or RPC) accepts connections. */
  readonly startupS: number;
  /** From spawning the N − 1 others at once until all their control ports accept: startup under load. */
  readonly joinersListeningS: number;
  /** From spawning the N − 1 others at once (joining through the first) until all list all N alive. */
  readonly joinConvergenceS: number;
  readonly residentMiB: number;
  /** CPU time per agent per second of the window, as a percentage of one core. */
  readonly cpuPercent: number;
  /** Sent on the private loopback interface, all protocols and headers; null without one. */
  readonly loopback: TrafficRate | null;
  /** UDP sent by the agents' own count; null for a system without counters. */
  readonly ownCounters: TrafficRate | null;
  readonly failureDetectionS: number;
  readonly leavePropagationS: number;
  /** Every agent process started and the temp dir of their logs, for checking that none is left. */
  readonly pids: number[];
  readonly logDir: string;
}

export const MEMBER_POLL_MS = 200;
const STARTUP_TIMEOUT_MS = 15_000;
const JOIN_TIMEOUT_MS = 30_000;
/** Lifeguard's longest suspicion is 6 × 4 × max(1, log10 N) probe intervals: 24 s at N = 10. */
const FAILURE_TIMEOUT_MS = 60_000;
const LEAVE_TIMEOUT_MS = 30_000;
const RSS_SAMPLE_MS = 1_000;

const progress = (text: string): void => void process.stderr.write(`  ${text}\n`);

export async function measureCluster(system: BenchSystem, options: MeasureOptions): Promise<ClusterMeasurement> {
  const { nodes } = options;
  const logDir = makeTempDir(`hearsay-bench-${system.name}-`);
  const agents: BenchAgent[] = [];
  try {
    const startAt = performance.now();
    const seed = await system.start(`${system.name}-0`, undefined, logDir);
    agents.push(seed);
    const startupS = (await waitUntilListening(system, [seed], startAt)) / 1000;
    progress(`${system.name}: first agent listening after ${startupS.toFixed(2)} s`);

    const joinAt = performance.now();
    for (let i = 1; i < nodes; i++) agents.push(await system.start(`${system.name}-${i}`, seed.gossip, logDir));
    const joinersListeningS = (await waitUntilListening(system, agents.slice(1), joinAt)) / 1000;
    progress(`${system.name}: ${nodes - 1} more agents listening after ${joinersListeningS.toFixed(2)} s`);
    // Polling from here on loses nothing: no list holds all N alive before the last agent runs.
    const names = agents.map((agent) => agent.name);
    const allAlive = (members: MemberStatus[]) => names.every((name) => statusOf(members, name) === 'alive');
    const joinConvergenceS = (await waitForAll(system, agents, allAlive, joinAt, JOIN_TIMEOUT_MS, `all ${nodes} alive`)) / 1000;
    progress(`${system.name}: all list all ${nodes} alive after ${joinConvergenceS.toFixed(2)} s`);

    await sleep(Math.max(0, joinAt + options.settleMs - performance.now()));
    progress(`${system.name}: steady window of ${options.windowMs / 1000} s`);
    const steady = await steadyWindow(system, agents, options);

    const victim = agents.at(-1)!;
    const survivors = agents.filter((agent) => agent !== victim);
    const killedAt = performance.now();
    await killAgent(victim.process);
    const failed = (members: MemberStatus[]) => statusOf(members, victim.name) === 'failed';
    const failureDetectionS = (await waitForAll(system, survivors, failed, killedAt, FAILURE_TIMEOUT_MS, `${victim.name} failed`)) / 1000;
    progress(`${system.name}: SIGKILLed ${victim.name} listed failed everywhere after ${failureDetectionS.toFixed(2)} s`);

    const leaver = agents.at(-2)!;
    const stayers = survivors.filter((agent) => agent !== leaver);
    const leftAt = performance.now();
    // Not waited for: once the others list it left, the teardown below may SIGKILL it.
    signalAgent(leaver.process, system.leaveSignal);
    const left = (members: MemberStatus[]) => statusOf(members, leaver.name) === 'left';
    const leavePropagationS = (await waitForAll(system, stayers, left, leftAt, LEAVE_TIMEOUT_MS, `${leaver.name} left`)) / 1000;
    progress(`${system.name}: ${leaver.name} (${system.leaveSignal}) listed left everywhere after ${leavePropagationS.toFixed(2)} s`);

    const pids = agents.map((agent) => agent.process.pid);
    return { startupS, joinersListeningS, joinConvergenceS, ...steady, failureDetectionS, leavePropagationS, pids, logDir };
  } finally {
    await Promise.all(agents.map((agent) => killAgent(agent.process)));
    removeTempDir(logDir);
  }
}

/**
 * Tries to connect to each agent's control port every 10 ms; when the last one first accepted,
 * in ms after `since`. The same probe for both systems, and far cheaper than a Serf CLI call.
 */
async function waitUntilListening(system: BenchSystem, agents: readonly BenchAgent[], since: number): Promise<number> {
  const accepts = (agent: BenchAgent): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = net.connect({ host: LOOPBACK, port: agent.controlPort }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  const listening = async (agent: BenchAgent): Promise<number> => {
    while (!(await accepts(agent))) {
      if (agent.process.hasExited() || performance.now() - since > STARTUP_TIMEOUT_MS) {
        const why = agent.process.hasExited() ? 'exited' : `did not listen on port ${agent.controlPort} within ${STARTUP_TIMEOUT_MS / 1000} s`;
        throw new BenchFailure(`${system.name}: ${agent.name} ${why}\n${logTail(agent.process.logPath)}`);
      }
      await sleep(10);
    }
    return performance.now() - since;
  };
  return Math.max(...(await Promise.all(agents.map(listening))));
}

function statusOf(members: readonly MemberStatus[], name: string): string | undefined {
  return members.find((member) => member.name === name)?.status;
}

/**
 * Polls each observer every MEMBER_POLL_MS until `holds` is true of its member list, and
 * returns when the last one got there, in ms after `since`. A poll counts from when it was
 * sent: a Serf poll starts a process, which should not be charged to Serf.
 */
async function waitForAll(
  system: BenchSystem,
  observers: readonly BenchAgent[],
  holds: (members: MemberStatus[]) => boolean,
  since: number,
  timeoutMs: number,
  what: string,
): Promise<number> {
  let finished = false;
  const watch = async (agent: BenchAgent): Promise<number> => {
    let lastView = 'no answer yet';
    while (!finished) {
      const askedAt = performance.now();
      if (agent.process.hasExited()) {
        throw new BenchFailure(`${system.name}: ${agent.name} exited while waiting for ${what}\n${logTail(agent.process.logPath)}`);
      }
      if (askedAt - since > timeoutMs) {
        throw new BenchFailure(
          `${system.name}: ${agent.name} did not see ${what} within ${timeoutMs / 1000} s; its last view: ${lastView}\n${logTail(agent.process.logPath)}`,
        );
      }
      try {
        const members = await system.members(agent);
        if (holds(members)) return askedAt - since;
        lastView = members.map((member) => `${member.name} ${member.status}`).join(', ') || '(no members)';
      } catch (error) {
        lastView = (error as Error).message;
      }
      await sleep(MEMBER_POLL_MS);
    }
    return NaN; // another observer failed; its error is the one reported
  };
  try {
    return Math.max(...(await Promise.all(observers.map(watch))));
  } finally {
    finished = true;
  }
}

/**
 * Memory, CPU and traffic over the window. Nothing is polled over the network inside it, so
 * lo carries only the cluster's own traffic; the agents' counters are read just outside it.
 */
async function steadyWindow(
  system: BenchSystem,
  agents: readonly BenchAgent[],
  options: MeasureOptions,
): Promise<Pick<ClusterMeasurement, 'residentMiB' | 'cpuPercent' | 'loopback' | 'ownCounters'>> {
  const pids = agents.map((agent) => agent.process.pid);
  const readOwnCounters = system.sentCounters;
  const countersBefore = readOwnCounters === undefined ? undefined : await readCounters(readOwnCounters, agents);
  const loopbackBefore = loopbackSent();
  const cpuBefore = pids.map(cpuSnapshot);
  const startedAt = performance.now();

  const rssSamples: number[] = [];
  for (;;) {
    rssSamples.push(mean(pids.map(residentBytes)));
    const left = startedAt + options.windowMs - performance.now();
    if (left <= 0) break;
    await sleep(Math.min(RSS_SAMPLE_MS, left));
  }

  const cpuAfter = pids.map(cpuSnapshot);
  const loopbackAfter = loopbackSent();
  const windowS = (performance.now() - startedAt) / 1000;
  const countersAfter = readOwnCounters === undefined ? undefined : await readCounters(readOwnCounters, agents);

  const perAgentPerS = (before: SentCounts, after: SentCounts, seconds: number): TrafficRate => ({
    bytesPerS: (after.bytes - before.bytes) / agents.length / seconds,
    packetsPerS: (after.packets - before.packets) / agents.length / seconds,
  });
  return {
    residentMiB: mean(rssSamples) / 2 ** 20,
    cpuPercent: (100 * mean(pids.map((_, i) => cpuSecondsBetween(cpuBefore[i]!, cpuAfter[i]!)))) / windowS,
    loopback: options.privateLoopback ? perAgentPerS(loopbackBefore, loopbackAfter, windowS) : null,
    ownCounters: countersBefore && countersAfter ? perAgentPerS(countersBefore.sent, countersAfter.sent, (countersAfter.at - countersBefore.at) / 1000) : null,
  };
}

/** The agents' counters summed, and when they were read (the middle of the reads). */
async function readCounters(read: (agent: BenchAgent) => Promise<SentCounts>, agents: readonly BenchAgent[]): Promise<{ sent: SentCounts; at: number }> {
  const begin = performance.now();
  const all = await Promise.all(agents.map(read));
  const at = (begin + performance.now()) / 2;
  return { sent: { bytes: sum(all.map((c) => c.bytes)), packets: sum(all.map((c) => c.packets)) }, at };
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
const mean = (values: readonly number[]): number => sum(values) / values.length;
