/** The driver compliance suite over the simulator: the same scenarios on a virtual clock and a modelled network. */
import { Simulation } from '../../packages/hearsay/src/sim/index.js';
import { simHost } from '../../packages/hearsay/src/sim/index.js';
import { CLOCK_TICK_MS, COMPLIANCE_CONFIG, describeDriverCompliance, steppedClockWaits, type DriverUnderTest, type Seen } from './compliance.js';

function simulatorDriver(): DriverUnderTest {
  let sim: Simulation;
  const events: { type: string; member: string }[][] = [];
  const received: { name: string; payload: Uint8Array }[][] = [];
  const run = (ms: number) => sim.runUntil(sim.now + ms);

  return {
    async start(count) {
      sim = new Simulation({ nodes: count, seed: 11, config: COMPLIANCE_CONFIG });
      for (let i = 0; i < count; i++) {
        events.push([]);
        received.push([]);
      }
      sim.eventListeners.push((observer, member, event) => events[observer]!.push({ type: event.type, member: `n${member}` }));
      sim.serfListeners.push((index, report) => {
        if (report.kind === 'event') received[index]!.push({ name: report.name, payload: report.payload });
        if (report.kind === 'query') report.query.respond(new TextEncoder().encode(`n${index}`));
      });
      sim.startNode(0, []);
      for (let i = 1; i < count; i++) sim.startNode(i, [0]);
    },
    view(observer) {
      return new Map<string, Seen>(
        sim
          .node(observer)!
          .members()
          .map((m) => [m.name, { status: m.status, incarnation: m.incarnation }]),
      );
    },
    events: (observer) => events[observer]!,
    async crash(index) {
      sim.crash(index);
    },
    async leave(index) {
      sim.leave(index, 5000);
    },
    async suspect(observer, target) {
      const incarnation = sim.node(observer)!.member(`n${target}`)!.incarnation;
      // From an address no member has, as a forged or relayed rumour would come.
      sim.input(observer, {
        kind: 'packet',
        from: { host: simHost(10_000), port: 7946 },
        messages: [{ type: 'suspect', node: `n${target}`, incarnation, from: 'intruder' }],
      });
    },
    broadcast: (index, name, payload) => sim.userEvent(index, name, payload),
    received: (index) => received[index]!,
    async ask(index, name, timeoutMs) {
      const acks: string[] = [];
      const responses: { from: string; answer: string }[] = [];
      sim.ask(
        index,
        name,
        new Uint8Array(0),
        { timeoutMs },
        {
          onAck: (from) => acks.push(from),
          onResponse: (from, payload) => responses.push({ from, answer: new TextDecoder().decode(payload) }),
        },
      );
      run(timeoutMs + CLOCK_TICK_MS);
      return { acks, responses };
    },
    ...steppedClockWaits(() => sim.now, run, 'virtual'),
    async close() {},
  };
}

describeDriverCompliance('simulator (virtual time)', simulatorDriver, 30_000);
