import { afterEach, describe, expect, it } from 'vitest';
import { createNode, OptionError, type HearsayNode, type NodeOptions, type Protocol } from '../../packages/hearsay/src/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

/** SWIM at the shared fast timings; heartbeats every 200 ms, suspect after 1.5 s of silence, failed after 3 s. */
const CONFIG = { ...FAST, heartbeatIntervalMs: 200, suspectAfterMs: 1500, failAfterMs: 3000 };

const nodes: HearsayNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
});

/** `count` nodes named prefix0 … joined through the first, all listing each other alive. */
async function cluster(prefix: string, count: number, options: NodeOptions = {}): Promise<HearsayNode[]> {
  const first = await createNode({ name: `${prefix}0`, bind: '127.0.0.1:0', config: CONFIG, ...options });
  nodes.push(first);
  const group = [first];
  for (let i = 1; i < count; i++) {
    const node = await createNode({ name: `${prefix}${i}`, bind: '127.0.0.1:0', join: [`127.0.0.1:${first.address.port}`], config: CONFIG, ...options });
    nodes.push(node);
    group.push(node);
  }
  await waitFor(`${count} alive everywhere`, () => group.every((n) => n.members().filter((m) => m.status === 'alive').length === count));
  return group;
}

describe('run-time protocol switch', () => {
  it('spreads from one node to all, both ways, keeping every member alive', async () => {
    const group = await cluster('s', 4);
    const verdicts: string[] = [];
    const switches = new Map<string, [Protocol, number, string][]>();
    for (const node of group) {
      node.on('failed', (m) => verdicts.push(`${node.name} failed ${m.name}`));
      node.on('left', (m) => verdicts.push(`${node.name} left ${m.name}`));
      switches.set(node.name, []);
      node.on('protocol', (...change) => switches.get(node.name)!.push(change));
    }
    const tablesBefore = group.map((n) => n.stats.core.heartbeatTablesReceived);

    group[1]!.setProtocol('heartbeat');
    expect(group[1]!.protocol).toBe('heartbeat');
    await waitFor('heartbeat everywhere', () => group.every((n) => n.protocol === 'heartbeat'));
    // Epochs are a hybrid logical clock in seconds since the Unix epoch.
    const first = group[1]!.protocolSwitch;
    expect(first.origin).toBe('s1');
    expect(Math.abs(first.epoch - Date.now() / 1000)).toBeLessThan(60);
    for (const node of group) expect(node.protocolSwitch).toEqual(first);
    // Long enough for a member never heard from to be suspected and failed (3 s).
    await new Promise((resolve) => setTimeout(resolve, 3500));
    group.forEach((n, i) => {
      expect(n.stats.core.heartbeatTablesReceived).toBeGreaterThan(tablesBefore[i]!);
    });
    const probes = group.map((n) => n.stats.core.probes);

    group[3]!.setProtocol('swim');
    const second = group[3]!.protocolSwitch;
    expect(second.epoch).toBeGreaterThan(first.epoch);
    await waitFor('SWIM everywhere', () => group.every((n) => n.protocol === 'swim'));
    await waitFor('SWIM probing again', () => group.every((n, i) => n.stats.core.probes > probes[i]!));
    for (const node of group) {
      expect(switches.get(node.name)).toEqual([
        ['heartbeat', first.epoch, 's1'],
        ['swim', second.epoch, 's3'],
      ]);
      expect(node.members().map((m) => m.status)).toEqual(['alive', 'alive', 'alive', 'alive']);
    }
    expect(verdicts).toEqual([]);
  });

  it('refuses an unknown protocol and bad pins with OptionError', async () => {
    const [node] = await cluster('v', 1);
    expect(() => node!.setProtocol('gossip' as Protocol)).toThrow(OptionError);
    expect(() => node!.setProtocol('gossip' as Protocol)).toThrow(/unknown protocol "gossip": use swim, heartbeat, hybrid/);
    expect(() => node!.pin([''])).toThrow(/pinned member name "" must be 1 to 255 characters/);
    expect(() => node!.pin('v1' as unknown as string[])).toThrow(/list of member names/);
    await expect(createNode({ bind: '127.0.0.1:0', protocol: 'tcp' as Protocol })).rejects.toThrow(
      /option "protocol" must be one of "swim", "heartbeat", "hybrid", not "tcp"/,
    );
  });
});

describe('round-trip times and pinned members', () => {
  it('heartbeat mode measures RTT only to pinned members; pin() changes them at run time', async () => {
    const [a, b, c] = await cluster('p', 3, { protocol: 'heartbeat' });
    expect(a!.protocol).toBe('heartbeat');
    expect(a!.protocolSwitch).toEqual({ epoch: 0, origin: '' });
    a!.pin(['p1']);
    expect(a!.pinned).toEqual(['p1']);
    await waitFor('an RTT to the pinned member', () => a!.member('p1')?.rttMs !== undefined);
    expect(a!.member('p1')!.rttMs).toBeGreaterThanOrEqual(0);
    expect(a!.member('p1')!.rttMs).toBeLessThan(500);
    expect(a!.member('p2')!.rttMs).toBeUndefined();
    expect(a!.stats.core.directAcks).toBeGreaterThan(0);
    // b and c pin no one: they only gossip tables.
    expect(b!.stats.core.directHeartbeatsSent + c!.stats.core.directHeartbeatsSent).toBe(0);
    a!.pin([]);
    const sent = a!.stats.core.directHeartbeatsSent;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(a!.stats.core.directHeartbeatsSent).toBe(sent);
  });

  it('hybrid heartbeats every member directly in a small cluster and measures each RTT', async () => {
    const [a] = await cluster('h', 3, { protocol: 'hybrid' });
    expect(a!.allToAll).toBe(true);
    await waitFor('RTTs to both others', () => a!.members().filter((m) => m.rttMs !== undefined).length === 2);
    expect(a!.member('h0')!.rttMs).toBeUndefined();
  });
});

describe('generations', () => {
  it('a node starts at seconds since the epoch, so that a restart outbids its tombstone in heartbeat mode', async () => {
    const before = Math.floor(Date.now() / 1000);
    const [a, b] = await cluster('g', 2, { protocol: 'heartbeat' });
    expect(b!.self.incarnation).toBeGreaterThanOrEqual(before);
    expect(b!.self.incarnation).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    const first = b!.self.incarnation;
    const port = b!.address.port;
    await b!.shutdown();
    await waitFor('b failed at a', () => a!.member('g1')?.status === 'failed');
    // The same second would give the same generation, which the tombstone holds dead.
    await waitFor('the next second', () => Math.floor(Date.now() / 1000) > first);
    const again = await createNode({ name: 'g1', bind: `127.0.0.1:${port}`, join: [`127.0.0.1:${a!.address.port}`], config: CONFIG, protocol: 'heartbeat' });
    nodes.push(again);
    await waitFor('b alive again at a', () => a!.member('g1')?.status === 'alive');
    expect(a!.member('g1')!.incarnation).toBeGreaterThan(first);
  });
});
