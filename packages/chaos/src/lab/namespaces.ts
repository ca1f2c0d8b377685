/**
 * The lab's network: one network namespace per host, each with a veth pair into a bridge that
 * lives in a namespace of its own, addresses in 10.213.0.0/24 that exist only there. Nothing is
 * routed out: the root namespace keeps no link to them. Every namespace is named
 * `hschaos-PID-…` after the lab process that made it, so that a later lab can remove what a
 * killed one left behind (its processes included), and nothing else.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { trackLab, untrackLab } from './cleanup.js';

const run = promisify(execFile);
const PREFIX = 'hschaos-';
const SUBNET = '10.213.0';

/** One host: its namespace and its address on the lab's bridge. */
export interface Host {
  readonly index: number;
  readonly namespace: string;
  readonly address: string;
}

/** `ip ARGS`, failing with the command and its stderr in the message. */
export async function ip(args: readonly string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`ip ${args.join(' ')}: ${stderr || (error as Error).message}`);
  }
}

/** Whether this process may make namespaces (root, `ip` and `nft` present); the reason when not. */
export async function labUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'the lab needs root (ip netns, nftables)';
  const probe = `${PREFIX}${process.pid}-probe`;
  try {
    await ip(['netns', 'add', probe]);
    await run('ip', ['netns', 'exec', probe, 'nft', 'list', 'ruleset']);
    await ip(['-n', probe, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1']);
    return undefined;
  } catch (error) {
    return `cannot make a network namespace with a veth pair and nftables here: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    await run('ip', ['netns', 'del', probe]).catch(() => {});
  }
}

/** Pids of the processes inside a namespace. */
async function pidsIn(namespace: string): Promise<number[]> {
  const text = await run('ip', ['netns', 'pids', namespace]).then(
    (r) => r.stdout,
    () => '',
  );
  return text
    .split('\n')
    .filter((line) => /^\d+$/.test(line.trim()))
    .map(Number);
}

/** Removes the namespaces of labs whose process is gone, killing what still runs inside them first. */
export async function removeStaleLabs(): Promise<string[]> {
  const names = (await ip(['netns', 'list'])).split('\n').map((line) => line.split(' ')[0]!);
  const stale = names.filter((name) => {
    const pid = Number(/^hschaos-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
  for (const name of stale) {
    for (const pid of await pidsIn(name)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await run('ip', ['netns', 'del', name]).catch(() => {});
  }
  return stale;
}

/**
 * A bridge namespace and `hosts` host namespaces joined to it. `label` keeps two labs of one
 * process apart (systems run side by side). `close()` deletes them all; the caller kills the
 * processes it started inside first.
 */
export class NetworkLab {
  readonly hosts: readonly Host[];
  readonly #bridge: string;
  #closed = false;

  private constructor(bridge: string, hosts: Host[]) {
    this.#bridge = bridge;
    this.hosts = hosts;
  }

  static async create(label: string, count: number): Promise<NetworkLab> {
    if (count > 250) throw new Error(`at most 250 hosts in a lab, asked for ${count}`);
    const stem = `${PREFIX}${process.pid}-${label}`;
    const bridge = `${stem}-br`;
    const hosts = Array.from({ length: count }, (_, index) => ({ index, namespace: `${stem}-h${index}`, address: `${SUBNET}.${index + 1}` }));
    const lab = new NetworkLab(bridge, hosts);
    trackLab(lab);
    try {
      await ip(['netns', 'add', bridge]);
      await ip(['-n', bridge, 'link', 'add', 'br0', 'type', 'bridge']);
      await ip(['-n', bridge, 'link', 'set', 'br0', 'up']);
      await Promise.all(hosts.map((host) => lab.#addHost(host)));
    } catch (error) {
      await lab.close();
      throw error;
    }
    return lab;
  }

  async #addHost(host: Host): Promise<void> {
    const port = `v${host.index}`;
    await ip(['netns', 'add', host.namespace]);
    await ip(['-n', this.#bridge, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.namespace]);
    await ip(['-n', this.#bridge, 'link', 'set', port, 'master', 'br0', 'up']);
    await ip(['-n', host.namespace, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
    await ip(['-n', host.namespace, 'link', 'set', 'eth0', 'up']);
    await ip(['-n', host.namespace, 'link', 'set', 'lo', 'up']);
  }

  /** Deletes every namespace of this lab (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    untrackLab(this);
    await Promise.all([...this.hosts.map((h) => h.namespace), this.#bridge].map((name) => run('ip', ['netns', 'del', name]).catch(() => {})));
  }

  /** The same, synchronously: for a process exiting on a signal, where nothing asynchronous runs any more. */
  closeNow(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const name of [...this.hosts.map((h) => h.namespace), this.#bridge]) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
}
