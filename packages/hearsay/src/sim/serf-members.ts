import { createRandom, deriveSeed, type Input, type Output, type StreamMessage } from '../core/index.js';
import { SerfMember, type QueryCollector, type QueryOptions, type SerfReport } from '../serf/index.js';
import { coreSeed } from './nodes.js';
import type { Simulation } from './simulator.js';

/**
 * Serf's layer for each simulated node: the same `SerfMember` the runtime drives, made the first
 * time a node has a Serf message to handle or to send, so that a run without any costs nothing.
 * Members get no coordinate in their acks (no `start()`): that would change every simulated
 * byte count and cost each probe a Vivaldi update.
 */
export class SerfMembers {
  readonly #sim: Simulation;
  /** Steps a node's core now and carries out its outputs (the simulation's own step). */
  readonly #step: (index: number, input: Input) => void;
  /** Few nodes may have one: a map, not an array of N. */
  readonly #members = new Map<number, SerfMember>();

  constructor(sim: Simulation, step: (index: number, input: Input) => void) {
    this.#sim = sim;
    this.#step = step;
  }

  /** The node's member, made now if it has none; undefined while the node is not live. */
  of(index: number): SerfMember | undefined {
    const existing = this.#members.get(index);
    if (existing) return existing;
    const sim = this.#sim;
    const core = sim.node(index);
    if (!core) return undefined;
    const generation = sim.generation(index);
    // Derived from the core's seed, so apart from the core's own draws, and from every other node's.
    const random = createRandom(deriveSeed(coreSeed(sim.options.seed, index, generation), 1));
    const member = new SerfMember({
      core,
      // A query answered late by the application must not reach a later run of the node.
      step: (input) => {
        if (sim.generation(index) === generation && sim.node(index)) this.#step(index, input);
      },
      now: () => sim.now,
      random: random.float,
      coordinateRandom: random,
      keyring: undefined,
      report: (report) => this.#report(index, report),
    });
    this.#members.set(index, member);
    return member;
  }

  /** An output of the node's core: a user message makes the member if need be; the rest goes to an existing one. */
  consume(index: number, output: Output): void {
    const member = output.kind === 'message' ? this.of(index) : this.#members.get(index);
    member?.consume(output);
  }

  /** A peer's push/pull reaching the node, before its core merges it: Serf state in it makes the member. */
  receiveState(index: number, message: StreamMessage): void {
    if (message.type !== 'pushPull') return;
    const member = message.userState.length > 0 ? this.of(index) : this.#members.get(index);
    member?.receiveState(message);
  }

  /** The node stopped: a later run starts without a member. */
  drop(index: number): void {
    this.#members.delete(index);
  }

  /** See `Simulation.userEvent`. */
  userEvent(index: number, name: string, payload: Uint8Array): void {
    if (this.#sim.isPaused(index)) return;
    this.of(index)?.broadcastEvent(name, payload);
  }

  /** See `Simulation.leave`: the leave intent goes out now (a member made for it); returns the core leave's head start (ms). */
  announceLeave(index: number): number {
    return this.of(index)?.announceLeave() ?? 0;
  }

  /** See `Simulation.ask`. */
  ask(index: number, name: string, payload: Uint8Array, options: QueryOptions, collector: QueryCollector): void {
    const sim = this.#sim;
    const member = sim.isPaused(index) ? undefined : this.of(index);
    if (!member) return;
    const asked = member.ask(name, payload, options, collector);
    sim.at(sim.now + asked.timeoutMs, asked.finish);
    // As the runtime does: the asker's own application sees its query too.
    if (asked.local) this.#report(index, { kind: 'query', query: asked.local });
  }

  #report(index: number, report: SerfReport): void {
    for (const listener of this.#sim.serfListeners) listener(index, report, this.#sim.now);
  }
}
