/**
 * A small harness that runs real Serf agents (Debian `serf` 0.9.4~ds1, which prints
 * `serf version` → "0.8.2-dev", agent protocol 5, understands back to 2) on free loopback ports,
 * for interop tests.
 *
 * Every agent is started as
 *
 *   serf agent -node NAME -bind 127.0.0.1:PORT -advertise 127.0.0.1:PORT
 *              -rpc-addr 127.0.0.1:RPCPORT -log-level debug [-tag k=v]… [-encrypt KEY]
 *              [-profile P] [-protocol N] [-join HOST:PORT]…
 *
 * Its stdout and stderr (Serf logs to stdout) are kept in memory for failure messages. Agents
 * are tracked in a module-level set: `stopAllSerfAgents()` kills them all (call it from
 * `afterAll`), a process 'exit' handler SIGKILLs any still running, and a detached watchdog per
 * agent (`sh -c 'read _; kill -9 PID'` holding the read end of a pipe we own) SIGKILLs the agent
 * when this process dies in any way, even by SIGKILL, so a crashed test run leaves nothing behind.
 *
 * What this Serf build does, as observed (Nov 2026, on this host):
 *
 * - `serf members -format json -rpc-addr A` prints `{"members": [...]}` (pretty-printed), or
 *   `{"members": null}` when a `-status`/`-name` filter matches nothing. Each member is
 *   `{"name": "a", "addr": "127.0.0.1:17946", "port": 17946, "tags": {"role": "web"},
 *     "status": "alive", "protocol": {"max": 5, "min": 2, "version": 5}}`.
 *   - `addr` is "IP:PORT" (the port is repeated in `port`); an IPv6 address would be printed
 *     by Go's net.IP.String() without brackets, so split at the last colon.
 *   - `tags` is always an object (`{}` when the node has none), never null.
 *   - `status` is one of "alive", "leaving" (only seen on the leaving agent itself, for the
 *     second or so of its graceful leave), "left", "failed" (Serf's name for memberlist
 *     "dead": SIGKILL, SIGTERM, or a memberlist-only leave), and in theory "none".
 *     A suspect member is still reported "alive": suspicion is invisible here.
 *   - `protocol` is the Serf *delegate* protocol (DMin, DMax, DCur from the Vsn bytes), not the
 *     memberlist one; the text form `-detailed` shows the same as "Protocol Version: 5
 *     Available Protocol Range: [2, 5]".
 *   - Exit code 1 and "Error connecting to Serf agent: dial tcp …: connect: connection refused"
 *     on stderr while the RPC listener is not up.
 * - The RPC listener comes up before `-join` is attempted; if every `-join` address fails the
 *   agent exits with an error. With `-join` we therefore wait until the agent lists ≥ 2 members.
 * - `serf leave -rpc-addr A` prints "Graceful leave complete" and returns after the leave has
 *   been broadcast; the agent then shuts down and **exits by itself** about 2 s later. Peers
 *   show it as "left" within about a second.
 * - Signals: SIGINT = graceful leave then exit (peers show "left"); SIGTERM = "Shutdown without
 *   a Leave" (peers show "failed", like SIGKILL).
 * - Failure detection: in a 3-node LAN cluster a SIGKILLed agent is "failed" at the others
 *   about 5–7 s later. With 4 or more known members (left/failed ones count) Lifeguard's
 *   initial suspicion timeout is the maximum (6 × 4 s = 24 s) unless other members confirm, so
 *   allow ≥ 30 s there.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from '../../packages/bench/src/bench-processes.js';
import { sleep, waitFor as poll } from '../helpers/wait.js';

/** The Serf binary; `SERF_BIN` overrides. */
export const SERF_BIN: string = process.env.SERF_BIN ?? 'serf';

/** Loopback only: everything binds and sends on this address. */
export const LOOPBACK = '127.0.0.1';

export type SerfStatus = 'alive' | 'leaving' | 'left' | 'failed' | 'none';

