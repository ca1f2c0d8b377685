/**
 * An application's listeners that throw (issue 11, item 6d) and a flood of messages that each
 * make a warning (item 6g), against a live node: every listener error is contained, counted and
 * shown once; the node keeps its membership and answers; warnings of one kind are held back past
 * a few, then summed up in one line.
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { encodeCompound, encodeMessage } from '../../packages/hearsay/src/wire/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

const nodes: HearsayNode[] = [];

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
});

async function pair(): Promise<{ victim: HearsayNode; member: HearsayNode; notices: string[] }> {
  const victim = await createNode({ name: 'victim', bind: '127.0.0.1:0', config: FAST });
  const notices: string[] = [];
  victim.on('notice', (_level, text) => void notices.push(text));
  nodes.push(victim);
  return { victim, member: await join(victim, 'member'), notices };
}

async function join(victim: HearsayNode, name: string): Promise<HearsayNode> {
  const node = await createNode({ name, bind: '127.0.0.1:0', config: FAST, join: [`127.0.0.1:${victim.address.port}`] });
  nodes.push(node);
  return node;
}

const listenerErrors = (node: HearsayNode) => node.stats.traffic.dropped['listener-error'] ?? 0;
const alive = (node: HearsayNode) =>
  node
    .members()
    .filter((m) => m.status === 'alive')
    .map((m) => m.name)
    .sort()
    .join();

describe('listeners that throw', () => {
  it('on every event, synchronously or by a rejected promise: contained, counted, shown once; the node carries on', async () => {
    const victim = await createNode({ name: 'victim', bind: '127.0.0.1:0', config: FAST });
    nodes.push(victim);
    const notices: string[] = [];
    victim.on('notice', (_level, text) => void notices.push(text));
    victim.on('notice', () => {
      throw new Error('a notice listener fails too');
    });
    for (const event of ['join', 'update', 'suspect', 'alive', 'failed', 'left', 'message', 'rtt', 'protocol', 'query'] as const) {
      victim.on(event, () => {
        throw new Error(`listener of ${event} fails`);
      });
    }
    victim.on('message', async () => {
      throw new Error('an async listener fails');
    });
    // A listener after a throwing one still runs: this one answers queries.
    victim.on('query', (query) => query.respond(Buffer.from('still here')));

    const member = await join(victim, 'member');
    await waitFor('both alive at both', () => alive(victim) === 'member,victim' && alive(member) === 'member,victim');
    member.broadcast(Buffer.from('hello'), 'greeting');
    const { responses } = await member.query('status', Buffer.from(''), { timeoutMs: 1000, expectedResponses: 2 });
    expect(responses.map((r) => `${r.from}:${Buffer.from(r.payload).toString()}`)).toContain('victim:still here');
    const third = await join(victim, 'third');
    await waitFor('three alive at the victim', () => alive(victim) === 'member,third,victim');
    await third.shutdown();
    await waitFor('the victim to see third fail', () => victim.member('third')?.status === 'failed', { timeoutMs: 15_000 });

    const errors = listenerErrors(victim);
    expect(errors).toBeGreaterThan(10);
    await waitFor('more probes, more rtt events, more errors', () => listenerErrors(victim) > errors + 2);
    // The first error of each event is shown; the rest only counted.
    const shown = (event: string) => notices.filter((text) => text.startsWith(`a '${event}' listener threw`)).length;
    for (const event of ['join', 'message', 'rtt', 'query', 'failed']) expect(shown(event)).toBe(1);
    expect(notices.some((text) => text.includes('an async listener fails') || text.includes('listener of message fails'))).toBe(true);
    expect(alive(member)).toBe('member,victim');
  });
});

describe('a flood of messages that each make a warning', () => {
  it('1,000 pings for another node: five warnings, then one line saying how many were held back', async () => {
    const { victim, member, notices } = await pair();
    await waitFor('both alive', () => alive(victim) === 'member,victim');
    const socket = createSocket('udp4');
    try {
      const wrong = encodeCompound(Array.from({ length: 100 }, (_, i) => encodeMessage({ type: 'ping', seqNo: i, node: 'someone-else' })));
      for (let i = 0; i < 10; i++) {
        const read = victim.stats.traffic.packetsIn;
        await new Promise<void>((resolve) => socket.send(wrong, victim.address.port, '127.0.0.1', () => resolve()));
        await waitFor('the victim to read it', () => victim.stats.traffic.packetsIn > read, { timeoutMs: 2000 });
      }
    } finally {
      socket.close();
    }
    await waitFor('the 1,000 pings to be ignored', () => victim.stats.core.messagesIgnored >= 1000);
    const about = (text: string) => text.startsWith('ping for someone-else');
    expect(notices.filter(about).length).toBe(5);
    await victim.shutdown(); // ends the window at once
    expect(notices.filter((text) => /^995 more notices like "ping for …" were held back in the last \d+ s$/.test(text))).toHaveLength(1);
    expect(alive(member)).toContain('member');
  });
});
