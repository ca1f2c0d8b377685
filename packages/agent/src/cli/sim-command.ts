import { Command, InvalidArgumentError, Option } from 'commander';
import { PROTOCOLS, type Protocol } from 'hearsay/core';
import { buildSimulation, type SimOptions, type SimResult, summarize, type VerdictTrace, verdictTraces } from 'hearsay/sim';
import {
  collect,
  parseCrash,
  parseDuration,
  parseEvent,
  parseLink,
  parsePartition,
  parsePause,
  parsePositiveCount,
  parseProbability,
  parseQuery,
  parseRestart,
  parseSeed,
  parseSwitch,
} from './parse.js';
import { addHeartbeatAliases, addTimingOptions, timingOverrides } from './timing-options.js';
import { groupLine, groupVerdicts, secondsSince } from './verdict-text.js';

interface SimFlags {
  nodes: number;
  seed: number;
  duration: number;
  loss: number;
  delay: number;
  jitter: number;
  profile: 'lan' | 'local' | 'wan';
  start: 'join' | 'converged';
  joinWindow: number;
  crash?: number | string[];
  crashAt?: number;
  crashEvery?: number;
  pause?: { name: string; atMs: number; forMs: number }[];
  partition?: { atMs: number; forMs: number; names: string[] | null }[];
  restart?: { name: string; atMs: number }[];
  leave?: { name: string; atMs: number }[];
  link?: { between: [string, string]; loss: number; delayMs?: number; jitterMs?: number }[];
  switch?: { protocol: Protocol; atMs: number; via?: string }[];
  pin?: { observer: string; members: string[] }[];
  event?: { name: string; atMs: number; from?: string }[];
  query?: { name: string; atMs: number; from?: string }[];
  trace?: string[];
  json?: boolean;
  byteCounting: 'wire' | 'estimate';
  protocol: Protocol;
  [key: string]: unknown;
}

/** `n0=n5,n7`: n0 monitors n5 and n7 directly. */
function parsePin(text: string): { observer: string; members: string[] } {
  const match = /^([^=\s]+)=([^=\s]+)$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`"${text}" is not a pin: use NAME=M1,M2, like n0=n5,n7`);
  const members = match[2]!.split(',').filter((name) => name !== '');
  if (members.length === 0) throw new InvalidArgumentError(`"${text}" names no member to monitor`);
  return { observer: match[1]!, members };
}

/** `n7` or `n7,n9`: members whose verdicts to explain (repeatable); names are checked against the run. */
function parseTrace(text: string, previous: string[] | undefined): string[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError(`"${text}" names no node to trace: use NAME or N1,N2, like n7`);
  return [...new Set([...(previous ?? []), ...names])];
}

/** How many groups of episodes `--trace` prints per member. */
export const TRACE_GROUPS_SHOWN = 20;

