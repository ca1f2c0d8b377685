/**
 * The systems the attack bench runs against, behind one interface: hearsay agents from this tree,
 * hearsay agents from another tree (`--before DIR`, the code before the fixes), and Debian's Serf.
 * Each is a 3-agent cluster on 127.0.0.1; its first agent is the victim, started with a handler
 * for queries named `ping` (`--query-handler`, Serf's `-event-handler query:ping=…`).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { cliPath, logTail, requestJson } from 'hearsay-agent/scripting';
import { BenchFailure, freePort, killAgent, LOOPBACK, sleep, spawnAgent, type AgentProcess } from './bench-processes.js';
import { serfMembers, type MemberStatus } from './bench-systems.js';
import { residentBytes } from './proc-stats.js';

export type AttackSystemName = 'hearsay' | 'hearsay-before' | 'serf';

export interface AttackAgent {
  readonly name: string;
  readonly gossipPort: number;
  /** HTTP for hearsay, RPC for Serf. */
  readonly controlPort: number;
  process: AgentProcess;
  /** How many times the bench restarted it after an attack stopped it. */
  restarts: number;
}

/** What an operator can do with the system, as the attacks check it. */
export interface AttackSystem {
  readonly name: AttackSystemName;
  readonly kind: 'hearsay' | 'serf';
  spawn(agent: Omit<AttackAgent, 'process'>, seed: AttackAgent | undefined, logPath: string): AgentProcess;
  /** Whether the control API answers in time: the agent is up and not wedged. */
  answers(agent: AttackAgent, timeoutMs: number): Promise<boolean>;
  /** The agent's members, or only those named (Serf filters them itself: a list of 100,000 would not come back in time). */
  members(agent: AttackAgent, names?: readonly string[]): Promise<MemberStatus[]>;
  /** Members in the agent's list, whatever their status (cheap even with 100,000 of them). */
  memberCount(agent: AttackAgent): Promise<number>;
  /** The operator's join through the agent to `address`; whether it reported success. */
  join(agent: AttackAgent, address: string): Promise<string | null>;
  /** The operator's user event through the agent; null on success, else why it failed. */
  event(agent: AttackAgent): Promise<string | null>;
}

const REQUEST_TIMEOUT_MS = 5_000;
export const QUERY_NAME = 'ping';

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 160);

