/**
 * The scenarios' variants and their timelines, decided once from the spec's seed so that the
 * lab (real agents) and the simulator run exactly the same faults at the same times against the
 * same members. Time 0 is when the cluster has formed (every member lists every other alive).
 */
import { createRandom } from 'hearsay/core';
import type { ScenarioName, ScenarioSpec } from '../types.js';

/** Loss levels of the `loss` scenario, in %. */
export const LOSS_LEVELS = [0, 5, 10, 20, 30] as const;
/** Pause lengths of the `pause` scenario, in s. */
export const PAUSE_SECONDS = [2, 5, 10] as const;
/** Churn: this share of the members restarted every period. */
export const CHURN_SHARE = 0.25;
export const CHURN_PERIOD_MS = 10_000;
/** Flapping: the member's link is cut this long, then restored this long, and so on. */
export const FLAP_HALF_PERIOD_MS = 1_000;
/** After the fault: how long the lab watches for detection (loss: after the kill), convergence and late verdicts. */
export const WATCH_MS: Readonly<Record<ScenarioName, number>> = {
  loss: 60_000,
  oneway: 10_000,
  partition: 120_000,
  flap: 30_000,
  pause: 30_000,
  churn: 60_000,
};
/** The fault windows (ms), unless `--duration` says otherwise. */
const DEFAULT_FAULT_MS: Readonly<Record<Exclude<ScenarioName, 'pause'>, number>> = {
  loss: 300_000,
  oneway: 180_000,
  partition: 60_000,
  flap: 180_000,
  churn: 300_000,
};

export interface PlanOptions {
  readonly nodes: number;
  readonly seed: number;
  /** Overrides every scenario's fault window but the pauses' (ms). */
  readonly faultMs?: number;
  /** Only these scenarios (default: all). */
  readonly scenarios?: readonly ScenarioName[];
  /** Overrides how long every scenario is watched after its fault (ms): short smoke runs. */
  readonly watchMs?: number;
}

/** Every variant of the chosen scenarios, in the order they run. */
export function planVariants(options: PlanOptions): ScenarioSpec[] {
  const base = { nodes: options.nodes, seed: options.seed, profile: 'lan' as const, ...(options.watchMs !== undefined ? { watchMs: options.watchMs } : {}) };
  const window = (scenario: Exclude<ScenarioName, 'pause'>) => options.faultMs ?? DEFAULT_FAULT_MS[scenario];
  const all: ScenarioSpec[] = [
    ...LOSS_LEVELS.map((loss) => ({ ...base, scenario: 'loss' as const, variant: `loss ${loss}%`, param: loss, faultMs: window('loss') })),
    { ...base, scenario: 'oneway', variant: 'one-way loss 100%', param: 100, faultMs: window('oneway') },
    { ...base, scenario: 'partition', variant: 'partition 50/50', param: 50, faultMs: window('partition') },
    { ...base, scenario: 'flap', variant: 'flap 1s/1s', param: FLAP_HALF_PERIOD_MS / 1000, faultMs: window('flap') },
    ...PAUSE_SECONDS.map((s) => ({ ...base, scenario: 'pause' as const, variant: `pause ${s}s`, param: s, faultMs: s * 1000 })),
    { ...base, scenario: 'churn', variant: 'churn 25%/10s', param: CHURN_SHARE * 100, faultMs: window('churn') },
  ];
  return options.scenarios ? all.filter((spec) => options.scenarios!.includes(spec.scenario)) : all;
}

/** Members by index: `n0` … */
export const memberName = (index: number) => `n${index}`;

/** A user event the scenario sends: at `atMs`, from member `from`, named `name`. */
export interface PlannedEvent {
  readonly atMs: number;
  readonly from: string;
  readonly name: string;
}

/** A batch of restarts: at `atMs` these members are SIGKILLed and started again at once, same name and address. */
export interface PlannedRestart {
  readonly atMs: number;
  readonly members: readonly string[];
}

/**
 * What happens in one run, decided by the seed: the same for every system. Members are chosen
 * among n1 … n{N−1}: n0 is the seed everyone joins through, so a restarted member always has a
 * seed to rejoin by (as a deployment keeps its seeds up).
 */
export interface Timeline {
  /** loss: killed (SIGKILL) at faultMs, for the detection time. */
  readonly killed?: string;
  /** oneway: `from` cannot send to `to` (everything else flows). */
  readonly oneway?: { readonly from: string; readonly to: string };
  /** partition: the two sides. */
  readonly sides?: readonly [readonly string[], readonly string[]];
  /** flap: the member whose link goes on and off. */
  readonly flapper?: string;
  /** pause: the member SIGSTOPped at 0 and SIGCONTed at faultMs. */
  readonly paused?: string;
  readonly restarts: readonly PlannedRestart[];
  readonly events: readonly PlannedEvent[];
  /** When the lab stops watching (ms after 0). */
  readonly endMs: number;
}

export function timelineOf(spec: ScenarioSpec, rep: number): Timeline {
  const random = createRandom(spec.seed + rep - 1);
  const others = Array.from({ length: spec.nodes - 1 }, (_, i) => memberName(i + 1));
  const pick = () => others[Math.floor(random.float() * others.length)]!;
  const shuffled = () => {
    const list = [...others];
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(random.float() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    return list;
  };
  const watchMs = spec.watchMs ?? WATCH_MS[spec.scenario];
  const endMs = spec.faultMs + watchMs;
  switch (spec.scenario) {
    case 'loss':
      return { killed: pick(), restarts: [], events: [], endMs };
    case 'oneway': {
      const [from, to] = shuffled();
      return { oneway: { from: from!, to: to! }, restarts: [], events: [], endMs };
    }
    case 'partition': {
      const all = [memberName(0), ...shuffled()];
      const half = Math.floor(all.length / 2);
      const sides = [all.slice(0, half), all.slice(half)] as const;
      // One event from each side in the middle of the partition: both must reach everyone after the heal.
      const events = sides.map((side, i) => ({ atMs: spec.faultMs / 2, from: side[0]!, name: `partition-side-${i}` }));
      return { sides, restarts: [], events, endMs };
    }
    case 'flap':
      return { flapper: pick(), restarts: [], events: [], endMs };
    case 'pause':
      return { paused: pick(), restarts: [], events: [], endMs };
    case 'churn': {
      const count = Math.max(1, Math.round(spec.nodes * CHURN_SHARE));
      const restarts: PlannedRestart[] = [];
      const events: PlannedEvent[] = [];
      for (let at = 0; at < spec.faultMs; at += CHURN_PERIOD_MS) {
        const members = shuffled().slice(0, count).sort();
        restarts.push({ atMs: at, members });
        // Half a period later, from a member not restarted in this batch.
        const steady = others.filter((name) => !members.includes(name));
        events.push({ atMs: at + CHURN_PERIOD_MS / 2, from: steady[Math.floor(random.float() * steady.length)] ?? memberName(0), name: `churn-${at / 1000}s` });
      }
      return { restarts, events, endMs: restarts.at(-1)!.atMs + watchMs };
    }
  }
}
