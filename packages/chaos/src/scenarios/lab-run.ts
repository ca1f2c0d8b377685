/**
 * One run of one scenario variant with real agents: a fresh lab of namespaces, one agent per
 * host, the cluster formed through n0, then the timeline (the same as the simulator's) played
 * on the wall clock, then everything killed and deleted. What it yields is a record of what
 * happened, from which the figures are computed as the simulator's are.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AgentKind, GOSSIP_PORT, LabAgent, type StampedFact } from '../lab/agents.js';
import { HostFaults } from '../lab/faults.js';
import { NetworkLab } from '../lab/namespaces.js';
import type { ScenarioSpec, SystemName } from '../types.js';
import { FLAP_HALF_PERIOD_MS, memberName, type Timeline, timelineOf } from './plan.js';

/** How long the cluster may take to form before the run is given up. */
const FORMATION_TIMEOUT_MS = 90_000;

/** A time interval (ms on the run's clock, 0 = formed); `toMs` Infinity while it lasts. */
export interface Interval {
  readonly fromMs: number;
  toMs: number;
}

/** What one run in the lab recorded, on a clock whose 0 is the formed cluster. */
export interface LabRecord {
  readonly spec: ScenarioSpec;
  readonly rep: number;
  readonly system: Exclude<SystemName, 'sim'>;
  readonly timeline: Timeline;
  /** Every fact read in the agents' logs, in the order read. */
  readonly facts: readonly StampedFact[];
  /** When each member's process ran (a restart starts a new interval). */
  readonly up: ReadonlyMap<string, readonly Interval[]>;
  /** When each paused member was stopped. */
  readonly paused: ReadonlyMap<string, readonly Interval[]>;
  /** User events sent, with when and by whom. */
  readonly eventsSent: readonly { readonly atMs: number; readonly from: string; readonly name: string }[];
  /** User events the handler script recorded: who got which, when. */
  readonly deliveries: readonly { readonly atMs: number; readonly member: string; readonly event: string }[];
  /** Over the fault window: hearsay's counters and Serf's log lines summed. */
  readonly failedProbes: number;
  readonly refutations: number;
  /** Degraded pairs hearsay's agents reported over the fault window; null for Serf, which reports none. */
  readonly degradedPairs: number | null;
  /** Packets every host sent over the fault window. */
  readonly packets: number;
  /** When the loss scenario's SIGKILL went out (the fault's end, give or take the lab's own delay). */
  readonly crashAtMs: number;
  readonly formedInMs: number;
}

export interface LabRunOptions {
  readonly spec: ScenarioSpec;
  readonly rep: number;
  readonly system: Exclude<SystemName, 'sim'>;
  /** Keeps two labs of one process apart (systems run side by side). */
  readonly label: string;
  readonly progress?: (text: string) => void;
}

/** hearsay on even hosts and Serf on odd ones in a mixed cluster, so that n0, the seed, is hearsay's. */
export function kindOf(system: Exclude<SystemName, 'sim'>, index: number): AgentKind {
  if (system === 'mixed') return index % 2 === 0 ? 'hearsay' : 'serf';
  return system;
}

