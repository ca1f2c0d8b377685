/**
 * The agents of a lab run, one per host: `hearsay agent` or Debian's `serf agent`, each started
 * inside its host's namespace (`ip netns exec` execs it, so the PID is the agent's own), with the
 * same LAN timings, the same seed (n0) and the same user-event handler script. Every line an
 * agent logs is read as it comes, stamped with the lab's clock and turned into observations.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { cliPath } from 'hearsay-agent/scripting';
import { trackPid, untrackPid } from './cleanup.js';
import type { Host } from './namespaces.js';
import { parseHearsayLine, parseSerfLine, type LineFact } from './log-lines.js';

const run = promisify(execFile);

/** What a member runs: the lab's two systems (a mixed cluster has both). */
export type AgentKind = 'hearsay' | 'serf';

export const GOSSIP_PORT = 7946;
/** Each agent's control port, on its namespace's loopback: the hearsay HTTP API, the Serf RPC. */
const HEARSAY_HTTP = '127.0.0.1:17946';
const SERF_RPC = '127.0.0.1:7373';

/** The `hearsay` command of the hearsay-agent package this lab is built with. */
const HEARSAY_CLI = cliPath();

/** A fact from an agent's log, stamped when the lab read it. */
export interface StampedFact {
  readonly atMs: number;
  readonly observer: string;
  readonly fact: LineFact;
}

export interface AgentSettings {
  readonly name: string;
  readonly kind: AgentKind;
  readonly host: Host;
  /** The seed's address, none for the seed itself. */
  readonly seed?: string;
  /** The user-event handler script (same for both systems: Serf's handler contract). */
  readonly handler: string;
}

/** One running agent process. */
export class LabAgent {
  readonly settings: AgentSettings;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  /** The last lines it wrote, for an error message when it dies unexpectedly. */
  readonly #tail: string[] = [];

  constructor(settings: AgentSettings, now: () => number, onFact: (fact: StampedFact) => void) {
    this.settings = settings;
    const { name, kind, host } = settings;
    this.child = spawn('ip', ['netns', 'exec', host.namespace, ...commandOf(settings)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = this.child.pid!;
    trackPid(pid);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', () => {
        untrackPid(pid);
        resolve();
      }),
    );
    const parse = kind === 'hearsay' ? parseHearsayLine : parseSerfLine;
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        const atMs = now();
        this.#tail.push(line);
        if (this.#tail.length > 20) this.#tail.shift();
        const fact = parse(line);
        if (fact) onFact({ atMs, observer: name, fact });
      });
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  tail(): string {
    return this.#tail.join('\n');
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGKILL (continued first, should it be stopped), and waits for it to be gone. */
  async kill(): Promise<void> {
    this.signal('SIGCONT');
    this.signal('SIGKILL');
    await this.exited;
  }

  /** Broadcasts a user event through this agent's control port, as an operator would (`hearsay event` / `serf event`). */
  async sendEvent(event: string): Promise<void> {
    const { kind, host } = this.settings;
    const command =
      kind === 'hearsay'
        ? [process.execPath, HEARSAY_CLI, 'event', '--http', HEARSAY_HTTP, event, 'chaos']
        : ['serf', 'event', `-rpc-addr=${SERF_RPC}`, '-coalesce=false', event, 'chaos'];
    await run('ip', ['netns', 'exec', host.namespace, ...command], { timeout: 10_000 });
  }

  /** hearsay's counters from its /metrics (failed probes, refutations); undefined for a Serf agent. */
  async hearsayCounters(): Promise<{ failedProbes: number; refutations: number } | undefined> {
    if (this.settings.kind !== 'hearsay') return undefined;
    const script = `fetch('http://${HEARSAY_HTTP}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`;
    const { stdout } = await run('ip', ['netns', 'exec', this.settings.host.namespace, process.execPath, '-e', script], { timeout: 10_000 });
    const value = (metric: string) => Number(new RegExp(`^${metric} (\\d+)`, 'm').exec(stdout)?.[1] ?? Number.NaN);
    return { failedProbes: value('hearsay_probes_failed_total'), refutations: value('hearsay_refutations_total') };
  }
}

/** The command line of an agent, LAN profile, bound to its host's address. */
function commandOf({ name, kind, host, seed, handler }: AgentSettings): string[] {
  const bind = `${host.address}:${GOSSIP_PORT}`;
  if (kind === 'hearsay') {
    return [
      process.execPath,
      HEARSAY_CLI,
      'agent',
      '--name',
      name,
      '--bind',
      bind,
      '--http',
      HEARSAY_HTTP,
      '--profile',
      'lan',
      '--log-level',
      'info',
      '--event-handler',
      `user=${handler}`,
      ...(seed ? ['--join', seed] : []),
    ];
  }
  return [
    'serf',
    'agent',
    `-node=${name}`,
    `-bind=${bind}`,
    `-rpc-addr=${SERF_RPC}`,
    '-profile=lan',
    '-log-level=info',
    `-event-handler=user=${handler}`,
    ...(seed ? [`-retry-join=${seed}`, '-retry-interval=1s'] : []),
  ];
}
