/**
 * A private DNS server for the discovery tests: dnsmasq on 127.0.0.1 and a free port, serving
 * A/AAAA records from a hosts file that a test rewrites (SIGHUP makes dnsmasq read it again) and
 * SRV records fixed at start. Nothing else: no upstream, no /etc/hosts, no DHCP, and names under
 * its domain that it does not list are answered NXDOMAIN rather than refused.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { promises as dns } from 'node:dns';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.js';

const DNSMASQ = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((path) => spawnSync(path, ['--version']).status === 0);

/** Whether dnsmasq is installed (Debian's dnsmasq-base; .ci/run installs it). */
export const HAVE_DNSMASQ = DNSMASQ !== undefined;

/** Name → its addresses (IPv4 and IPv6 alike). */
export type HostRecords = Record<string, readonly string[]>;

/** An SRV record: `name` (like `_hearsay._udp.cluster.test`) served by `target:port`. */
export interface SrvRecordSpec {
  readonly name: string;
  readonly target: string;
  readonly port: number;
  readonly priority?: number;
  readonly weight?: number;
}

export interface Dnsmasq {
  /** `127.0.0.1:port`, for `dnsServers`. */
  readonly server: string;
  /** Replaces every A/AAAA record and returns once dnsmasq answers with the new ones. */
  setHosts(hosts: HostRecords): Promise<void>;
  stop(): Promise<void>;
}

const START_ATTEMPTS = 5;

function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

const hostsText = (hosts: HostRecords) =>
  Object.entries(hosts)
    .flatMap(([name, addresses]) => addresses.map((address) => `${address} ${name}\n`))
    .join('');

/** What dnsmasq answers for `name`, A and AAAA together, sorted; [] when it has none. */
async function answered(resolver: dns.Resolver, name: string): Promise<string[]> {
  const results = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
  return results.flatMap((result) => (result.status === 'fulfilled' ? result.value : [])).sort();
}

/** Starts dnsmasq for `domain` (default `test`); retries on another port if the probed one was taken meanwhile. */
export async function startDnsmasq(options: { hosts?: HostRecords; srv?: readonly SrvRecordSpec[]; domain?: string } = {}): Promise<Dnsmasq> {
  if (!DNSMASQ) throw new Error('dnsmasq is not installed (Debian: apt-get install dnsmasq-base)');
  const directory = mkdtempSync(join(tmpdir(), 'hearsay-dnsmasq-'));
  const hostsFile = join(directory, 'hosts');
  let hosts = options.hosts ?? {};
  writeFileSync(hostsFile, hostsText(hosts));
  let lastError = '';
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freeUdpPort();
    const args = [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      `--addn-hosts=${hostsFile}`,
      `--local=/${options.domain ?? 'test'}/`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      `--port=${port}`,
      '--pid-file=',
      '--log-facility=-',
      ...(process.getuid?.() === 0 ? ['--user=root'] : []),
      ...(options.srv ?? []).map((r) => `--srv-host=${r.name},${r.target},${r.port},${r.priority ?? 0},${r.weight ?? 0}`),
    ];
    const child = spawn(DNSMASQ, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const resolver = new dns.Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    // Answering at all (an NXDOMAIN for a name it does not list) means it is up.
    const isUp = () =>
      child.exitCode === null &&
      resolver.resolve4(`probe.${options.domain ?? 'test'}`).then(
        () => true,
        (error: NodeJS.ErrnoException) => error.code === 'ENOTFOUND' || error.code === 'ENODATA',
      );
    try {
      await waitFor('dnsmasq to answer', async () => child.exitCode !== null || (await isUp()), { timeoutMs: 10_000, intervalMs: 20 });
    } catch (error) {
      child.kill('SIGKILL');
      await exited;
      rmSync(directory, { recursive: true, force: true });
      throw error;
    }
    if (child.exitCode !== null) {
      lastError = stderr;
      if (/in use/i.test(stderr)) continue;
      break;
    }
    return {
      server: `127.0.0.1:${port}`,
      async setHosts(next) {
        const names = new Set([...Object.keys(hosts), ...Object.keys(next)]);
        hosts = next;
        writeFileSync(hostsFile, hostsText(hosts));
        kill(child, 'SIGHUP');
        for (const name of names) {
          const want = [...(next[name] ?? [])].sort().join(',');
          await waitFor(`dnsmasq to answer ${name} with [${want}]`, async () => (await answered(resolver, name)).join(',') === want, {
            timeoutMs: 5000,
            intervalMs: 20,
          });
        }
      },
      async stop() {
        if (child.exitCode === null) {
          kill(child, 'SIGTERM');
          await exited;
        }
        rmSync(directory, { recursive: true, force: true });
      },
    };
  }
  rmSync(directory, { recursive: true, force: true });
  throw new Error(`dnsmasq did not start: ${lastError.trim()}`);
}

/** Signals dnsmasq by the PID it was started with, never by name. */
function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid !== undefined) process.kill(child.pid, signal);
}
