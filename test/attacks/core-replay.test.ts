/**
 * Issue 11, item 10: with encryption on, re-sending a captured packet that carried `alive` for a
 * member that has since left brought it back as alive (memberlist has no replay defence: the
 * packet decrypts fine). Live nodes on 127.0.0.1 now remember departures past the tombstone's
 * reaping and refuse such an alive; the control shows the replay working without that memory.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_VSN } from '../../packages/hearsay/src/core/index.js';
import { createNode, type HearsayNode, type NodeOptions } from '../../packages/hearsay/src/index.js';
import { encodePacket, Keyring } from '../../packages/hearsay/src/wire/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

const KEY = randomBytes(32);
/** Tombstones forgotten by the core and reaped from the member list after 1 s, so that the replay meets a node that has forgotten the member. */
const CONFIG = { ...FAST, gossipToTheDeadTimeMs: 1000, tombstoneTimeoutMs: 1000 };

const nodes: HearsayNode[] = [];
let attacker: dgram.Socket | undefined;
afterEach(async () => {
  attacker?.close();
  attacker = undefined;
  await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
});

async function node(name: string, options: NodeOptions = {}): Promise<HearsayNode> {
  const created = await createNode({ name, bind: '127.0.0.1:0', keys: [KEY], ...options });
  nodes.push(created);
  return created;
}

/** a1, a2, a3 joined; the packet a2's announcement travels in (encrypted as a2 sends it); then a2 leaves and is reaped. */
async function replayAfterLeave(config: NodeOptions['config']): Promise<{ observers: HearsayNode[]; packet: Uint8Array }> {
  const a1 = await node('a1', { config });
  const seed = [`127.0.0.1:${a1.address.port}`];
  const a2 = await node('a2', { config, join: seed, tags: { role: 'web' } });
  const a3 = await node('a3', { config, join: seed });
  const observers = [a1, a3];
  await waitFor('a2 alive at a1 and a3', () => observers.every((n) => n.members().find((m) => m.name === 'a2')?.status === 'alive'));
  const self = a1.members().find((m) => m.name === 'a2')!;
  const alive = {
    type: 'alive' as const,
    incarnation: self.incarnation,
    profile: { name: 'a2', host: self.address, port: self.port, meta: self.meta, vsn: DEFAULT_VSN },
  };
  const packet = encodePacket([alive], { crc: true, compress: true, keyring: new Keyring([KEY]) });
  await a2.leave();
  await a2.shutdown();
  await waitFor('a2 reaped at a1 and a3', () => observers.every((n) => !n.members().some((m) => m.name === 'a2')));
  return { observers, packet };
}

async function replay(packet: Uint8Array, to: HearsayNode[]): Promise<void> {
  attacker = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => attacker!.bind(0, '127.0.0.1', resolve));
  for (const target of to) attacker.send(packet, target.address.port, '127.0.0.1');
}

describe('replayed encrypted packets', () => {
  it('a captured alive of a member that left is refused after its tombstone is reaped, and counted', async () => {
    const { observers, packet } = await replayAfterLeave(CONFIG);
    await replay(packet, observers);
    await waitFor('the replay refused by both', () => observers.every((n) => n.stats.core.dropped['departed-alive'] === 1));
    for (const observer of observers)
      expect(
        observer
          .members()
          .map((m) => m.name)
          .sort(),
      ).toEqual(['a1', 'a3']);
    expect(observers[0]!.stats.traffic.dropped.decrypt).toBeUndefined();
  });

  it('control: without the memory of departures (memberlist’s behaviour) the replay brings it back as alive', async () => {
    const { observers, packet } = await replayAfterLeave({ ...CONFIG, departedMemoryMs: 0 });
    await replay(packet, observers);
    await waitFor('a2 alive again', () => observers.some((n) => n.members().find((m) => m.name === 'a2')?.status === 'alive'));
  });
});
