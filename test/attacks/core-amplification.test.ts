/**
 * Issue 11, item 1 (the core's part): what one datagram can make a live node send. Forged
 * packets go over real UDP on 127.0.0.1 to a node created with createNode; the replies are
 * caught on sockets of this test. One packet of 127 pings is answered with at most
 * maxRepliesPerPacket acks; indirect pings are relayed only toward listed members, at most
 * relayRatePerSource a second per requester, and never toward an address no member has.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../packages/hearsay/src/core/index.js';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { decodePacket, encodePacket, MAX_COMPOUND_PARTS } from '../../packages/hearsay/src/wire/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

const nodes: HearsayNode[] = [];
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
});

async function node(name: string, join?: HearsayNode): Promise<HearsayNode> {
  const created = await createNode({
    name,
    bind: '127.0.0.1:0',
    config: FAST,
    ...(join ? { join: [`127.0.0.1:${join.address.port}`] } : {}),
  });
  nodes.push(created);
  return created;
}

/** A UDP socket of this test that records every message it receives. */
interface Attacker {
  readonly port: number;
  readonly received: Message[];
  send(to: HearsayNode, messages: Message[]): void;
}

async function socket(): Promise<Attacker> {
  const udp = dgram.createSocket('udp4');
  sockets.push(udp);
  const received: Message[] = [];
  udp.on('message', (data) => received.push(...decodePacket(data)));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  return {
    port: udp.address().port,
    received,
    send: (to, messages) => udp.send(encodePacket(messages, { crc: false, compress: false }), to.address.port, '127.0.0.1'),
  };
}

/**
 * Sends `messages` (more than maxRepliesPerPacket of them) in `rounds` datagrams, each once the
 * previous one has been handled, so that none is lost to a full socket buffer.
 */
async function flood(from: Attacker, to: HearsayNode, messages: Message[], rounds: number): Promise<void> {
  const capped = () => to.stats.core.dropped['reply-cap'] ?? 0;
  for (let round = 0; round < rounds; round++) {
    const expected = capped() + messages.length - 4;
    from.send(to, messages);
    await waitFor(`datagram ${round + 1} handled`, () => capped() === expected, { timeoutMs: 5000 });
  }
}

const seqNos = (messages: Message[], type: 'ack' | 'nack' | 'ping') =>
  messages.filter((m): m is Extract<Message, { type: typeof type }> => m.type === type).map((m) => m.seqNo);

describe('amplification through one live node', () => {
  it(`one datagram of ${MAX_COMPOUND_PARTS} pings gets at most maxRepliesPerPacket acks back`, async () => {
    const target = await node('amp-target');
    const attacker = await socket();
    const pings: Message[] = Array.from({ length: MAX_COMPOUND_PARTS }, (_, i) => ({ type: 'ping', seqNo: 1000 + i, node: 'amp-target' }));
    await flood(attacker, target, pings, 20);
    // A lone ping afterwards: once its ack is back, every ack of the attack has arrived too.
    attacker.send(target, [{ type: 'ping', seqNo: 1, node: 'amp-target' }]);
    await waitFor('the sentinel ack', () => seqNos(attacker.received, 'ack').includes(1));
    const acks = seqNos(attacker.received, 'ack').filter((seqNo) => seqNo >= 1000);
    expect(acks.length).toBeLessThanOrEqual(20 * 4);
    expect(new Set(acks)).toEqual(new Set([1000, 1001, 1002, 1003]));
    expect(target.members().map((m) => [m.name, m.status])).toEqual([['amp-target', 'alive']]);
  });

  it('indirect pings toward an address no member has are not relayed: the victim gets nothing', async () => {
    const target = await node('refl-target');
    const attacker = await socket();
    const victim = await socket();
    // Half name a listed member (the node itself) at the victim's address, half a name nobody has.
    const requests: Message[] = Array.from({ length: MAX_COMPOUND_PARTS }, (_, i) => ({
      type: 'indirectPing',
      seqNo: 5000 + i,
      node: i % 2 === 0 ? 'refl-target' : 'nobody',
      target: { host: '127.0.0.1', port: victim.port },
      nack: true,
    }));
    await flood(attacker, target, requests, 20);
    expect(target.stats.core.dropped['reply-cap']).toBe(20 * (MAX_COMPOUND_PARTS - 4));
    // Of the 4 requests each packet may act on, the 2 for a listed member elsewhere are refused;
    // the 2 for an unknown member get a nack (an honest requester may ask about one this node forgot).
    expect(target.stats.core.dropped['relay-unknown-target']).toBe(20 * 2);
    await waitFor('the nacks', () => seqNos(attacker.received, 'nack').length === 20 * 2);
    attacker.send(target, [{ type: 'ping', seqNo: 1, node: 'refl-target' }]);
    await waitFor('the sentinel ack', () => seqNos(attacker.received, 'ack').includes(1));
    expect(victim.received).toEqual([]);
    expect(target.stats.core.relayedPings).toBe(0);
  });

  it('indirect pings toward a real member are relayed at most relayRatePerSource a second for one requester', async () => {
    const helper = await node('relay-helper');
    const member = await node('relay-member', helper);
    await waitFor('the pair to converge', () => helper.member('relay-member')?.status === 'alive');
    const attacker = await socket();
    const requests: Message[] = Array.from({ length: MAX_COMPOUND_PARTS }, (_, i) => ({
      type: 'indirectPing',
      seqNo: 9000 + i,
      node: 'relay-member',
      target: { host: '127.0.0.1', port: member.address.port },
      nack: false,
    }));
    const started = Date.now();
    await flood(attacker, helper, requests, 50);
    const seconds = (Date.now() - started) / 1000;
    const relayed = helper.stats.core.relayedPings;
    expect(relayed).toBeGreaterThan(0);
    // 10 a second with a burst of 10, for a requester: far from the 6,350 the packets asked for.
    expect(relayed).toBeLessThanOrEqual(10 + 10 * seconds);
    expect(helper.stats.core.dropped['relay-rate']).toBe(50 * 4 - relayed);
    // The relayed pings reached the member, whose acks came back to the attacker through the helper.
    await waitFor('the relayed acks', () => seqNos(attacker.received, 'ack').length === relayed);
    expect(helper.member('relay-member')?.status).toBe('alive');
    expect(member.member('relay-helper')?.status).toBe('alive');
  });
});
