/**
 * Serf user events and queries in the simulator: every node runs the runtime's `SerfMember`, so
 * an event reaches each live node once (through loss, and after a partition by push/pull
 * replay), a query is acknowledged and answered by every node, runs stay deterministic, and a
 * run without events is byte for byte what it was before Serf's layer came in.
 */
import { describe, expect, it } from 'vitest';
import { simHost } from '../../packages/hearsay/src/sim/network.js';
import { buildSimulation, simulate, type SimOptions } from '../../packages/hearsay/src/sim/index.js';
import { encodeSerfUserEvent } from '../../packages/hearsay/src/wire/index.js';

const text = new TextDecoder();

/** How many times each node heard each event name, through the public listener. */
function countDeliveries(sim: ReturnType<typeof buildSimulation>): Map<string, number[]> {
  const counts = new Map<string, number[]>();
  sim.serfListeners.push((index, report) => {
    if (report.kind !== 'event') return;
    const perNode = counts.get(report.name) ?? new Array<number>(sim.options.nodes).fill(0);
    perNode[index]!++;
    counts.set(report.name, perNode);
  });
  return counts;
}

describe('simulated Serf user events and queries', () => {
  it.each([1, 2, 3])('delivers a user event to every live node exactly once at N = 50, loss 5%% (seed %i)', (seed) => {
    const options: SimOptions = {
      nodes: 50,
      seed,
      loss: 0.05,
      durationMs: 30_000,
      userEvents: [{ atMs: 5_000, name: 'deploy', from: 'n7', payloadBytes: 64 }],
    };
    const sim = buildSimulation(options);
    const counts = countDeliveries(sim);
    sim.runUntil(options.durationMs!);
    const [event] = sim.serfReports.events();
    expect(event).toMatchObject({ name: 'deploy', from: 'n7', at_ms: 5_000, live: 50, delivered: 50, duplicates: 0 });
    expect(event!.all_delivered_ms).toBeLessThan(3_000);
    // The sender holds it from the start; every other node hears it once.
    expect(counts.get('deploy')).toEqual(Array.from({ length: 50 }, (_, i) => (i === 7 ? 0 : 1)));
  });

  it('delivers an event sent during a partition to the other side after the heal, by push/pull replay', () => {
    const half = Array.from({ length: 10 }, (_, i) => `n${i}`);
    const sim = buildSimulation({
      nodes: 20,
      seed: 5,
      durationMs: 240_000,
      start: 'converged',
      partitions: [{ atMs: 10_000, healAtMs: 14_000, groups: [half] }],
      userEvents: [{ atMs: 10_500, name: 'split', from: 'n0' }],
    });
    const counts = countDeliveries(sim);
    sim.runUntil(14_000);
    // Gossip spent half its transmissions on the cut-off side: nothing reached it.
    expect(counts.get('split')!.slice(10)).toEqual(new Array(10).fill(0));
    sim.runUntil(240_000);
    const [event] = sim.serfReports.events();
    expect(event).toMatchObject({ live: 20, delivered: 20, duplicates: 0 });
    expect(event!.all_delivered_ms).toBeGreaterThan(14_000 - 10_500);
  });

  it('gets an ack and an answer from every live node to a scenario query', () => {
    const result = simulate({ nodes: 30, seed: 4, durationMs: 20_000, crash: ['n12'], crashAtMs: 2_000, queries: [{ atMs: 8_000, name: 'who', from: 'n3' }] });
    expect(result.queries).toEqual([{ name: 'who', from: 'n3', at_ms: 8_000, live: 29, acks: 29, responses: 29 }]);
    expect(result.user_events).toEqual([]);
  });

  it('collects answers through the API until the timeout on the virtual clock', () => {
    const sim = buildSimulation({ nodes: 30, seed: 4, durationMs: 20_000 });
    sim.serfListeners.push((index, report) => {
      if (report.kind === 'query') report.query.respond(new TextEncoder().encode(`n${index} here`));
    });
    const answers: { from: string; text: string; at: number }[] = [];
    const acks: number[] = [];
    const collector = {
      onAck: () => acks.push(sim.now),
      onResponse: (from: string, payload: Uint8Array) => answers.push({ from, text: text.decode(payload), at: sim.now }),
    };
    sim.at(5_000, () => sim.ask(2, 'status', new Uint8Array(0), { timeoutMs: 2_000 }, collector));
    // Too short to reach everyone: what comes later is not collected.
    sim.at(10_000, () => sim.ask(2, 'quick', new Uint8Array(0), { timeoutMs: 3 }, collector));
    sim.runUntil(20_000);
    const status = answers.filter((answer) => answer.at < 10_000);
    expect(new Set(status.map((answer) => answer.from)).size).toBe(30);
    expect(status.find((answer) => answer.from === 'n17')?.text).toBe('n17 here');
    expect(acks.filter((at) => at < 10_000)).toHaveLength(30);
    const quick = answers.filter((answer) => answer.at >= 10_000);
    expect(quick.length).toBeLessThan(30);
    expect(quick.every((answer) => answer.at <= 10_003)).toBe(true);
  });

  it('lets a test inject a message with input(): a forged user event spreads like any other', () => {
    const sim = buildSimulation({ nodes: 20, seed: 9, durationMs: 10_000, start: 'converged' });
    const counts = countDeliveries(sim);
    const payload = encodeSerfUserEvent({ ltime: 1n, name: 'forged', payload: new Uint8Array(0), coalesce: false });
    sim.at(2_000, () => sim.input(5, { kind: 'packet', from: { host: simHost(11), port: 7946 }, messages: [{ type: 'user', payload }] }));
    sim.runUntil(10_000);
    expect(counts.get('forged')).toEqual(new Array(20).fill(1));
  });

  it('gives identical reports for the same seed', () => {
    const options: SimOptions = {
      nodes: 40,
      seed: 11,
      loss: 0.1,
      durationMs: 40_000,
      userEvents: [
        { atMs: 3_000, name: 'a', payloadBytes: 200 },
        { atMs: 3_000, name: 'b', from: 'n9' },
      ],
      queries: [{ atMs: 6_000, name: 'q', timeoutMs: 1_500 }],
    };
    const first = simulate(options);
    const second = simulate(options);
    expect(second.user_events).toEqual(first.user_events);
    expect(second.queries).toEqual(first.queries);
    expect(second.bytes_per_node_per_s).toBe(first.bytes_per_node_per_s);
    expect(second.events_processed).toBe(first.events_processed);
  });

  it('leaves a run without events as it was: the same bytes and events as before Serf came in', () => {
    // Recorded before the simulator ran Serf's layer (the second run again since probe timeouts
    // stopped scaling with health, the third since probes start on a ticker, the fourth since pings and acks carry view digests).
    const quiet = simulate({ nodes: 50, seed: 3, loss: 0.05, durationMs: 30_000 });
    expect(quiet.bytes_per_node_per_s).toBe(557.126);
    expect(quiet.events_processed).toBe(8860);
    const faults = simulate({ nodes: 40, loss: 0.05, crash: 3, crashAtMs: 10_000, durationMs: 40_000, seed: 7 });
    expect(faults.bytes_per_node_per_s).toBe(484.98249999999996);
    expect(faults.events_processed).toBe(10238);
    expect(faults.user_events).toEqual([]);
    expect(faults.queries).toEqual([]);
  });
});