export function simCommand(): Command {
  const command = new Command('sim')
    .description('simulate a cluster on virtual time with the real protocol core and report what happened')
    .addOption(new Option('--nodes <n>', 'cluster size (nodes are named n0 … n{N−1})').argParser(parsePositiveCount).default(50))
    .addOption(new Option('--seed <n>', 'random seed; the same seed gives the same result').argParser(parseSeed).default(1))
    .addOption(new Option('--duration <duration>', 'virtual time to simulate').argParser(parseDuration).default(60_000, '60s'))
    .addOption(new Option('--loss <p>', 'probability that a UDP packet is lost').argParser(parseProbability).default(0))
    .addOption(new Option('--delay <duration>', 'one-way network delay').argParser(parseDuration).default(1, '1ms'))
    .addOption(new Option('--jitter <duration>', 'extra random delay, up to this much').argParser(parseDuration).default(1, '1ms'))
    .addOption(new Option('--profile <name>', 'memberlist timing profile').choices(['lan', 'local', 'wan']).default('lan'))
    .addOption(
      new Option(
        '--protocol <name>',
        'failure detector: swim; heartbeat gossip; or hybrid, direct heartbeats to all up to --hybrid-threshold members (tune with --period, --fanout, --suspect-after, --fail-after, --cleanup-after, --phi)',
      )
        .choices(PROTOCOLS)
        .default('swim'),
    )
    .addOption(
      new Option(
        '--switch <PROTOCOL@AT[=NAME]>',
        'at AT, NAME (default: the first running node) switches the whole cluster to PROTOCOL (repeatable)',
      ).argParser(collect(parseSwitch)),
    )
    .addOption(
      new Option('--pin <NAME=M1,M2>', 'NAME monitors M1, M2 … by direct heartbeats under the heartbeat detectors, whatever the size (repeatable)').argParser(
        collect(parsePin),
      ),
    )
    .addOption(
      new Option('--start <how>', 'join: everyone joins through n0; converged: everyone starts knowing everyone')
        .choices(['join', 'converged'])
        .default('join'),
    )
    .addOption(new Option('--join-window <duration>', 'joins happen at random times within this window').argParser(parseDuration).default(1000, '1s'))
    .addOption(new Option('--crash <k|names>', 'crash K random nodes, or the listed ones (n5,n9)').argParser(parseCrash))
    .addOption(new Option('--crash-at <duration>', 'when the crashes happen (default: a quarter of the duration)').argParser(parseDuration))
    .addOption(new Option('--crash-every <duration>', 'spread the crashes this far apart').argParser(parseDuration))
    .addOption(new Option('--pause <NAME@AT+FOR>', 'stop a node for a while, then resume it (repeatable)').argParser(collect(parsePause)))
    .addOption(
      new Option('--partition <AT+FOR[=names]>', 'cut the cluster in halves (or the named nodes off) and heal it (repeatable)').argParser(
        collect(parsePartition),
      ),
    )
    .addOption(new Option('--restart <NAME@AT>', 'crash a node and start it again with the same name (repeatable)').argParser(collect(parseRestart)))
    .addOption(new Option('--leave <NAME@AT>', 'a node leaves gracefully (repeatable)').argParser(collect(parseRestart)))
    .addOption(
      new Option('--event <NAME@AT[=NODE]>', 'at AT, NODE (default: the first running node) broadcasts a Serf user event NAME (repeatable)').argParser(
        collect(parseEvent),
      ),
    )
    .addOption(
      new Option('--query <NAME@AT[=NODE]>', 'at AT, NODE (default: the first running node) asks a Serf query NAME; every node answers (repeatable)').argParser(
        collect(parseQuery),
      ),
    )
    .addOption(new Option('--link <A:B:LOSS[:DELAY[:JITTER]]>', 'loss and delay of one link, both ways (repeatable)').argParser(collect(parseLink)))
    .addOption(
      new Option('--byte-counting <how>', 'wire: encode every packet with the real encoder; estimate: sum message sizes (faster)')
        .choices(['wire', 'estimate'])
        .default('wire'),
    )
    .addOption(
      new Option(
        '--trace <names>',
        'after the run, explain every verdict the other nodes reached about these nodes: who suspected them, on what evidence, how it ended (repeatable, or n3,n7)',
      ).argParser(parseTrace),
    )
    .option('--json', 'print exactly one JSON object on stdout');
  addHeartbeatAliases(command);
  addTimingOptions(command);
  command.action((flags: SimFlags) => {
    const options = simOptionsFrom(flags);
    const traced = flags.trace ?? [];
    const wallStart = performance.now();
    const sim = buildSimulation(options);
    for (const name of traced) sim.indexOf(name); // a ConfigError before the run, not after
    sim.runUntil(sim.options.durationMs);
    const result = summarize(sim, options, performance.now() - wallStart);
    const traces = verdictTraces(sim, traced);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(traced.length > 0 ? { ...result, traces: tracesJson(traces) } : result)}\n`);
    } else {
      process.stdout.write(
        humanSummary(result) +
          traceLines(traces, TRACE_GROUPS_SHOWN, sim.options.durationMs)
            .map((line) => `${line}\n`)
            .join(''),
      );
    }
  });
  return command;
}

/** The simulation the flags ask for; the simulator checks the node names (n0 …) they hold, as a ConfigError. */
export function simOptionsFrom(flags: SimFlags): SimOptions {
  const n = flags.nodes;
  const half = Math.floor(n / 2);
  const options: SimOptions = {
    nodes: n,
    seed: flags.seed,
    durationMs: flags.duration,
    profile: flags.profile,
    config: timingOverrides(flags),
    loss: flags.loss,
    delayMs: flags.delay,
    jitterMs: flags.jitter,
    start: flags.start,
    joinWindowMs: flags.joinWindow,
    byteCounting: flags.byteCounting,
    protocol: flags.protocol,
    pauses: flags.pause ?? [],
    restarts: flags.restart ?? [],
    leaves: flags.leave ?? [],
    links: flags.link ?? [],
    switches: flags.switch ?? [],
    userEvents: flags.event ?? [],
    queries: flags.query ?? [],
    pinned: Object.fromEntries((flags.pin ?? []).map((p) => [p.observer, p.members])),
    partitions: (flags.partition ?? []).map((p) => ({
      atMs: p.atMs,
      healAtMs: p.atMs + p.forMs,
      groups: [p.names ?? Array.from({ length: half }, (_, i) => `n${i}`)],
    })),
  };
  if (flags.crash !== undefined) options.crash = flags.crash;
  if (flags.crashAt !== undefined) options.crashAtMs = flags.crashAt;
  if (flags.crashEvery !== undefined) options.crashEveryMs = flags.crashEvery;
  return options;
}

const seconds = (ms: number | null): string => (ms === null ? 'never' : `${(ms / 1000).toFixed(2)} s`);

export function humanSummary(r: SimResult): string {
  const lines = [
    `Simulated ${r.nodes} nodes (${r.protocol}, ${r.profile} profile, seed ${r.seed}) for ${seconds(r.duration_ms)} of virtual time, loss ${(r.loss * 100).toFixed(1)}%, start: ${r.start}`,
    `  converged at:           ${seconds(r.converged_at_ms)}${r.converged_at_end ? `, and for good from ${seconds(r.settled_at_ms)}` : ' (not converged at the end)'}`,
  ];
  if (r.crashes.length > 0) {
    lines.push(`  crashes:                ${r.crashes.length}`);
    for (const c of r.crashes) {
      lines.push(
        `    ${c.name.padEnd(8)} at ${seconds(c.at_ms).padEnd(9)} first suspected after ${seconds(c.first_suspect_ms).padEnd(8)} failed everywhere after ${seconds(c.all_failed_ms)}`,
      );
    }
    lines.push(
      `  mean first suspicion:   ${seconds(r.mean_first_suspect_ms)}`,
      ...(r.expected_first_suspect_ms === null
        ? []
        : [
            `    SWIM's expectation:   ${seconds(r.expected_first_suspect_ms)} (e/(e−1) probe periods to the first probe + one probe)`,
            `    continuous-time:      ${seconds(r.expected_first_suspect_continuous_ms)} ((N−1)/(L+1) periods to the first probe + one probe)`,
          ]),
      `  mean full detection:    ${seconds(r.mean_all_failed_ms)}`,
    );
  }
  for (const l of r.leaves) {
    lines.push(`  left:                   ${l.name} at ${seconds(l.at_ms)}, known as left everywhere after ${seconds(l.all_left_ms)}`);
  }
  for (const s of r.switches) {
    lines.push(
      s.epoch === null
        ? `${`  switch to ${s.protocol}:`.padEnd(26)}asked of ${s.via} at ${seconds(s.at_ms)}, which was not running`
        : `${`  switch to ${s.protocol}:`.padEnd(26)}via ${s.via} at ${seconds(s.at_ms)}, adopted everywhere after ${seconds(s.all_switched_ms)}`,
    );
  }
  for (const e of r.user_events) {
    lines.push(
      `${`  event ${e.name}:`.padEnd(26)}from ${e.from} at ${seconds(e.at_ms)}, delivered ${e.delivered}/${e.live}, ${e.duplicates} duplicates, all after ${seconds(e.all_delivered_ms)}`,
    );
  }
  for (const q of r.queries) {
    lines.push(`${`  query ${q.name}:`.padEnd(26)}from ${q.from} at ${seconds(q.at_ms)}, ${q.acks} acks and ${q.responses} answers of ${q.live} live nodes`);
  }
  const load = r.load_per_round;
  lines.push(
    `  false positives:        ${r.false_positives}`,
    `  suspicions / refuted:   ${r.suspicions} / ${r.refutations}`,
    `  load per node:          ${r.msgs_per_node_per_s.toFixed(2)} msgs/s, ${r.bytes_per_node_per_s.toFixed(0)} bytes/s (${
      r.bytes_are_estimates ? 'estimated from message sizes, before compression' : 'memberlist wire encoding, compressed, unencrypted'
    })`,
    `  load per ${seconds(r.round_ms)} round:`.padEnd(26) +
      `${load.messages.toFixed(0)} detector messages (${load.tables.toFixed(0)} tables in ${load.table_packets.toFixed(0)} packets, ${load.pings.toFixed(0)} pings, ${load.acks.toFixed(0)} acks); ${load.packets.toFixed(0)} packets in all`,
    `  wall time:              ${r.wall_ms} ms for ${r.events_processed} events`,
    '',
  );
  return lines.join('\n');
}