export async function runInLab(options: LabRunOptions): Promise<LabRecord> {
  const { spec, rep, system } = options;
  const timeline = timelineOf(spec, rep);
  const work = await mkdtemp(join(tmpdir(), 'hearsay-chaos-'));
  const lab = await NetworkLab.create(options.label, spec.nodes);
  const agents = new Map<string, LabAgent>();
  try {
    const deliveriesFile = join(work, 'deliveries.log');
    const handler = join(work, 'deliver.sh');
    // Serf's handler contract, which hearsay's agent follows: one line per user event received.
    await writeFile(handler, `#!/bin/sh\necho "$(date +%s%3N) $SERF_SELF_NAME $SERF_USER_EVENT" >> ${deliveriesFile}\n`);
    await chmod(handler, 0o755);
    const faults = await Promise.all(lab.hosts.map((host) => HostFaults.install(host)));
    const seed = `${lab.hosts[0]!.address}:${GOSSIP_PORT}`;

    const started = performance.now();
    let origin = Number.NaN;
    const clock = () => performance.now() - started;
    const facts: StampedFact[] = [];
    const up = new Map<string, Interval[]>();
    const paused = new Map<string, Interval[]>();
    const start = (index: number) => {
      const name = memberName(index);
      const settings = { name, kind: kindOf(system, index), host: lab.hosts[index]!, handler, ...(index > 0 ? { seed } : {}) };
      agents.set(name, new LabAgent(settings, clock, (fact) => facts.push(fact)));
      const list = up.get(name) ?? [];
      list.push({ fromMs: clock(), toMs: Number.POSITIVE_INFINITY });
      up.set(name, list);
    };
    const stop = async (name: string) => {
      await agents.get(name)!.kill();
      up.get(name)!.at(-1)!.toMs = clock();
    };

    for (let index = 0; index < spec.nodes; index++) start(index);
    await formed(spec.nodes, facts, agents);
    origin = clock();
    const originWallMs = Date.now();
    options.progress?.(`${system} formed in ${(origin / 1000).toFixed(1)} s`);

    const at = async (ms: number) => {
      const wait = origin + ms - clock();
      if (wait > 0) await sleep(wait);
    };
    /** Packets sent by every host, and each running hearsay agent's counters, read one agent at a time (a Node.js process each: 16 at once would load the machine). */
    const counters = async () => {
      const packets = (await Promise.all(faults.map((f) => f.packetsSent()))).reduce((a, b) => a + b, 0);
      const byAgent = new Map<string, { failedProbes: number; refutations: number }>();
      for (const [name, agent] of agents) {
        const read = agent.running ? await agent.hearsayCounters() : undefined;
        if (read) byAgent.set(name, read);
      }
      return { packets, byAgent };
    };
    const hostOf = (name: string) => faults[Number(name.slice(1))]!;
    const eventsSent: { atMs: number; from: string; name: string }[] = [];
    /** When the loss scenario's SIGKILL was sent, on the run's clock: detection is measured from it. */
    let crashAtMs = spec.faultMs;
    const send = async (from: string, name: string) => {
      eventsSent.push({ atMs: clock() - origin, from, name });
      await agents
        .get(from)!
        .sendEvent(name)
        .catch((error: Error) => options.progress?.(`event ${name} from ${from} not sent: ${error.message}`));
    };

    // The timeline's actions, each at its time; events interleave with them.
    const actions: { atMs: number; act: () => Promise<unknown> }[] = [];
    type Counters = Awaited<ReturnType<typeof counters>>;
    let before: Counters = { packets: 0, byAgent: new Map() };
    let after = before;
    // Only loss and one-way loss report the window's counters; elsewhere a stopped agent could not answer for them.
    const counted = spec.scenario === 'loss' || spec.scenario === 'oneway';
    if (counted) {
      // Read before the kill at the fault's end, so that its failed probes stay out of the window;
      // detection is measured from when the kill actually went out.
      actions.push({ atMs: 0, act: async () => (before = await counters()) });
      actions.push({ atMs: spec.faultMs, act: async () => (after = await counters()) });
    }
    switch (spec.scenario) {
      case 'loss':
        actions.push({ atMs: 0, act: () => Promise.all(faults.map((f) => f.setLoss(spec.param / 100))) });
        actions.push({
          atMs: spec.faultMs,
          act: async () => {
            crashAtMs = clock() - origin;
            await stop(timeline.killed!);
          },
        });
        break;
      case 'oneway': {
        const { from, to } = timeline.oneway!;
        actions.push({ atMs: 0, act: () => hostOf(from).muteTo([hostOf(to).host.address]) });
        actions.push({ atMs: spec.faultMs, act: () => hostOf(from).heal() });
        break;
      }
      case 'partition': {
        const [a, b] = timeline.sides!;
        const addresses = (side: readonly string[]) => side.map((name) => hostOf(name).host.address);
        actions.push({
          atMs: 0,
          act: () => Promise.all([...a.map((n) => hostOf(n).deafTo(addresses(b))), ...b.map((n) => hostOf(n).deafTo(addresses(a)))]),
        });
        actions.push({ atMs: spec.faultMs, act: () => Promise.all(faults.map((f) => f.heal())) });
        break;
      }
      case 'flap': {
        const flapper = hostOf(timeline.flapper!);
        const others = faults.filter((f) => f !== flapper).map((f) => f.host.address);
        for (let t = 0; t < spec.faultMs; t += 2 * FLAP_HALF_PERIOD_MS) {
          actions.push({ atMs: t, act: () => Promise.all([flapper.deafTo(others), flapper.muteTo(others)]) });
          actions.push({ atMs: t + FLAP_HALF_PERIOD_MS, act: () => flapper.heal() });
        }
        break;
      }
      case 'pause': {
        const name = timeline.paused!;
        actions.push({
          atMs: 0,
          act: async () => {
            agents.get(name)!.signal('SIGSTOP');
            paused.set(name, [{ fromMs: clock() - origin, toMs: Number.POSITIVE_INFINITY }]);
          },
        });
        actions.push({
          atMs: spec.faultMs,
          act: async () => {
            agents.get(name)!.signal('SIGCONT');
            paused.get(name)![0]!.toMs = clock() - origin;
          },
        });
        break;
      }
      case 'churn':
        for (const restart of timeline.restarts) {
          actions.push({
            atMs: restart.atMs,
            act: async () => {
              await Promise.all(restart.members.map((name) => stop(name)));
              for (const name of restart.members) start(Number(name.slice(1)));
            },
          });
        }
        break;
    }
    for (const event of timeline.events) actions.push({ atMs: event.atMs, act: () => send(event.from, event.name) });
    actions.sort((x, y) => x.atMs - y.atMs);
    for (const action of actions) {
      await at(action.atMs);
      await action.act();
    }
    await at(timeline.endMs);

    const deliveries = (await readFile(deliveriesFile, 'utf8').catch(() => ''))
      .split('\n')
      .map((line) => line.split(' '))
      .filter((fields) => fields.length === 3)
      .map(([wallMs, member, event]) => ({ atMs: Number(wallMs) - originWallMs, member: member!, event: event! }));
    const rebase = (intervals: Map<string, Interval[]>) =>
      new Map([...intervals].map(([name, list]) => [name, list.map((i) => ({ fromMs: i.fromMs - origin, toMs: i.toMs - origin }))]));
    const inWindow = (kind: 'failedProbe' | 'refutation' | 'degraded') =>
      facts.filter((f) => f.fact.kind === kind && f.atMs >= origin && f.atMs <= origin + spec.faultMs).length;
    return {
      spec,
      rep,
      system,
      timeline,
      facts: facts.map((f) => ({ ...f, atMs: f.atMs - origin })),
      up: rebase(up),
      paused,
      eventsSent,
      deliveries,
      failedProbes: counterDelta(before.byAgent, after.byAgent, 'failedProbes') + inWindow('failedProbe'),
      refutations: counterDelta(before.byAgent, after.byAgent, 'refutations') + inWindow('refutation'),
      degradedPairs: system === 'serf' ? null : inWindow('degraded'),
      packets: after.packets - before.packets,
      crashAtMs,
      formedInMs: origin,
    };
  } finally {
    await Promise.all([...agents.values()].map((agent) => agent.kill()));
    await lab.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** Waits until every agent lists every other member alive (by the member events it logged). */
async function formed(nodes: number, facts: readonly StampedFact[], agents: ReadonlyMap<string, LabAgent>): Promise<void> {
  const deadline = performance.now() + FORMATION_TIMEOUT_MS;
  for (;;) {
    const alive = new Map<string, Set<string>>();
    for (const { observer, fact } of facts) {
      if (fact.kind !== 'member' || fact.member === observer) continue;
      const set = alive.get(observer) ?? new Set<string>();
      if (fact.type === 'join' || fact.type === 'alive' || fact.type === 'update' || fact.type === 'suspect') set.add(fact.member);
      else set.delete(fact.member);
      alive.set(observer, set);
    }
    if (alive.size === nodes && [...alive.values()].every((set) => set.size === nodes - 1)) return;
    const dead = [...agents.values()].find((agent) => !agent.running);
    if (dead) throw new Error(`${dead.settings.name} (${dead.settings.kind}) exited while the cluster formed:\n${dead.tail()}`);
    if (performance.now() > deadline) {
      const short = [...agents.keys()].filter((name) => (alive.get(name)?.size ?? 0) < nodes - 1);
      throw new Error(`the cluster did not form in ${FORMATION_TIMEOUT_MS / 1000} s: ${short.join(', ')} list fewer than ${nodes - 1} others`);
    }
    await sleep(100);
  }
}

/** A counter's growth over the window, summed over the agents that ran at both readings (a killed one is left out). */
function counterDelta(
  before: ReadonlyMap<string, { failedProbes: number; refutations: number }>,
  after: ReadonlyMap<string, { failedProbes: number; refutations: number }>,
  counter: 'failedProbes' | 'refutations',
): number {
  let sum = 0;
  for (const [name, read] of after) {
    const first = before.get(name);
    if (first) sum += read[counter] - first[counter];
  }
  return sum;
}
