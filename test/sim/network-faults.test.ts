import { describe, expect, it } from 'vitest';
import { createRandom, type MemberEvent, type StreamMessage } from '../../packages/hearsay/src/core/index.js';
import { EventQueue } from '../../packages/hearsay/src/sim/event-queue.js';
import { Network, SIM_PORT, simHost, type SimEvent } from '../../packages/hearsay/src/sim/network.js';
import { buildSimulation, simulate } from '../../packages/hearsay/src/sim/index.js';

const ping: StreamMessage = { type: 'ping', seqNo: 1, node: 'n1' };
const address = (index: number) => ({ host: simHost(index), port: SIM_PORT });

/** A two-node network at time 0, 1 ms one way without jitter, and the events it schedules. */
function network(options: { loss?: number; streamLoss?: boolean; seed?: number } = {}) {
  const events = new EventQueue<SimEvent>();
  const net = new Network(
    { nodes: 2, loss: options.loss ?? 0, delayMs: 1, jitterMs: 0, wireBytes: false, streamLoss: options.streamLoss ?? false },
    { now: 0, isLive: () => true },
    events,
    createRandom(options.seed ?? 1),
  );
  const drain = () => {
    const out: SimEvent[] = [];
    for (let event = events.pop(); event; event = events.pop()) out.push(event);
    return out;
  };
  return { net, drain };
}

describe('one-way blocks', () => {
  it('lose what one node sends to the other, not the way back', () => {
    const { net, drain } = network();
    net.setBlocked(0, 1, true);
    expect(net.reachable(0, 1)).toBe(false);
    expect(net.reachable(1, 0)).toBe(true);
    net.sendPacket(0, address(1), [], false, '');
    net.sendPacket(1, address(0), [], false, '');
    expect(drain().map((event) => event.kind === 'packet' && event.node)).toEqual([0]);
    net.setBlocked(0, 1, false);
    net.sendPacket(0, address(1), [], false, '');
    expect(drain().map((event) => event.kind === 'packet' && event.node)).toEqual([1]);
  });

  it('make streams time out in both directions, as TCP needs both', () => {
    const { net, drain } = network();
    net.setBlocked(0, 1, true);
    for (const [from, to] of [
      [0, 1],
      [1, 0],
    ] as const) {
      net.openStream(from, 1, 7, address(to), ping, 500, true);
      expect(drain().map((event) => [event.kind, event.at])).toEqual([['streamEnd', 500]]);
    }
  });

  it('cut a simulated cluster one way for a while through SimOptions.blocks', () => {
    // Two nodes: no helper to probe through, or to carry a refutation around the block.
    const options = { nodes: 2, start: 'converged' as const, durationMs: 30_000 };
    const failed = (blocks = false) => {
      const sim = buildSimulation({ ...options, ...(blocks ? { blocks: [{ from: 'n0', to: 'n1', atMs: 0, untilMs: 15_000 }] } : {}) });
      const verdicts: string[] = [];
      sim.eventListeners.push((observer, member, event: MemberEvent) => {
        if (event.type === 'failed') verdicts.push(`n${observer}→n${member}`);
      });
      sim.runUntil(options.durationMs);
      return { verdicts: [...new Set(verdicts)].sort(), falsePositives: sim.observer.falsePositives };
    };
    expect(failed().verdicts).toEqual([]);
    const blocked = failed(true);
    expect(blocked.verdicts).toEqual(['n0→n1', 'n1→n0']);
    // The ground truth knows they could not talk: no false positives.
    expect(blocked.falsePositives).toBe(0);
  });
});

describe('stream loss', () => {
  it('leaves streams lossless unless asked, whatever the loss', () => {
    const { net, drain } = network({ loss: 1 });
    net.openStream(0, 1, 7, address(1), ping, 500, true);
    expect(drain().map((event) => [event.kind, event.at])).toEqual([
      ['streamOpen', 1],
      ['streamEnd', 500],
    ]);
  });

  it('delays a stream by TCP retransmissions, and fails it when TCP gives up', () => {
    const { net, drain } = network({ loss: 1, streamLoss: true });
    net.openStream(0, 1, 7, address(1), ping, 500, true);
    expect(drain().map((event) => event.kind)).toEqual(['streamEnd']);

    const lossy = network({ loss: 0.3, streamLoss: true, seed: 5 });
    const lateness: number[] = [];
    for (let i = 0; i < 2000; i++) {
      lossy.net.openStream(0, 1, i, address(1), ping, 600_000, true);
      // Now and then all seven tries of a segment are lost, and the stream only times out.
      const open = lossy.drain().find((event) => event.kind === 'streamOpen');
      if (open) lateness.push(open.at - 1);
    }
    expect(lateness.length).toBeGreaterThan(1990);
    // SYN, SYN-ACK and data segment all through at once with probability 0.7³.
    const onTime = lateness.filter((ms) => ms === 0).length / lateness.length;
    expect(onTime).toBeGreaterThan(0.343 - 0.04);
    expect(onTime).toBeLessThan(0.343 + 0.04);
    // Every delay is a sum of retransmission timeouts: 200 ms steps for data, 1 s and more for the handshake.
    expect(lateness.every((ms) => ms % 200 === 0)).toBe(true);
    expect(lateness.filter((ms) => ms === 200).length / lateness.length).toBeGreaterThan(0.05);
    expect(lateness.filter((ms) => ms >= 1000).length / lateness.length).toBeGreaterThan(0.4);
  });

  it('costs a lossy cluster TCP fallback probes it would otherwise win', () => {
    const options = { nodes: 10, seed: 3, start: 'converged' as const, durationMs: 120_000, loss: 0.3 };
    const lossless = simulate(options);
    const lossy = simulate({ ...options, streamLoss: true });
    expect(lossy.suspicions).toBeGreaterThan(lossless.suspicions);
  });
});