export interface SerfMember {
  readonly name: string;
  /** "IP:PORT" as printed by Serf. */
  readonly addr: string;
  /** The IP part of `addr`. */
  readonly ip: string;
  readonly port: number;
  readonly tags: Readonly<Record<string, string>>;
  /** One of {@link SerfStatus}; kept as a string in case a build prints something else. */
  readonly status: SerfStatus | (string & {});
  /** Serf delegate protocol: min = DMin, max = DMax, version = DCur. */
  readonly protocol: { readonly min: number; readonly max: number; readonly version: number };
}

export interface SerfAgentOptions {
  readonly name: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** base64 of a 16/24/32-byte key (`serf keygen` makes 32). */
  readonly encryptKey?: string;
  /** "host:port" addresses to join at startup. */
  readonly join?: readonly string[];
  readonly profile?: 'lan' | 'wan' | 'local';
  /** `-protocol N` (Serf delegate protocol, 2..5; default 5). */
  readonly protocol?: number;
  /** Fixed gossip port (e.g. to restart an agent on the same address); default: a free port. */
  readonly port?: number;
  /** Fixed RPC port; default: a free port. */
  readonly rpcPort?: number;
  /** Extra raw arguments for `serf agent`. */
  readonly extraArgs?: readonly string[];
  /** How long to wait for the agent to be ready (default 15 s). */
  readonly readyTimeoutMs?: number;
}

export interface SerfAgent {
  readonly name: string;
  /** Gossip port (UDP and TCP). */
  readonly port: number;
  readonly rpcPort: number;
  /** "127.0.0.1:port", what others pass to `join`. */
  readonly addr: string;
  readonly rpcAddr: string;
  readonly pid: number;
  readonly options: SerfAgentOptions;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** `serf members -format json`. */
  members(): Promise<SerfMember[]>;
  /** This agent's view of one member, or undefined. */
  member(name: string): Promise<SerfMember | undefined>;
  /**
   * Polls `members()` until `predicate` holds and returns those members. Rejects after
   * `timeoutMs` (default 15 s) with the last members and the log tail, or at once if the agent
   * exits.
   */
  waitFor(predicate: (members: SerfMember[]) => boolean, timeoutMs?: number, what?: string): Promise<SerfMember[]>;
  /** waitFor(member `name` has `status`). */
  waitForStatus(name: string, status: SerfStatus, timeoutMs?: number): Promise<SerfMember[]>;
  /**
   * Runs `serf <command> -rpc-addr=<this agent> <rest…>` for args = [command, …rest] and returns
   * stdout (rejects on non-zero exit). Flags must precede positional arguments (Go's flag
   * package), e.g. cli(['query', '-timeout', '2s', 'name', 'payload']).
   */
  cli(args: readonly string[], timeoutMs?: number): Promise<string>;
  /** `serf event [-coalesce=false] name payload`. */
  event(name: string, payload?: string, coalesce?: boolean): Promise<void>;
  /** Sends `signal` (default SIGKILL) and waits for the exit. No-op if already exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 3 s). Peers will see "failed" (no leave). */
  stop(graceMs?: number): Promise<void>;
  /**
   * `serf leave`: graceful leave. The agent exits on its own afterwards; by default this waits
   * for that (SIGKILL after 10 s).
   */
  leave(options?: { waitForExit?: boolean }): Promise<void>;
  /** Everything the agent printed so far (stdout and stderr interleaved). */
  log(): string;
  /** The last `lines` lines of the log. */
  logTail(lines?: number): string;
}

// ---------------------------------------------------------------------------------------------
// Availability

let serfAvailableCache: boolean | undefined;

/** True when the Serf binary runs (`serf version`). */
export function serfAvailable(): boolean {
  if (serfAvailableCache === undefined) {
    const r = spawnSync(SERF_BIN, ['version'], { stdio: 'ignore', timeout: 10_000 });
    serfAvailableCache = r.error === undefined && r.status === 0;
  }
  return serfAvailableCache;
}

