import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The built CLI (dist/cli/main.js), found relative to this module (dist/cli/cluster/spawn.js);
 * loaded from its source (src/cli/cluster/spawn.ts, as the tests do), the build beside it.
 */
export function cliPath(): string {
  return fileURLToPath(new URL('../main.js', import.meta.url.replace(/\/src\/cli\/cluster\/spawn\.ts$/, '/dist/cli/cluster/spawn.js')));
}

export interface AgentLaunch {
  name: string;
  /** host:port for gossip. */
  bind: string;
  /** host:port for the HTTP API. */
  http: string;
  /** Seeds, host:port. */
  join: string[];
  /** Flags passed through from `cluster up`. */
  flags: string[];
  /** Log file (stdout and stderr), truncated. */
  log: string;
}

/** The arguments after `node dist/cli/main.js`. */
export function agentArgs(launch: AgentLaunch): string[] {
  return ['agent', '--name', launch.name, '--bind', launch.bind, '--http', launch.http, ...launch.join.flatMap((seed) => ['--join', seed]), ...launch.flags];
}

/**
 * Starts an agent as a detached process (its own process group, so Ctrl-C in this terminal
 * does not reach it) writing to its log file, and unrefs it so this process can exit.
 */
export function spawnAgent(launch: AgentLaunch): ChildProcess {
  mkdirSync(dirname(launch.log), { recursive: true });
  const fd = openSync(launch.log, 'w');
  try {
    const child = spawn(process.execPath, [cliPath(), ...agentArgs(launch)], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: process.env,
    });
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

/**
 * The command line of a running process, or null if there is none with that PID (a zombie —
 * a dead child not yet reaped — counts as none).
 */
export function commandLine(pid: number): string[] | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (existsSync('/proc/self/cmdline')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') return null;
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      return null;
    }
  }
  // No /proc (macOS, BSD): ask ps.
  const ps = spawnSync('ps', ['-o', 'stat=,args=', '-p', String(pid)], { encoding: 'utf8' });
  const line = ps.status === 0 ? ps.stdout.trim() : '';
  if (line === '' || line.startsWith('Z')) return null;
  return line.split(/\s+/).slice(1);
}

/** Whether the PID still runs the agent we started under that name (not a reused PID). */
export function agentRunning(pid: number, name: string): boolean {
  const args = commandLine(pid);
  if (!args) return false;
  const at = args.indexOf('--name');
  return args.includes('agent') && at >= 0 && args[at + 1] === name;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Whether the PID is still the agent, or still on its way out: a process being killed shows an
 * empty command line for a moment before it becomes a zombie.
 */
function agentOrExiting(pid: number, name: string): boolean {
  const args = commandLine(pid);
  return args !== null && (args.length === 0 || agentRunning(pid, name));
}

/** Waits until the agent is gone, up to `ms`; whether it is gone. */
export async function waitGone(pid: number, name: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (agentOrExiting(pid, name)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** How an agent was stopped. */
export type StopOutcome = 'not running' | 'stopped' | 'killed' | 'still running';

/**
 * SIGTERM (the agent leaves gracefully and exits), then SIGKILL after the grace period. Signals
 * only the recorded PID, and only while it still runs the agent of that name.
 */
export async function stopAgent(pid: number, name: string, graceMs: number): Promise<StopOutcome> {
  if (!agentRunning(pid, name)) return 'not running';
  signal(pid, 'SIGTERM');
  if (await waitGone(pid, name, graceMs)) return 'stopped';
  if (!agentRunning(pid, name)) return 'stopped';
  signal(pid, 'SIGKILL');
  return (await waitGone(pid, name, 5_000)) ? 'killed' : 'still running';
}

/** SIGKILL, if the PID still runs the agent of that name; whether it was sent. */
export async function killAgent(pid: number, name: string): Promise<boolean> {
  if (!agentRunning(pid, name)) return false;
  signal(pid, 'SIGKILL');
  await waitGone(pid, name, 5_000);
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** The last lines of a log file, indented, for error messages. */
export function logTail(path: string, lines = 20): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return `  (no log: ${(error as Error).message})`;
  }
  const tail = text.trimEnd().split('\n').slice(-lines);
  if (tail.length === 1 && tail[0] === '') return `  (${path} is empty)`;
  return tail.map((line) => `  ${line}`).join('\n');
}
