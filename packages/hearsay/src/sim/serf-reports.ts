import type { QueryOptions, SerfReport } from '../serf/index.js';
import { simName } from './nodes.js';
import type { Simulation } from './simulator.js';

/** A user event sent in the run, and how it spread. */
export interface UserEventReport {
  /** The event's name. */
  name: string;
  /** The node that sent it. */
  from: string;
  /** When it was sent (virtual ms). */
  at_ms: number;
  /** Nodes live when it was sent (paused ones too) and still live, in the same run, at the end; the sender among them. */
  live: number;
  /** Of those, how many got it (the sender holds it from the start, unless it was paused and sent nothing). */
  delivered: number;
  /** Deliveries beyond one per node and run, over every node: Serf's event buffer must make this 0. */
  duplicates: number;
  /** From sending until the last of the `live` nodes got it; null if one never did. */
  all_delivered_ms: number | null;
}

/** A query asked in the run, and what came back before its timeout. */
export interface SimQueryReport {
  /** The query's name. */
  name: string;
  /** The node that asked it. */
  from: string;
  /** When it was asked (virtual ms). */
  at_ms: number;
  /** Nodes live when it was asked (paused ones too) and still live, in the same run, at the end; the asker among them. */
  live: number;
  /** Distinct members whose acknowledgement reached the asker in time (every node acks, the asker included). */
  acks: number;
  /** Distinct members whose answer reached the asker in time (in a scenario every node answers with its name). */
  responses: number;
}

interface TrackedEvent {
  readonly report: UserEventReport;
  readonly payload: Uint8Array;
  /** Each node's run when the event was sent (0: not live). */
  readonly runs: Int32Array;
  /** Node → the run in which it got the event, and when. */
  readonly got: Map<number, { run: number; at: number }>;
}

interface TrackedQuery {
  readonly report: SimQueryReport;
  readonly runs: Int32Array;
  readonly acks: Set<string>;
  readonly responses: Set<string>;
}

const encoder = new TextEncoder();

/**
 * Follows the user events and queries a scenario sends, through `Simulation.serfListeners`:
 * who got each event (and how often), who acknowledged and answered each query. Listening (and
 * answering every query with the node's name) starts with the first event or query sent here.
 */
export class SerfReports {
  readonly #sim: Simulation;
  /** The events sent, by name: deliveries are told apart by name and payload. */
  readonly #events = new Map<string, TrackedEvent[]>();
  readonly #eventOrder: TrackedEvent[] = [];
  readonly #queries: TrackedQuery[] = [];
  #listening = false;

  constructor(sim: Simulation) {
    this.#sim = sim;
  }

  /** Node `from` broadcasts a user event now; its delivery is followed to the end of the run. */
  sendEvent(from: number, name: string, payload: Uint8Array): void {
    this.#listen();
    const sim = this.#sim;
    const event: TrackedEvent = {
      report: { name, from: simName(from), at_ms: sim.now, live: 0, delivered: 0, duplicates: 0, all_delivered_ms: null },
      payload,
      runs: this.#runs(),
      got: new Map(),
    };
    // A paused or stopped sender sends nothing (see `Simulation.userEvent`).
    if (sim.node(from) && !sim.isPaused(from)) event.got.set(from, { run: sim.generation(from), at: sim.now });
    this.#eventOrder.push(event);
    const same = this.#events.get(name);
    if (same) same.push(event);
    else this.#events.set(name, [event]);
    sim.userEvent(from, name, payload);
  }

  /** Node `from` asks a query now; acks and answers are counted until its timeout. */
  askQuery(from: number, name: string, options: QueryOptions): void {
    this.#listen();
    const sim = this.#sim;
    const query: TrackedQuery = {
      report: { name, from: simName(from), at_ms: sim.now, live: 0, acks: 0, responses: 0 },
      runs: this.#runs(),
      acks: new Set(),
      responses: new Set(),
    };
    this.#queries.push(query);
    sim.ask(from, name, new Uint8Array(0), options, {
      onAck: (member) => query.acks.add(member),
      onResponse: (member) => query.responses.add(member),
    });
  }

  /** The events' reports as of now (call at the end of the run). */
  events(): UserEventReport[] {
    return this.#eventOrder.map((event) => {
      let live = 0;
      let delivered = 0;
      let last = event.report.at_ms;
      for (let i = 0; i < event.runs.length; i++) {
        if (!this.#liveThroughout(event.runs, i)) continue;
        live++;
        const got = event.got.get(i);
        if (!got || got.run !== event.runs[i]) continue;
        delivered++;
        last = Math.max(last, got.at);
      }
      const all = delivered === live ? last - event.report.at_ms : null;
      return { ...event.report, live, delivered, all_delivered_ms: all };
    });
  }

  /** The queries' reports as of now (call at the end of the run). */
  queries(): SimQueryReport[] {
    return this.#queries.map((query) => {
      let live = 0;
      for (let i = 0; i < query.runs.length; i++) if (this.#liveThroughout(query.runs, i)) live++;
      return { ...query.report, live, acks: query.acks.size, responses: query.responses.size };
    });
  }

  #listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    this.#sim.serfListeners.push((index, report, now) => this.#onReport(index, report, now));
  }

  #onReport(index: number, report: SerfReport, now: number): void {
    if (report.kind === 'query') {
      report.query.respond(encoder.encode(simName(index)));
      return;
    }
    if (report.kind !== 'event') return;
    const candidates = (this.#events.get(report.name) ?? []).filter((event) => equalBytes(event.payload, report.payload));
    const last = candidates.at(-1);
    if (!last) return;
    const run = this.#sim.generation(index);
    // Events alike in name and payload are told apart by order: the earliest this run lacks gets it.
    const event = candidates.find((candidate) => candidate.got.get(index)?.run !== run);
    if (event) event.got.set(index, { run, at: now });
    else last.report.duplicates++;
  }

  /** Each node's run if it is live now (a paused node too: it reads its backlog when it resumes), else 0. */
  #runs(): Int32Array {
    const runs = new Int32Array(this.#sim.options.nodes);
    for (let i = 0; i < runs.length; i++) if (this.#sim.node(i)) runs[i] = this.#sim.generation(i);
    return runs;
  }

  /** Whether node `index` ran at the snapshot `runs` and is live in the same run now. */
  #liveThroughout(runs: Int32Array, index: number): boolean {
    return runs[index] !== 0 && this.#sim.node(index) !== null && this.#sim.generation(index) === runs[index];
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
