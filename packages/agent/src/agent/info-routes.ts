import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { arch, cpus, platform, release } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { STATUSES } from 'hearsay/core';
import type { HearsayNode } from 'hearsay';
import { formatAddress } from 'hearsay/wire';
import type { Readiness } from './readiness.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** A Lamport clock as JSON: a number while a JSON reader keeps it exact, decimal text beyond (Serf's are uint64). */
function clockJson(time: bigint): number | string {
  return time <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(time) : time.toString();
}

/** What `serf info` tells about its agent, in sections, for this agent and its node now. */
export function agentInfo(node: HearsayNode, http: string, readiness: Readiness) {
  const self = node.self;
  const members = node.members();
  const byStatus = Object.fromEntries(STATUSES.map((status) => [status, members.filter((member) => member.status === status).length]));
  const memory = process.memoryUsage();
  const stats = node.stats;
  const clocks = node.clocks;
  const views = node.views();
  return {
    agent: { name: node.name, gossip: formatAddress(node.address), advertise: formatAddress(node.advertised), http },
    runtime: {
      node: process.version,
      os: platform(),
      osRelease: release(),
      arch: arch(),
      cpus: cpus().length,
      pid: process.pid,
      uptimeSeconds: Math.round(process.uptime()),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
    },
    protocol: {
      failureDetector: node.protocol,
      switchEpoch: node.protocolSwitch.epoch,
      memberlist: self.versions.protocol,
      serf: self.versions.delegate,
    },
    encryption: { enabled: node.keys !== undefined, keys: node.keys?.length ?? 0 },
    counts: {
      members: members.length,
      ...byStatus,
      memberTime: clockJson(clocks.member),
      eventTime: clockJson(clocks.event),
      queryTime: clockJson(clocks.query),
      queriesAsked: stats.serf.queriesAsked,
      queriesReceived: stats.serf.queriesReceived,
      broadcastQueue: stats.broadcastQueue,
    },
    health: { score: stats.healthScore, ready: readiness.ready, reasons: readiness.reasons },
    // Whether this node's view of the membership agrees with its peers' (GET /v1/views has the names).
    views: { digest: views.digest, distinct: views.distinct, differing: views.differing.length, degraded: node.degradedPeers().length },
    versions: {
      hearsay: version,
      node: process.versions.node,
      memberlistProtocol: self.versions.protocol.current,
      serfProtocol: self.versions.delegate.current,
    },
    tags: self.tags,
  };
}

/** GET /v1/info: Serf's `serf info`, the agent, its runtime, protocol, encryption, counts, health and versions. */
export function registerInfoRoutes(app: FastifyInstance, node: HearsayNode, readiness: () => Readiness): void {
  app.get('/v1/info', async () => {
    const { address, port } = app.server.address() as AddressInfo;
    return agentInfo(node, formatAddress({ host: address, port }), readiness());
  });
}
