import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PROTOCOLS, type HearsayNode, type SerfStats } from 'hearsay';
import type { CoreStats } from 'hearsay/core';
import type { AgentStats } from './agent-stats.js';
import type { EventStreams } from './event-streams.js';
import type { LogMonitor } from './log-monitor.js';

/** Core counters exported as Prometheus counters: name, help, and the stat it follows. */
const CORE_COUNTERS: [string, string, Exclude<keyof CoreStats, 'dropped'>][] = [
  ['hearsay_probes_total', 'Probes sent', 'probes'],
  ['hearsay_probes_failed_total', 'Probes that got no ack by their deadline', 'probesFailed'],
  ['hearsay_indirect_pings_total', 'Indirect ping requests sent to helpers', 'indirectPings'],
  ['hearsay_relayed_pings_total', 'Indirect pings relayed for other members', 'relayedPings'],
  ['hearsay_tcp_pings_total', 'TCP fallback pings', 'tcpPings'],
  ['hearsay_nacks_sent_total', 'Nacks sent as a helper', 'nacksSent'],
  ['hearsay_nacks_received_total', 'Nacks received for our probes', 'nacksReceived'],
  ['hearsay_suspicions_total', 'Suspicions raised (first suspicion of a member here)', 'suspicionsRaised'],
  ['hearsay_refutations_total', 'Times this node refuted a rumour about itself', 'refutations'],
  ['hearsay_failures_declared_total', 'Members this node declared failed', 'failuresDeclared'],
  ['hearsay_stalls_total', 'Deadlines that found this node stalled (due over half a probe timeout ago), put back so that what arrived is read first', 'stalls'],
  ['hearsay_push_pulls_total', 'Push/pull exchanges started', 'pushPulls'],
  ['hearsay_messages_ignored_total', 'Messages ignored as stale, misaddressed or conflicting', 'messagesIgnored'],
  ['hearsay_heartbeat_tables_sent_total', 'Heartbeat tables (or table parts) gossiped', 'heartbeatTablesSent'],
  ['hearsay_heartbeat_tables_received_total', 'Heartbeat tables (or table parts) received', 'heartbeatTablesReceived'],
  ['hearsay_direct_heartbeats_total', 'Direct heartbeats sent (hybrid, pinned members)', 'directHeartbeatsSent'],
  ['hearsay_direct_acks_total', 'Direct heartbeats acknowledged within the RTT bound', 'directAcks'],
  ['hearsay_direct_acks_late_total', 'Direct heartbeats acknowledged after the RTT bound (not a sign of life)', 'directAcksLate'],
  ['hearsay_protocol_switches_total', 'Failure detector switches this node went through (its own and adopted ones)', 'protocolSwitches'],
];

/** Serf-layer counters (queries, keys, events caught up by push/pull). */
const SERF_COUNTERS: [string, string, Exclude<keyof SerfStats, 'dropped'>][] = [
  ['hearsay_queries_received_total', 'Distinct queries that reached this node (its own included)', 'queriesReceived'],
  ['hearsay_queries_asked_total', 'Queries this node asked', 'queriesAsked'],
  ['hearsay_query_acks_sent_total', 'Query acknowledgements sent', 'acksSent'],
  ['hearsay_query_responses_sent_total', 'Query answers sent (application and internal queries)', 'responsesSent'],
  ['hearsay_query_relays_total', 'Query answers relayed on for other members', 'relaysForwarded'],
  ['hearsay_key_changes_total', 'Keyring changes made by key queries', 'keyChanges'],
  ['hearsay_events_from_push_pull_total', 'Events first learnt from a peer’s push/pull state, not by gossip', 'eventsFromState'],
  ['hearsay_serf_messages_malformed_total', 'Serf messages (events, queries, relays, intents) that could not be decoded, dropped', 'malformed'],
];

/**
 * The node's metrics, and Node's process metrics, in a registry of its own. Counters follow the node's cumulative stats: at
 * each scrape each grows by what the stat grew since the previous one.
 */