/** The traces as `--json` prints them: each episode is its observer and the verdict record, flat. */
export function tracesJson(traces: readonly VerdictTrace[]): object[] {
  return traces.map(({ member, episodes, degraded }) => ({
    member,
    episodes: episodes.map(({ observer, record }) => ({ observer, ...record })),
    degraded,
  }));
}

/**
 * What `--trace` prints: per member, the episodes of the nodes that suspected it or declared it
 * failed, identical explanations together (times in seconds since the start of the run), the
 * first TRACE_GROUPS_SHOWN groups and a count of the rest; then its degraded pairs. `end`: the
 * run's end, for how long a suspicion still running then had run.
 */
export function traceLines(traces: readonly VerdictTrace[], shown = TRACE_GROUPS_SHOWN, end?: number): string[] {
  const time = secondsSince(0);
  const lines: string[] = [];
  for (const { member, episodes, degraded } of traces) {
    if (episodes.length === 0 && degraded.length === 0) {
      lines.push(`Verdicts about ${member}: none (no live node suspected it or heard it failed)`);
      continue;
    }
    const observers = new Set(episodes.map((e) => e.observer)).size;
    lines.push(`Verdicts about ${member}: ${episodes.length} episodes at ${observers} nodes (times since the start of the run)`);
    const groups = groupVerdicts(episodes, time, end);
    for (const group of groups.slice(0, shown)) lines.push(`  ${groupLine(group)}`);
    const rest = groups.slice(shown);
    if (rest.length > 0) {
      const restEpisodes = rest.reduce((sum, group) => sum + group.observers.length, 0);
      lines.push(`  … and ${restEpisodes} more episodes in ${rest.length} more groups (--json lists them all)`);
    }
    for (const pair of degraded) {
      lines.push(`  ${pair.observer} reaches ${member} only through helpers or TCP (a degraded pair) since ${time(pair.since)}`);
    }
  }
  return lines;
}
