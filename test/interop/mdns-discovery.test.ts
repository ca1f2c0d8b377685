/**
 * `hearsay agent --discover NAME` against `serf agent -discover NAME`: each finds the other by
 * mDNS on one link. The link is the loopback of a network namespace made for each test, with
 * multicast switched on and routed to it (224.0.0.0/4 and ff00::/8: Serf's browser gives up when
 * either family cannot send), so that nothing else on this machine answers or hears the queries.
 * A fresh namespace owns all its ports: fixed ones inside it collide with nothing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { parseMembersJson, SERF_BIN, serfAvailable } from './serf-harness.js';

const cli = fileURLToPath(new URL('../../packages/agent/dist/cli/main.js', import.meta.url));
const SERF = { gossip: 7946, rpc: 7373 };
const HEARSAY = { gossip: 7947, http: 17_947 };

function netnsUsable(): boolean {
  return process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status === 0;
}
const skipReason = !netnsUsable() ? 'needs root and `ip netns` (iproute2)' : !serfAvailable() ? `needs Serf (${SERF_BIN})` : undefined;

const namespaces = new Set<string>();
const processes = new Set<ChildProcess>();

function ip(...args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
}

/** A namespace whose loopback carries multicast. */
function createNamespace(): string {
  const name = `hearsay-mdns-${process.pid}-${namespaces.size}`;
  ip('netns', 'add', name);
  namespaces.add(name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
  ip('-n', name, 'link', 'set', 'lo', 'multicast', 'on');
  ip('-n', name, 'route', 'add', '224.0.0.0/4', 'dev', 'lo');
  ip('-n', name, '-6', 'route', 'replace', 'ff00::/8', 'dev', 'lo', 'table', 'local');
  return name;
}

/** `ip netns exec` runs the command in place of itself: the PID is the command's. */
function startIn(namespace: string, command: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn('ip', ['netns', 'exec', namespace, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
  processes.add(child);
  child.on('exit', () => processes.delete(child));
  let text = '';
  child.stdout!.on('data', (chunk) => (text += chunk));
  child.stderr!.on('data', (chunk) => (text += chunk));
  return { child, output: () => text };
}

function runIn(namespace: string, command: string[]): string {
  const result = spawnSync('ip', ['netns', 'exec', namespace, ...command], { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0) throw new Error(`${command.join(' ')}: ${result.stderr.trim() || result.stdout.trim()}`);
  return result.stdout;
}

function startSerf(namespace: string) {
  const address = `127.0.0.1:${SERF.gossip}`;
  const serf = startIn(namespace, [
    SERF_BIN,
    'agent',
    '-node',
    'serf-1',
    '-bind',
    address,
    '-rpc-addr',
    `127.0.0.1:${SERF.rpc}`,
    '-discover',
    'interop',
    '-log-level',
    'debug',
  ]);
  return { ...serf, address, members: () => parseMembersJson(runIn(namespace, [SERF_BIN, 'members', '-format', 'json', `-rpc-addr=127.0.0.1:${SERF.rpc}`])) };
}

function startHearsay(namespace: string) {
  const address = `127.0.0.1:${HEARSAY.gossip}`;
  const http = `127.0.0.1:${HEARSAY.http}`;
  const agent = startIn(namespace, [process.execPath, cli, 'agent', '--name', 'hearsay-1', '--bind', address, '--http', http, '--discover', 'interop']);
  const members = () => JSON.parse(runIn(namespace, [process.execPath, cli, 'members', '--json', '--http', http])) as { name: string; status: string }[];
  return { ...agent, address, members };
}

const bothAlive = (members: { name: string; status: string }[]) =>
  ['serf-1', 'hearsay-1'].every((name) => members.some((m) => m.name === name && m.status === 'alive'));

async function stopAll(): Promise<void> {
  await Promise.all(
    [...processes].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          process.kill(child.pid!, 'SIGKILL');
        }),
    ),
  );
  for (const name of namespaces) spawnSync('ip', ['netns', 'delete', name]);
  namespaces.clear();
}
afterEach(stopAll);
afterAll(stopAll);

describe.skipIf(skipReason !== undefined)(`mDNS discovery with Serf's -discover${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const seen = { timeoutMs: 20_000, intervalMs: 200, retryErrors: true };

  it("Serf's browser finds a hearsay agent's responder, and both list each other alive", async () => {
    const namespace = createNamespace();
    const hearsay = startHearsay(namespace);
    await waitFor('the hearsay agent advertising', () => hearsay.output().includes('mDNS discovery started'), { timeoutMs: 15_000 });
    // Serf asks once at start (then every 60 s): what it finds now it found from hearsay's answer.
    const serf = startSerf(namespace);
    await waitFor('Serf joining the address hearsay advertised', () => new RegExp(`agent: joining: \\[[^\\]]*${hearsay.address}`).test(serf.output()), {
      ...seen,
      detail: serf.output,
    });
    await waitFor('both alive at Serf', () => bothAlive(serf.members()), { ...seen, detail: serf.output });
    await waitFor('both alive at hearsay', () => bothAlive(hearsay.members()), { ...seen, detail: hearsay.output });
  });

  it("hearsay's browser finds a Serf agent's responder, and both list each other alive", async () => {
    const namespace = createNamespace();
    const serf = startSerf(namespace);
    await waitFor('Serf answering', () => serf.members().length === 1, { ...seen, detail: serf.output });
    const hearsay = startHearsay(namespace);
    const joined = await waitFor(
      'hearsay joining the Serf agent it found',
      () =>
        hearsay
          .output()
          .split('\n')
          .find((line) => line.includes('joined peers found by mDNS')),
      { ...seen, detail: hearsay.output },
    );
    expect(JSON.parse(joined)).toMatchObject({ cluster: 'interop', peers: [serf.address], contacted: 1 });
    await waitFor('both alive at hearsay', () => bothAlive(hearsay.members()), { ...seen, detail: hearsay.output });
    await waitFor('both alive at Serf', () => bothAlive(serf.members()), { ...seen, detail: serf.output });
    expect(hearsay.output()).not.toMatch(/"level":50/);
  });

  it('drops and counts packets it cannot decode, answers past them, and holds to its budget of answers per interval', async () => {
    const namespace = createNamespace();
    const hearsay = startHearsay(namespace);
    await waitFor('the hearsay agent advertising', () => hearsay.output().includes('mDNS discovery started'), { timeoutMs: 15_000 });
    const probed = runIn(namespace, [process.execPath, '--input-type=module', '-e', PROBE]);
    const reply = JSON.parse(probed) as { id: number; answers: number; replies: number };
    // The query's id comes back (legacy unicast), with PTR, SRV, TXT and A. 600 more queries span at
    // most two of the browser's intervals (≥ 1 s each; the burst takes far less), so one of them
    // holds more than its budget of 256 answers: some go unanswered, counted.
    expect(reply).toMatchObject({ id: 0x1234, answers: 4 });
    expect(reply.replies).toBeLessThanOrEqual(2 * 256);
    const metrics = runIn(namespace, [process.execPath, '-e', `fetch('http://127.0.0.1:${HEARSAY.http}/metrics').then((r) => r.text()).then(console.log)`]);
    expect(metrics).toMatch(/hearsay_dropped_total\{layer="agent",reason="mdns-malformed"\} 50\b/);
    expect(metrics).toMatch(/hearsay_dropped_total\{layer="agent",reason="mdns-queries-over-budget"\} [1-9]/);
    expect(hearsay.child.exitCode).toBeNull();
  });
});

/**
 * Run in the namespace: 50 undecodable datagrams to the mDNS group, then 601 PTR queries for
 * `_serf_interop._tcp.local` from one port; prints the first answer's id and record count, and
 * how many answers came back in all.
 */
const PROBE = `
import dgram from 'node:dgram';
const socket = dgram.createSocket('udp4');
await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
for (let i = 0; i < 50; i++) socket.send(Buffer.from([0xde, 0xad, i]), 5353, '224.0.0.251');
const name = Buffer.concat(['_serf_interop', '_tcp', 'local'].map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)])).concat(Buffer.from([0])));
const query = (id) => Buffer.concat([Buffer.from([id >> 8, id & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), name, Buffer.from([0, 12, 0, 1])]);
let first, replies = 0;
socket.on('message', (message) => {
  replies++;
  first ??= { id: message.readUInt16BE(0), answers: message.readUInt16BE(6) };
});
socket.send(query(0x1234), 5353, '224.0.0.251');
// Paced, so that no kernel buffer drops what the budget is to drop.
for (let i = 0; i < 600; i++) await new Promise((resolve) => socket.send(query(i), 5353, '224.0.0.251', resolve));
setTimeout(() => { console.log(JSON.stringify({ ...first, replies })); socket.close(); }, 500);
`;