// ---------------------------------------------------------------------------------------------
// Ports

/** Free TCP+UDP ports on 127.0.0.1, never the same twice in this process (shared with the bench). */
export { freePort };

// ---------------------------------------------------------------------------------------------
// Process tracking and cleanup

interface Tracked {
  readonly child: ChildProcess;
  readonly watchdog: ChildProcess | undefined;
  exited: boolean;
}

const live = new Set<Tracked>();
let cleanupInstalled = false;

function killQuietly(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function killAllSync(): void {
  for (const t of live) {
    if (!t.exited) killQuietly(t.child.pid, 'SIGKILL');
    killQuietly(t.watchdog?.pid, 'SIGKILL');
  }
  live.clear();
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAllSync);
  // Only when nobody else handles these signals: clean up, then die of the same signal.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    if (process.listenerCount(signal) > 0) continue;
    const handler = (): void => {
      killAllSync();
      process.removeListener(signal, handler);
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

/**
 * A detached `sh` that SIGKILLs `pid` when its stdin reaches EOF, i.e. when this process dies
 * (the write end of the pipe is ours alone). Killed by PID in normal teardown.
 */
function startWatchdog(pid: number): ChildProcess | undefined {
  try {
    const dog = spawn('/bin/sh', ['-c', 'read _; kill -9 "$1" 2>/dev/null', 'serf-watchdog', String(pid)], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    dog.on('error', () => undefined);
    dog.stdin?.on('error', () => undefined);
    dog.unref();
    (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return dog;
  } catch {
    return undefined;
  }
}

/** SIGKILLs every agent started by this module that is still running and waits for the exits. */
export async function stopAllSerfAgents(): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const t of [...live]) {
    if (!t.exited) {
      killQuietly(t.child.pid, 'SIGKILL');
      waits.push(
        new Promise<void>((resolve) => {
          if (t.exited) resolve();
          else t.child.once('exit', () => resolve());
        }),
      );
    }
  }
  await Promise.race([Promise.all(waits), sleep(5000)]);
  for (const t of [...live]) {
    killQuietly(t.watchdog?.pid, 'SIGKILL');
    if (t.exited) live.delete(t);
  }
}

/** The agents started by this module that have not exited yet. */
export function liveSerfPids(): number[] {
  return [...live].filter((t) => !t.exited && t.child.pid !== undefined).map((t) => t.child.pid!);
}

// ---------------------------------------------------------------------------------------------
// CLI helpers

export { sleep };

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runSerf(args: readonly string[], timeoutMs = 5000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(SERF_BIN, [...args], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (error !== null && code === null ? String(error) : '') });
    });
  });
}

function splitAddr(addr: string): { ip: string; port: number } {
  const i = addr.lastIndexOf(':');
  return i < 0 ? { ip: addr, port: NaN } : { ip: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
}

/** Parses the output of `serf members -format json`. */
export function parseMembersJson(text: string): SerfMember[] {
  const doc = JSON.parse(text) as { members: unknown[] | null };
  if (doc === null || typeof doc !== 'object' || !('members' in doc)) throw new Error(`unexpected members JSON: ${text.slice(0, 200)}`);
  return (doc.members ?? []).map((raw) => {
    const m = raw as Record<string, unknown>;
    const addr = String(m.addr ?? '');
    const protocol = (m.protocol ?? {}) as Record<string, unknown>;
    return {
      name: String(m.name),
      addr,
      ip: splitAddr(addr).ip,
      port: Number(m.port ?? splitAddr(addr).port),
      tags: (m.tags ?? {}) as Record<string, string>,
      status: String(m.status),
      protocol: { min: Number(protocol.min), max: Number(protocol.max), version: Number(protocol.version) },
    };
  });
}

function describeMembers(members: readonly SerfMember[] | undefined): string {
  if (members === undefined) return '(none read)';
  return members.map((m) => `${m.name}@${m.addr}=${m.status}`).join(', ') || '(empty)';
}

// ---------------------------------------------------------------------------------------------
// Agents

const LOG_CAP = 2 << 20;

/** Starts one agent; resolves when its RPC answers (and, with `join`, it sees another member). */
export async function startSerfAgent(options: SerfAgentOptions): Promise<SerfAgent> {
  const attempts = options.port === undefined && options.rpcPort === undefined ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      lastError = error;
      // Retry with new ports only when a port was taken between freePort() and the bind.
      if (!/address already in use/i.test(String(error))) throw error;
    }
  }
  throw lastError;
}

