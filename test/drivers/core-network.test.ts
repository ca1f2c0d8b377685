/**
 * The driver compliance suite over the core's own test network (test/core/harness.ts): each node
 * a `MemberNode` on the fake clock with the runtime's `SerfMember` on top, packets and streams
 * routed by `Network` with a fixed latency and no loss. The thinnest driver there is: what passes
 * here and fails elsewhere is the other driver's doing.
 */
import { createRandom, type Input } from '../../packages/hearsay/src/core/index.js';
import { SerfMember } from '../../packages/hearsay/src/serf/index.js';
import { Harness, Network } from '../core/harness.js';
import { CLOCK_TICK_MS, COMPLIANCE_CONFIG, describeDriverCompliance, steppedClockWaits, type DriverUnderTest, type Seen } from './compliance.js';

interface CoreNode {
  readonly harness: Harness;
  readonly serf: SerfMember;
  readonly events: { type: string; member: string }[];
  readonly received: { name: string; payload: Uint8Array }[];
}

function coreNetworkDriver(): DriverUnderTest {
  const network = new Network(2);
  const nodes: CoreNode[] = [];
  const text = new TextEncoder();

  function addNode(index: number): CoreNode {
    const harness = new Harness({ name: `n${index}`, host: `10.0.0.${index + 1}`, seed: 100 + index, config: COMPLIANCE_CONFIG, start: network.now });
    network.add(harness);
    const events: CoreNode['events'] = [];
    const received: CoreNode['received'] = [];
    const serf = new SerfMember({
      core: harness.node,
      // Queued at the current time: the network's loop steps it in turn, never inside another step.
      step: (input: Input) => harness.deliver(harness.now, input),
      now: () => harness.now,
      random: createRandom(200 + index).float,
      coordinateRandom: createRandom(300 + index),
      keyring: undefined,
      report: (report) => {
        if (report.kind === 'event') received.push({ name: report.name, payload: report.payload });
        if (report.kind === 'query') report.query.respond(text.encode(`n${index}`));
      },
    });
    harness.beforeStep.push((input) => {
      if (input.kind === 'stream' || input.kind === 'streamReply') serf.receiveState(input.message);
    });
    harness.respond((_h, _at, output) => {
      if (output.kind === 'event') events.push({ type: output.event.type, member: output.event.member.name });
      serf.consume(output);
    });
    serf.start();
    return { harness, serf, events, received };
  }

  const node = (index: number) => nodes[index]!;
  const advance = (ms: number) => network.advanceBy(ms);

  return {
    async start(count) {
      for (let i = 0; i < count; i++) nodes.push(addNode(i));
      for (let i = 1; i < count; i++) node(i).harness.deliver(network.now, { kind: 'join', request: i, seeds: [node(0).harness.address] });
    },
    view(observer) {
      return new Map<string, Seen>(
        node(observer)
          .harness.node.members()
          .map((m) => [m.name, { status: m.status, incarnation: m.incarnation }]),
      );
    },
    events: (observer) => node(observer).events,
    async crash(index) {
      network.remove(node(index).harness);
    },
    async leave(index) {
      const { harness, serf } = node(index);
      advance(serf.announceLeave());
      harness.deliver(network.now, { kind: 'leave', timeoutMs: 5000 });
      const departed = () => harness.ofKind('left').length > 0;
      while (!departed()) advance(CLOCK_TICK_MS);
      network.remove(harness);
    },
    async suspect(observer, target) {
      const { harness } = node(observer);
      const incarnation = harness.incarnationOf(`n${target}`)!;
      // From an address no member has, as a forged or relayed rumour would come.
      harness.deliver(network.now, {
        kind: 'packet',
        from: { host: '10.9.9.9', port: 7946 },
        messages: [{ type: 'suspect', node: `n${target}`, incarnation, from: 'intruder' }],
      });
    },
    broadcast: (index, name, payload) => node(index).serf.broadcastEvent(name, payload),
    received: (index) => node(index).received,
    async ask(index, name, timeoutMs) {
      const acks: string[] = [];
      const responses: { from: string; answer: string }[] = [];
      const asked = node(index).serf.ask(
        name,
        new Uint8Array(0),
        { timeoutMs },
        {
          onAck: (from) => acks.push(from),
          onResponse: (from, payload) => responses.push({ from, answer: new TextDecoder().decode(payload) }),
        },
      );
      // As the runtime does: the asker's own application sees its query too.
      asked.local?.respond(text.encode(`n${index}`));
      advance(timeoutMs);
      asked.finish();
      return { acks, responses };
    },
    ...steppedClockWaits(() => network.now, advance, 'fake-clock'),
    async close() {},
  };
}

describeDriverCompliance('core test network (fake clock)', coreNetworkDriver, 30_000);
