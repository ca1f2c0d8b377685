/**
 * UDP datagrams shaped as memberlist senders never shape them (issue 11, items 1 and 6g), sent to
 * a live node: compounds inside compounds, compress inside compress or inside a compound. One
 * datagram of 255 × 255 pings made a node send 65,025 acks; now such nesting is dropped, counted
 * by reason, and nothing is sent back. Bad parts of an honest-shaped compound are counted.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { compressMessage, encodeMessage } from '../../packages/hearsay/src/wire/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

const nodes: HearsayNode[] = [];
let attacker: Socket | undefined;

afterEach(async () => {
  attacker?.close();
  attacker = undefined;
  await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
});

/** A compound of any number of parts up to 255 (encodeCompound stops at the 127 Go reads right). */
function compound(parts: readonly Uint8Array[]): Uint8Array {
  const head = [7, parts.length, ...parts.flatMap((part) => [part.length >> 8, part.length & 0xff])];
  return Uint8Array.from([...head, ...parts.flatMap((part) => [...part])]);
}

const ping = (seqNo: number) => encodeMessage({ type: 'ping', seqNo, node: 'victim' });

async function cluster(): Promise<HearsayNode> {
  const victim = await createNode({ name: 'victim', bind: '127.0.0.1:0', config: FAST });
  nodes.push(victim);
  nodes.push(await createNode({ name: 'member', bind: '127.0.0.1:0', config: FAST, join: [`127.0.0.1:${victim.address.port}`] }));
  await waitFor('both alive at the victim', () => victim.members().filter((m) => m.status === 'alive').length === 2);
  return victim;
}

/**
 * Sends the datagrams from a new socket, each once the victim has read the one before (a burst
 * of 60 KB datagrams would overflow its receive buffer); resolves with every byte that came back
 * to the socket within `settleMs` of the last.
 */
async function attack(victim: HearsayNode, datagrams: readonly Uint8Array[], settleMs = 500): Promise<number> {
  attacker?.close();
  const socket = createSocket('udp4');
  attacker = socket;
  let received = 0;
  socket.on('message', (data) => (received += data.length));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  for (const datagram of datagrams) {
    const read = victim.stats.traffic.packetsIn;
    await new Promise<void>((resolve, reject) => socket.send(datagram, victim.address.port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
    await waitFor('the victim to read the datagram', () => victim.stats.traffic.packetsIn > read, { timeoutMs: 2000 });
  }
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  return received;
}

const dropped = (victim: HearsayNode, reason: string) => victim.stats.traffic.dropped[reason] ?? 0;

describe('nested compounds and compress messages', () => {
  it('a compound of compressed compounds of 255 pings, and 20 × 127 uncompressed, bring back next to nothing', async () => {
    const victim = await cluster();
    // memberlist unwraps whatever nests: from such a datagram of 255 it would send 65,025 acks.
    // (Here 100 of them, so that it expands within the 2 × 64 KiB a datagram may.)
    const pings = compressMessage(compound(Array.from({ length: 255 }, () => ping(1))));
    const bomb = compressMessage(compound(Array.from({ length: 100 }, () => pings)));
    expect(bomb.length).toBeLessThan(65_000);
    const plain = compound(Array.from({ length: 20 }, () => compound(Array.from({ length: 127 }, (_, i) => ping(i)))));
    expect(plain.length).toBeLessThan(65_000);
    const compressedNest = compressMessage(compound([ping(1), compound([ping(2), ping(3)])]));
    const ack = await attack(victim, [ping(1)]); // one ack, with the victim's coordinate
    const acksBefore = victim.stats.traffic.messagesOut.ack ?? 0;

    const sent = 5 * (bomb.length + plain.length + compressedNest.length);
    const back = await attack(victim, Array.from({ length: 5 }, () => [bomb, plain, compressedNest]).flat());

    // Each compress or compound inside a compound is one drop; the honest ping beside one is answered.
    expect(dropped(victim, 'nested-compress')).toBe(5 * 100);
    expect(dropped(victim, 'nested-compound')).toBe(5 * 20 + 5);
    expect(back).toBeLessThanOrEqual(5 * ack); // five acks of ping 1, nothing more
    expect(back / sent).toBeLessThan(0.01);
    expect((victim.stats.traffic.messagesOut.ack ?? 0) - acksBefore).toBeLessThanOrEqual(5 + 20); // + the member's probes
    expect(
      victim
        .members()
        .map((m) => `${m.name}:${m.status}`)
        .sort(),
    ).toEqual(['member:alive', 'victim:alive']);
  });

  it('compress inside compress is dropped, and a compound too large to be honest once expanded', async () => {
    const victim = await cluster();
    // 255 × 255 pings in one compress layer: 1 MB once expanded, past the 2 × 64 KiB a datagram may.
    const flat = compressMessage(compound(Array.from({ length: 255 }, () => compound(Array.from({ length: 255 }, () => ping(1))))));
    expect(flat.length).toBeLessThan(65_000);
    expect(await attack(victim, [flat])).toBe(0);
    expect(dropped(victim, 'oversized')).toBe(1);
    const twice = compressMessage(compressMessage(compound(Array.from({ length: 100 }, (_, i) => ping(i)))));
    const inCompound = compound([ping(7), compressMessage(compound(Array.from({ length: 100 }, (_, i) => ping(i))))]);
    const ack = await attack(victim, [ping(1)]);
    const back = await attack(victim, [twice, twice, inCompound]);
    expect(dropped(victim, 'nested-compress')).toBe(3);
    expect(back).toBeLessThanOrEqual(ack); // the ack of ping 7
    expect(victim.members().length).toBe(2);
  });
});

describe('bad parts of a compound', () => {
  it('are dropped one by one and counted by reason; the good parts are answered', async () => {
    const victim = await cluster();
    const unknown = Uint8Array.of(99, 1, 2);
    const truncated = ping(5).subarray(0, 4);
    const datagram = compound([ping(1), unknown, truncated, ping(2)]);
    const before = { ...victim.stats.traffic.dropped };
    const back = await attack(victim, [datagram, datagram]);
    expect(dropped(victim, 'unknown-type') - (before['unknown-type'] ?? 0)).toBe(2);
    expect(dropped(victim, 'truncated') - (before.truncated ?? 0)).toBe(2);
    expect(back).toBeGreaterThan(0); // pings 1 and 2 acked, twice
  });
});
