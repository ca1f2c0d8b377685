import dgram from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_VSN, type Message } from '../../src/core/index.js';
import { createNode, type HearsayNode } from '../../src/index.js';
import { encodePacket, encodeStream, Keyring } from '../../src/wire/index.js';

const FAST = { probeIntervalMs: 500, probeTimeoutMs: 250, gossipIntervalMs: 100, pushPullIntervalMs: 5000, tcpTimeoutMs: 2000 };
const PACKETS = 100_000;
const STREAMS = 10_000;

async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Valid packets of every kind, to be mutated. */
function samplePackets(): Uint8Array[] {
  const profile = { name: 'fuzzer', host: '127.0.0.1', port: 1, meta: Uint8Array.of(0xff, 0x80), vsn: DEFAULT_VSN };
  const messages: Message[] = [
    { type: 'ping', seqNo: 7, node: 'target', source: { name: 'fuzzer', host: '127.0.0.1', port: 1 } },
    { type: 'indirectPing', seqNo: 9, node: 'x', target: { host: '127.0.0.1', port: 1 }, nack: true },
    { type: 'ack', seqNo: 3, payload: Uint8Array.of(1, 2, 3) },
    { type: 'nack', seqNo: 4 },
    { type: 'suspect', node: 'ghost', incarnation: 2, from: 'fuzzer' },
    { type: 'alive', incarnation: 1, profile },
    { type: 'dead', node: 'ghost', incarnation: 3, from: 'fuzzer' },
    { type: 'user', payload: Uint8Array.of(0, 0x83, 0xa5) },
  ];
  const packets = messages.map((m) => encodePacket([m], { crc: false, compress: false }));
  packets.push(encodePacket(messages, { crc: true, compress: true }));
  packets.push(encodePacket(messages.slice(0, 3), { crc: false, compress: false, keyring: new Keyring([new Uint8Array(16).fill(9)]) }));
  return packets;
}

function mutate(bytes: Uint8Array, random: () => number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const choice = random();
    if (choice < 0.6) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
    else if (choice < 0.8) return copy.subarray(0, Math.floor(random() * copy.length));
    else return Uint8Array.from([...copy, ...Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))]);
  }
  return copy;
}

describe('a live node under a stream of garbage', () => {
  const nodes: HearsayNode[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.shutdown()));
  });

  it(`drops and counts ${PACKETS} bad packets and ${STREAMS} bad streams, and stays in its cluster`, async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    const target = await createNode({ name: 'target', bind: '127.0.0.1:0', config: FAST });
    const peer = await createNode({ name: 'peer', bind: '127.0.0.1:0', join: [`127.0.0.1:${target.address.port}`], config: FAST });
    nodes.push(target, peer);
    await waitFor('the pair to converge', () => target.members().length === 2 && peer.member('target')?.status === 'alive');

    // A deterministic mix of pure noise and mutations of valid packets (a fixed-seed LCG).
    let state = 4242;
    const next = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    const samples = samplePackets();
    const garbage = (i: number) =>
      i % 2 === 0
        ? Uint8Array.from({ length: 1 + Math.floor(next() * 1500) }, () => Math.floor(next() * 256))
        : mutate(samples[i % samples.length]!, next);

    const socket = dgram.createSocket('udp4');
    const before = target.stats.traffic.packetsIn;
    for (let sent = 0; sent < PACKETS; ) {
      const batch = Math.min(50, PACKETS - sent);
      for (let i = 0; i < batch; i++) socket.send(garbage(sent + i), target.address.port, '127.0.0.1');
      sent += batch;
      // Pace the sender so that the kernel's socket buffer never overflows.
      await waitFor('the node to read the batch', () => target.stats.traffic.packetsIn - before >= sent, 10_000);
    }
    socket.close();
    const traffic = target.stats.traffic;
    const dropped = Object.values(traffic.dropped).reduce((a, b) => a + b, 0);
    const accepted = traffic.packetsIn - before - dropped;
    // The peer's own gossip arrives meanwhile, so at least PACKETS came in.
    expect(traffic.packetsIn - before).toBeGreaterThanOrEqual(PACKETS);
    // Pure noise never decodes; a mutation can still be a valid message (then it is handled).
    expect(dropped).toBeGreaterThanOrEqual(PACKETS / 2);
    expect(dropped).toBeLessThanOrEqual(PACKETS);
    expect(accepted).toBeGreaterThanOrEqual(0);

    const streamSamples = [
      encodeStream({ type: 'ping', seqNo: 1, node: 'target' }, { compress: true }),
      encodeStream({ type: 'pushPull', join: false, states: [], userState: new Uint8Array(0) }, { compress: false }),
    ];
    const streamsBefore = target.stats.traffic.streamsIn;
    for (let opened = 0; opened < STREAMS; ) {
      const batch = Math.min(100, STREAMS - opened);
      await Promise.all(
        Array.from({ length: batch }, (_, i) => {
          const bytes = (opened + i) % 2 === 0 ? garbage(opened + i) : mutate(streamSamples[(opened + i) % 2]!, next);
          return new Promise<void>((resolve) => {
            const client = connect({ host: '127.0.0.1', port: target.address.port }, () => client.end(bytes));
            client.on('error', () => resolve());
            client.on('close', () => resolve());
            client.resume();
            client.setTimeout(3000, () => client.destroy());
          });
        }),
      );
      opened += batch;
    }
    await waitFor('every stream to be seen', () => target.stats.traffic.streamsIn - streamsBefore >= STREAMS);

    // Still a member in good standing on both sides.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(peer.member('target')?.status).toBe('alive');
    expect(target.member('peer')?.status).toBe('alive');
    expect(rejections).toEqual([]);
    process.off('unhandledRejection', onRejection);
  });
});
