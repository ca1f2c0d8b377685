/**
 * Processes and ports for the benchmarks: every agent is tracked by PID from spawn to exit and
 * killed by that PID in teardown, on SIGINT/SIGTERM/SIGHUP and at exit; temp dirs go with them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LOOPBACK = '127.0.0.1';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A failure the benchmark explains itself: printed without a stack trace, exit code 1. */
export class BenchFailure extends Error {
  override name = 'BenchFailure';
}

export interface AgentProcess {
  readonly pid: number;
  readonly logPath: string;
  readonly exited: Promise<void>;
  hasExited(): boolean;
}

/** PIDs of the agents started and not yet exited. */
const running = new Set<number>();
const tempDirs = new Set<string>();

/**
 * `setpriv --pdeathsig KILL` makes the kernel SIGKILL an agent when the bench dies in a way no
 * handler sees (SIGKILL, a crash); without setpriv the handlers below are all there is.
 */
const PDEATHSIG_ARGS = ['--pdeathsig', 'KILL', '--'];
const setprivWorks = spawnSync('setpriv', [...PDEATHSIG_ARGS, 'true'], { stdio: 'ignore' }).status === 0;

/** The command line that runs `command args…` so that it dies with this process. */
export function diesWithParent(command: string, args: readonly string[]): [string, string[]] {
  return setprivWorks ? ['setpriv', [...PDEATHSIG_ARGS, command, ...args]] : [command, [...args]];
}

/**
 * Starts an agent writing stdout and stderr to `logPath`, in its own process group so that a
 * Ctrl-C in the terminal reaches only the bench, which then kills it.
 */
export function spawnAgent(command: string, args: readonly string[], logPath: string): AgentProcess {
  const fd = openSync(logPath, 'w');
  let child: ChildProcess;
  try {
    const [file, fileArgs] = diesWithParent(command, args);
    child = spawn(file, fileArgs, { stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);
  }
  // A failed spawn shows as a missing PID; its 'error' event must not crash the bench as well.
  child.on('error', () => undefined);
  const pid = child.pid;
  if (pid === undefined) throw new BenchFailure(`could not start ${command} (is it on PATH?)`);
  running.add(pid);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      running.delete(pid);
      resolve();
    }),
  );
  return { pid, logPath, exited: exitedPromise, hasExited: () => exited };
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function signalAgent(agent: AgentProcess, signal: NodeJS.Signals): void {
  if (!agent.hasExited()) signalQuietly(agent.pid, signal);
}

/** SIGKILL, and the exit reaped. */
export async function killAgent(agent: AgentProcess): Promise<void> {
  signalAgent(agent, 'SIGKILL');
  await agent.exited;
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

function cleanUpNow(): void {
  for (const pid of running) signalQuietly(pid, 'SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

/** Kills every agent still running and removes temp dirs at exit and on SIGINT/SIGTERM/SIGHUP. */
export function installCleanup(): void {
  process.on('exit', cleanUpNow);
  const exitCodes = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
  for (const [signal, code] of Object.entries(exitCodes)) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping every agent started\n`);
      process.exit(code);
    });
  }
}

const handedOut = new Set<number>();

function listenTcp(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: LOOPBACK, exclusive: true }, () => resolve(server));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ port, address: LOOPBACK, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

/**
 * A port on 127.0.0.1 free for both TCP and UDP right now (the kernel picks a TCP port, then
 * UDP is tried on the same number), never handed out twice by this process.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const server = await listenTcp(0);
    if (server === undefined) continue;
    const { port } = server.address() as net.AddressInfo;
    const udp = await udpFree(port);
    await new Promise((resolve) => server.close(resolve));
    if (udp && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new BenchFailure(`no port free for both TCP and UDP on ${LOOPBACK} after 100 attempts`);
}
