/**
 * `hearsay agent` processes for the inspection command tests (monitor, reachability, info): each
 * spawned from the built CLI on 127.0.0.1 ports the system picks, ready once it logged `agent
 * ready`, and killed by its PID in teardown (continued first, in case a test stopped it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from '../helpers/wait.js';
import { CLI } from './cluster-harness.js';

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** `127.0.0.1:port` of gossip and of the HTTP API. */
  readonly gossip: string;
  readonly http: string;
  /** What it wrote to stderr so far (its JSON log lines). */
  stderr(): string;
  /** Resolves with its exit code once it has exited. */
  readonly exited: Promise<number | null>;
}

/** Spawns `hearsay agent --name NAME …args` and waits for its `agent ready` line. */
export async function spawnAgent(name: string, args: string[] = []): Promise<AgentProcess> {
  const child = spawn(process.execPath, [CLI, 'agent', '--name', name, '--bind', '127.0.0.1:0', '--http', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  child.stderr!.on('data', (chunk) => (text += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor(`agent ${name} ready`, () => child.exitCode !== null || text.includes('"agent ready"'), { timeoutMs: 30_000 });
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`agent ${name} did not start: ${text}`, { cause: error });
  }
  const ready = JSON.parse(text.split('\n').find((line) => line.includes('"agent ready"'))!) as { gossip: string; http: string };
  return { child, pid: child.pid!, gossip: ready.gossip, http: ready.http, stderr: () => text, exited };
}

/** Continues (it may have been stopped) and kills each agent still running, by PID, and waits for it to be gone. */
export async function killAgents(agents: readonly AgentProcess[]): Promise<void> {
  await Promise.all(
    agents.map(async (agent) => {
      if (agent.child.exitCode !== null || agent.child.signalCode !== null) return;
      for (const signal of ['SIGCONT', 'SIGKILL'] as const) {
        try {
          process.kill(agent.pid, signal);
        } catch {
          // already gone
        }
      }
      await agent.exited;
    }),
  );
}
