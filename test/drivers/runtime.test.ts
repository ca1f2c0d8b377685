/** The driver compliance suite over the real runtime: nodes on 127.0.0.1, real UDP and TCP, wall time. */
import dgram from 'node:dgram';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { encodePacket } from '../../packages/hearsay/src/wire/index.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { COMPLIANCE_CONFIG, describeDriverCompliance, type DriverUnderTest, type Seen } from './compliance.js';

function runtimeDriver(): DriverUnderTest {
  const nodes: HearsayNode[] = [];
  const running = new Set<HearsayNode>();
  const events: { type: string; member: string }[][] = [];
  const received: { name: string; payload: Uint8Array }[][] = [];
  let intruder: dgram.Socket | undefined;

  return {
    async start(count) {
      for (let i = 0; i < count; i++) {
        const node = await createNode({
          name: `n${i}`,
          bind: '127.0.0.1:0',
          config: COMPLIANCE_CONFIG,
          ...(i > 0 ? { join: [`127.0.0.1:${nodes[0]!.address.port}`] } : {}),
        });
        const seen: { type: string; member: string }[] = [];
        for (const type of ['join', 'update', 'suspect', 'alive', 'failed', 'left'] as const)
          node.on(type, (member) => seen.push({ type, member: member.name }));
        const messages: { name: string; payload: Uint8Array }[] = [];
        node.on('message', (payload, name) => messages.push({ name, payload: Uint8Array.from(payload) }));
        node.on('query', (query) => query.respond(new TextEncoder().encode(node.name)));
        nodes.push(node);
        running.add(node);
        events.push(seen);
        received.push(messages);
      }
    },
    view(observer) {
      return new Map<string, Seen>(nodes[observer]!.members().map((m) => [m.name, { status: m.status, incarnation: m.incarnation }]));
    },
    events: (observer) => events[observer]!,
    async crash(index) {
      running.delete(nodes[index]!);
      await nodes[index]!.shutdown();
    },
    async leave(index) {
      await nodes[index]!.leave();
      running.delete(nodes[index]!);
      await nodes[index]!.shutdown();
    },
    async suspect(observer, target) {
      const to = nodes[observer]!;
      const about = to.member(`n${target}`)!;
      intruder ??= dgram.createSocket('udp4');
      const packet = encodePacket([{ type: 'suspect', node: about.name, incarnation: about.incarnation, from: 'intruder' }], { crc: false, compress: false });
      await new Promise<void>((resolve, reject) => intruder!.send(packet, to.address.port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
    },
    broadcast: (index, name, payload) => nodes[index]!.broadcast(payload, name),
    received: (index) => received[index]!,
    async ask(index, name, timeoutMs) {
      const { acks, responses } = await nodes[index]!.query(name, new Uint8Array(0), { timeoutMs });
      return { acks, responses: responses.map((r) => ({ from: r.from, answer: new TextDecoder().decode(r.payload) })) };
    },
    async until(description, check, boundMs) {
      const started = performance.now();
      await waitFor(description, check, { timeoutMs: boundMs, intervalMs: 10 });
      return performance.now() - started;
    },
    idle: sleep,
    async close() {
      intruder?.close();
      await Promise.all([...running].map((node) => node.shutdown()));
    },
  };
}

describeDriverCompliance('real runtime on 127.0.0.1', runtimeDriver, 60_000);