export function createMetrics(node: HearsayNode, agent: AgentStats, streams: EventStreams, monitor?: LogMonitor): Registry {
  const registry = new Registry();
  // The process's own health (event-loop lag, heap, GC pauses, CPU, open fds): a late probe is often a busy process, not a slow network.
  collectDefaultMetrics({ register: registry });
  const seen = new Map<string, number>();
  const advance = (counter: Counter<string>, key: string, value: number, labels: Record<string, string> = {}) => {
    const delta = value - (seen.get(key) ?? 0);
    if (delta > 0) counter.inc(labels, delta);
    seen.set(key, value);
  };

  /** A counter that follows one cumulative stat of the node. */
  const follow = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        advance(this, name, read());
      },
    });
  for (const [name, help, stat] of CORE_COUNTERS) follow(name, help, () => node.stats.core[stat] as number);
  for (const [name, help, stat] of SERF_COUNTERS) follow(name, help, () => node.stats.serf[stat]);
  follow('hearsay_query_handler_runs_total', 'Query handler commands started (--query-handler)', () => agent.queryHandlerRuns);

  new Gauge({
    name: 'hearsay_members',
    help: 'Members in this node’s list, by status',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const counts: Record<string, number> = { alive: 0, suspect: 0, failed: 0, left: 0 };
      for (const member of node.members()) counts[member.status]!++;
      for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
    },
  });
  new Gauge({
    name: 'hearsay_protocol',
    help: 'The failure detector in use: 1 for it, 0 for the others',
    labelNames: ['protocol'],
    registers: [registry],
    collect() {
      for (const protocol of PROTOCOLS) this.set({ protocol }, protocol === node.protocol ? 1 : 0);
    },
  });
  new Gauge({
    name: 'hearsay_protocol_epoch',
    help: 'Epoch of the detector switch in force (0: the detector the agent started with)',
    registers: [registry],
    collect() {
      this.set(node.protocolSwitch.epoch);
    },
  });
  new Gauge({
    name: 'hearsay_health_score',
    help: 'Lifeguard local health score (0 is healthy); probe timing is scaled by score + 1',
    registers: [registry],
    collect() {
      this.set(node.stats.healthScore);
    },
  });
  new Gauge({
    name: 'hearsay_broadcast_queue_depth',
    help: 'Updates waiting to be gossiped',
    registers: [registry],
    collect() {
      this.set(node.stats.broadcastQueue);
    },
  });
  new Counter({
    name: 'hearsay_packets_total',
    help: 'UDP packets, by direction',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      const { traffic } = node.stats;
      advance(this, 'packets-in', traffic.packetsIn, { direction: 'in' });
      advance(this, 'packets-out', traffic.packetsOut, { direction: 'out' });
    },
  });
  new Counter({
    name: 'hearsay_bytes_total',
    help: 'UDP bytes, by direction',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      const { traffic } = node.stats;
      advance(this, 'bytes-in', traffic.bytesIn, { direction: 'in' });
      advance(this, 'bytes-out', traffic.bytesOut, { direction: 'out' });
    },
  });
  new Counter({
    name: 'hearsay_messages_total',
    help: 'Messages inside UDP packets, by direction and message type',
    labelNames: ['direction', 'type'],
    registers: [registry],
    collect() {
      const { traffic } = node.stats;
      for (const [type, count] of Object.entries(traffic.messagesIn)) advance(this, `in-${type}`, count ?? 0, { direction: 'in', type });
      for (const [type, count] of Object.entries(traffic.messagesOut)) advance(this, `out-${type}`, count ?? 0, { direction: 'out', type });
    },
  });
  new Counter({
    name: 'hearsay_dropped_total',
    help: 'Packets, streams, messages, API requests and handler runs dropped, by the layer that dropped them (network, core, serf, agent) and why',
    labelNames: ['layer', 'reason'],
    registers: [registry],
    collect() {
      const { traffic, core, serf } = node.stats;
      for (const [layer, dropped] of [
        ['network', traffic.dropped],
        ['core', core.dropped],
        ['serf', serf.dropped],
        ['agent', agent.dropped],
      ] as const) {
        for (const [reason, count] of Object.entries(dropped)) advance(this, `drop-${layer}-${reason}`, count, { layer, reason });
      }
    },
  });
  new Gauge({
    name: 'hearsay_event_stream_clients',
    help: 'Clients following GET /v1/events',
    registers: [registry],
    collect() {
      this.set(streams.clients);
    },
  });
  new Gauge({
    name: 'hearsay_event_stream_buffered_bytes',
    help: 'Bytes written to event stream clients that their sockets have not taken yet',
    registers: [registry],
    collect() {
      this.set(streams.bufferedBytes);
    },
  });
  new Gauge({
    name: 'hearsay_monitor_clients',
    help: 'Clients following GET /v1/monitor (the agent log)',
    registers: [registry],
    collect() {
      this.set(monitor?.clients ?? 0);
    },
  });
  // Views (issue 18): a digest of which members this node holds alive or suspect at which incarnation.
  // Scraped from every agent, `count(count_values("digest", hearsay_view_digest)) > 1` for minutes is a split that does not heal.
  new Gauge({
    name: 'hearsay_view_digest',
    help: 'This node’s view digest (u32 over the members it holds alive or suspect and their incarnations): equal on agents that agree',
    registers: [registry],
    collect() {
      this.set(node.views().digest);
    },
  });
  new Gauge({
    name: 'hearsay_view_distinct',
    help: 'Distinct view digests among this node’s and those of the peers heard in the last 10 probe intervals (1: they agree)',
    registers: [registry],
    collect() {
      this.set(node.views().distinct);
    },
  });
  new Gauge({
    name: 'hearsay_view_differing_peers',
    help: 'Peers heard in the last 10 probe intervals whose view digest differs from this node’s',
    registers: [registry],
    collect() {
      this.set(node.views().differing.length);
    },
  });
  new Gauge({
    name: 'hearsay_degraded_peers',
    help: 'Members this node reaches only through indirect helpers or TCP (its direct pings fail): degraded pairs',
    registers: [registry],
    collect() {
      this.set(node.degradedPeers().length);
    },
  });
  const degradedPairs = new Counter({
    name: 'hearsay_degraded_pairs_total',
    help: 'Degraded pairs that started: a member answered this node’s probes only through helpers or TCP twice in a row',
    registers: [registry],
  });
  node.on('degraded', (_member, degraded) => {
    if (degraded) degradedPairs.inc();
  });
  const rtt = new Histogram({
    name: 'hearsay_probe_rtt_seconds',
    help: 'Round-trip time of answered probes and direct heartbeats',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  node.on('rtt', (_member, ms) => rtt.observe(ms / 1000));
  return registry;
}