export function hearsayAttackSystem(beforeDir?: string): AttackSystem {
  const cli = beforeDir === undefined ? cliPath() : join(beforeDir, 'dist', 'cli', 'main.js');
  const base = (agent: AttackAgent): string => `http://${LOOPBACK}:${agent.controlPort}`;
  return {
    name: beforeDir === undefined ? 'hearsay' : 'hearsay-before',
    kind: 'hearsay',
    spawn(agent, seed, logPath) {
      const args = [cli, 'agent', '--name', agent.name, '--bind', `${LOOPBACK}:${agent.gossipPort}`, '--http', `${LOOPBACK}:${agent.controlPort}`];
      args.push('--query-handler', `${QUERY_NAME}=cat`);
      if (seed !== undefined) args.push('--join', `${LOOPBACK}:${seed.gossipPort}`);
      return spawnAgent(process.execPath, args, logPath);
    },
    async answers(agent, timeoutMs) {
      try {
        await requestJson(base(agent), '/v1/self', { timeoutMs });
        return true;
      } catch {
        return false;
      }
    },
    async members(agent, names) {
      const members = (await requestJson(base(agent), '/v1/members', { timeoutMs: REQUEST_TIMEOUT_MS })) as MemberStatus[];
      return names === undefined ? members : members.filter((member) => names.includes(member.name));
    },
    async memberCount(agent) {
      const response = await fetch(`${base(agent)}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const text = await response.text();
      return [...text.matchAll(/^hearsay_members\{status="\w+"\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
    },
    async join(agent, address) {
      try {
        await requestJson(base(agent), '/v1/join', { method: 'POST', body: { addrs: [address] }, timeoutMs: REQUEST_TIMEOUT_MS });
        return null;
      } catch (error) {
        return errorText(error);
      }
    },
    async event(agent) {
      try {
        const body = { name: 'operator', payload: 'after the attack' };
        await requestJson(base(agent), '/v1/event', { method: 'POST', body, timeoutMs: REQUEST_TIMEOUT_MS });
        return null;
      } catch (error) {
        return errorText(error);
      }
    },
  };
}

/** Runs `serf <command> -rpc-addr=… args…` (flags before arguments, as Go's flag package wants): its stdout, or why it failed. */
function serf(agent: AttackAgent, command: string, args: string[], timeoutMs = REQUEST_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const argv = [command, `-rpc-addr=${LOOPBACK}:${agent.controlPort}`, ...args];
    execFile('serf', argv, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) =>
      error === null ? resolve(stdout) : reject(new Error(stderr.trim() || stdout.trim() || error.message)),
    );
  });
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function serfAttackSystem(): AttackSystem {
  return {
    name: 'serf',
    kind: 'serf',
    spawn(agent, seed, logPath) {
      const args = ['agent', '-node', agent.name, '-bind', `${LOOPBACK}:${agent.gossipPort}`, '-rpc-addr', `${LOOPBACK}:${agent.controlPort}`];
      args.push('-event-handler', `query:${QUERY_NAME}=cat`);
      if (seed !== undefined) args.push('-join', `${LOOPBACK}:${seed.gossipPort}`);
      return spawnAgent('serf', args, logPath);
    },
    async answers(agent, timeoutMs) {
      try {
        await serf(agent, 'info', ['-format', 'json'], timeoutMs);
        return true;
      } catch {
        return false;
      }
    },
    async members(agent, names) {
      if (names === undefined) return serfMembers(agent.controlPort);
      const filter = `^(${names.map(escapeRegExp).join('|')})$`;
      return (JSON.parse(await serf(agent, 'members', ['-format', 'json', '-name', filter])) as { members: MemberStatus[] | null }).members ?? [];
    },
    async memberCount(agent) {
      const info = JSON.parse(await serf(agent, 'info', ['-format', 'json'])) as { serf: { members: string } };
      return Number(info.serf.members);
    },
    async join(agent, address) {
      try {
        await serf(agent, 'join', [address]);
        return null;
      } catch (error) {
        return errorText(error);
      }
    },
    async event(agent) {
      try {
        await serf(agent, 'event', ['operator', 'after the attack']);
        return null;
      } catch (error) {
        return errorText(error);
      }
    },
  };
}

const STARTUP_TIMEOUT_MS = 20_000;

/** A running cluster of one system; the first agent is the victim. */
export class AttackCluster {
  #restartLogs = 0;
  /** The victim's resident memory once the cluster had formed, in MiB. */
  victimStartMiB = 0;

  private constructor(
    readonly system: AttackSystem,
    readonly agents: AttackAgent[],
    readonly logDir: string,
  ) {}

  get victim(): AttackAgent {
    return this.agents[0]!;
  }

  /** Starts `size` agents, the others joining through the first, and waits until every one lists all alive. */
  static async start(system: AttackSystem, size: number, logDir: string): Promise<AttackCluster> {
    const cluster = new AttackCluster(system, [], logDir);
    try {
      for (let i = 0; i < size; i++) {
        const ports = { gossipPort: await freePort(), controlPort: await freePort() };
        const agent: AttackAgent = { name: `${system.name}-${i}`, ...ports, restarts: 0, process: undefined as unknown as AgentProcess };
        agent.process = system.spawn(agent, cluster.agents[0], join(logDir, `${agent.name}.log`));
        cluster.agents.push(agent);
        // Serf exits when its -join fails: the seed must answer before the others start.
        if (i === 0) await cluster.#waitAnswering(agent);
      }
      await Promise.all(cluster.agents.map((agent) => cluster.#waitAnswering(agent)));
      await cluster.waitAllAlive(STARTUP_TIMEOUT_MS);
      cluster.victimStartMiB = residentBytes(cluster.victim.process.pid) / 2 ** 20;
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  async #waitAnswering(agent: AttackAgent): Promise<void> {
    const deadline = performance.now() + STARTUP_TIMEOUT_MS;
    while (!(await this.system.answers(agent, 1_000))) {
      if (agent.process.hasExited() || performance.now() > deadline) {
        const why = agent.process.hasExited() ? 'exited' : 'did not answer';
        throw new BenchFailure(`${agent.name} ${why} at start\n${logTail(agent.process.logPath)}`);
      }
      await sleep(100);
    }
  }

  /** Whether `observer` lists every agent alive, polled until `timeoutMs`. */
  async seesAllAlive(observer: AttackAgent, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        const members = await this.system.members(
          observer,
          this.agents.map((agent) => agent.name),
        );
        if (this.agents.every((agent) => members.some((m) => m.name === agent.name && m.status === 'alive'))) return true;
      } catch {
        // not answering yet: poll again
      }
      if (performance.now() > deadline || observer.process.hasExited()) return false;
      await sleep(250);
    }
  }

  async waitAllAlive(timeoutMs: number): Promise<void> {
    const seen = await Promise.all(this.agents.map((agent) => this.seesAllAlive(agent, timeoutMs)));
    const lagging = this.agents.filter((_, i) => !seen[i]);
    if (lagging.length > 0) {
      const names = lagging.map((agent) => agent.name).join(', ');
      throw new BenchFailure(`${this.system.name}: ${names} did not list all ${this.agents.length} alive\n${logTail(lagging[0]!.process.logPath)}`);
    }
  }

  /** Starts a stopped agent again on its ports, joining through another agent. */
  async restart(agent: AttackAgent): Promise<void> {
    await killAgent(agent.process);
    const seed = this.agents.find((other) => other !== agent && !other.process.hasExited());
    agent.process = this.system.spawn(agent, seed, join(this.logDir, `${agent.name}-restart-${++this.#restartLogs}.log`));
    agent.restarts++;
    await this.#waitAnswering(agent);
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((agent) => killAgent(agent.process)));
  }
}