async function startOnce(options: SerfAgentOptions): Promise<SerfAgent> {
  installCleanup();
  const port = options.port ?? (await freePort());
  const rpcPort = options.rpcPort ?? (await freePort());
  const addr = `${LOOPBACK}:${port}`;
  const rpcAddr = `${LOOPBACK}:${rpcPort}`;
  const args = ['agent', '-node', options.name, '-bind', addr, '-advertise', addr, '-rpc-addr', rpcAddr, '-log-level', 'debug'];
  for (const [k, v] of Object.entries(options.tags ?? {})) args.push('-tag', `${k}=${v}`);
  if (options.encryptKey !== undefined) args.push('-encrypt', options.encryptKey);
  if (options.profile !== undefined) args.push(`-profile=${options.profile}`);
  if (options.protocol !== undefined) args.push(`-protocol=${options.protocol}`);
  for (const j of options.join ?? []) args.push('-join', j);
  args.push(...(options.extraArgs ?? []));

  const child = spawn(SERF_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));
  let logText = `$ ${SERF_BIN} ${args.join(' ')}\n`;
  const append = (chunk: Buffer): void => {
    logText += chunk.toString('utf8');
    if (logText.length > LOG_CAP) logText = `…(truncated)…\n${logText.slice(logText.length - LOG_CAP / 2)}`;
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);

  const tracked: Tracked = { child, watchdog: undefined, exited: false };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      tracked.exited = true;
      killQuietly(tracked.watchdog?.pid, 'SIGKILL');
      live.delete(tracked);
      resolve({ code, signal });
    });
  });
  if (child.pid === undefined) {
    const error = await spawnFailed;
    throw new Error(`could not start ${SERF_BIN}: ${error.message}`);
  }
  (tracked as { watchdog: ChildProcess | undefined }).watchdog = startWatchdog(child.pid);
  live.add(tracked);
  const pid = child.pid;

  const logTail = (lines = 40): string => logText.split('\n').slice(-lines).join('\n');
  const exitNote = (): string => (tracked.exited ? ` (agent exited: code ${child.exitCode}, signal ${child.signalCode})` : '');

  const cli = async (cliArgs: readonly string[], timeoutMs = 5000): Promise<string> => {
    // Go's flag package stops at the first positional argument: flags go right after the command.
    const [command, ...rest] = cliArgs;
    const r = await runSerf([command ?? '', `-rpc-addr=${rpcAddr}`, ...rest], timeoutMs);
    if (r.code !== 0) throw new Error(`serf ${cliArgs.join(' ')} -rpc-addr=${rpcAddr} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  };

  const members = async (): Promise<SerfMember[]> => parseMembersJson(await cli(['members', '-format', 'json']));

  /** The members once `predicate` holds of them (a failing `serf members` is retried); fails at once if the agent exits. */
  const waitFor = async (predicate: (members: SerfMember[]) => boolean, timeoutMs = 15_000, what = 'condition'): Promise<SerfMember[]> => {
    let last: SerfMember[] | undefined;
    const exitedEarly = new Error(`serf agent ${options.name} exited before ${what}`);
    try {
      return await poll(
        `${what} at serf agent ${options.name}`,
        async () => {
          if (tracked.exited) throw exitedEarly;
          last = await members();
          return predicate(last) ? last : undefined;
        },
        { timeoutMs, intervalMs: 200, retryErrors: (error) => error !== exitedEarly },
      );
    } catch (error) {
      const reason = error === exitedEarly ? `${exitedEarly.message}${exitNote()}` : (error as Error).message;
      throw new Error(`${reason}\nlast members: ${describeMembers(last)}\nlog tail:\n${logTail()}`, { cause: error });
    }
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (tracked.exited) return;
    killQuietly(pid, signal);
    await exited;
  };

  const stop = async (graceMs = 3000): Promise<void> => {
    if (tracked.exited) return;
    killQuietly(pid, 'SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!done) await kill('SIGKILL');
  };

  const agent: SerfAgent = {
    name: options.name,
    port,
    rpcPort,
    addr,
    rpcAddr,
    pid,
    options,
    exited,
    running: () => !tracked.exited,
    members,
    member: async (name) => (await members()).find((m) => m.name === name),
    waitFor,
    waitForStatus: (name, status, timeoutMs) => waitFor((ms) => ms.some((m) => m.name === name && m.status === status), timeoutMs, `${name} ${status}`),
    cli,
    event: async (name, payload = '', coalesce = true) => {
      await cli(['event', ...(coalesce ? [] : ['-coalesce=false']), name, payload]);
    },
    kill,
    stop,
    leave: async ({ waitForExit = true } = {}) => {
      await cli(['leave'], 15_000);
      if (waitForExit) {
        const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
        if (!done) await kill('SIGKILL');
      }
    },
    log: () => logText,
    logTail,
  };

  // Readiness: the RPC answers, and with -join the agent already sees someone else.
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const joining = (options.join ?? []).length > 0;
  try {
    await Promise.race([
      waitFor((ms) => !joining || ms.length >= 2, readyTimeoutMs, joining ? 'ready and joined' : 'ready'),
      spawnFailed.then((error) => {
        throw error;
      }),
    ]);
  } catch (error) {
    await kill('SIGKILL');
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(message.includes('log tail:') ? message : `${message}\nlog tail:\n${logTail()}`);
  }
  return agent;
}

export interface SerfClusterOptions extends Omit<SerfAgentOptions, 'name' | 'join' | 'port' | 'rpcPort'> {
  /** Agents are named `${namePrefix}${i}` for i = 1..n (default "serf"). */
  readonly namePrefix?: string;
  /** Per-agent tags (overrides `tags`). */
  readonly tagsFor?: (index: number) => Readonly<Record<string, string>>;
  /** How long to wait for every agent to see n alive (default 20 s). */
  readonly convergeTimeoutMs?: number;
}

/**
 * Starts n agents, the first alone and the rest joining it, and waits until every agent sees
 * all n alive. On failure every agent started here is killed.
 */
export async function startSerfCluster(n: number, options: SerfClusterOptions = {}): Promise<SerfAgent[]> {
  const { namePrefix = 'serf', tagsFor, convergeTimeoutMs = 20_000, ...common } = options;
  const agents: SerfAgent[] = [];
  try {
    for (let i = 1; i <= n; i++) {
      const tags = tagsFor?.(i) ?? common.tags;
      agents.push(
        await startSerfAgent({
          ...common,
          ...(tags !== undefined ? { tags } : {}),
          name: `${namePrefix}${i}`,
          ...(i > 1 ? { join: [agents[0]!.addr] } : {}),
        }),
      );
    }
    const names = agents.map((a) => a.name);
    await Promise.all(
      agents.map((a) => a.waitFor((ms) => names.every((name) => ms.some((m) => m.name === name && m.status === 'alive')), convergeTimeoutMs, `all ${n} alive`)),
    );
    return agents;
  } catch (error) {
    await Promise.all(agents.map((a) => a.kill('SIGKILL')));
    throw error;
  }
}
