/**
 * `HearsayNode.forceLeave` between hearsay nodes on 127.0.0.1 (issue 15): a failed member becomes
 * `left` on every node, and with prune is reaped at once; a node that missed the intent's gossip
 * learns it by push/pull; an unknown or live member is refused with a typed error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, LiveMemberError, UnknownMemberError, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { waitFor } from '../helpers/wait.js';
import { FAST } from '../helpers/timings.js';

const CONFIG = { ...FAST, pushPullIntervalMs: 800 };
const WAIT = { timeoutMs: 30_000 };

describe('HearsayNode.forceLeave', () => {
  const nodes: HearsayNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
  });

  async function cluster(names: string[], options: { deaf?: string } = {}): Promise<HearsayNode[]> {
    const started: HearsayNode[] = [];
    for (const name of names) {
      const join = started.length > 0 ? [`127.0.0.1:${started[0]!.address.port}`] : [];
      const node = await createNode({ name, bind: '127.0.0.1:0', config: CONFIG, join, dropRate: options.deaf === name ? 1 : 0 });
      started.push(node);
      nodes.push(node);
    }
    await waitFor(
      'every node to list every other alive',
      () => started.every((node) => node.members().filter((m) => m.status === 'alive').length === names.length),
      WAIT,
    );
    return started;
  }

  const statusAt = (node: HearsayNode, name: string) => node.member(name)?.status;

  it('a failed member becomes left everywhere, with a `left` event; prune then reaps it everywhere', async () => {
    const [a, b, , x] = await cluster(['a', 'b', 'c', 'x']);
    const left: string[] = [];
    const reaped: string[] = [];
    b!.on('left', (member) => left.push(member.name));
    b!.on('reap', (member) => reaped.push(member.name));
    await x!.shutdown();
    await waitFor('a and b to list x failed', () => statusAt(a!, 'x') === 'failed' && statusAt(b!, 'x') === 'failed', WAIT);
    expect(a!.forceLeave('x')).toBe('left');
    expect(statusAt(a!, 'x')).toBe('left');
    await waitFor('b to list x left', () => statusAt(b!, 'x') === 'left', WAIT);
    expect(left).toEqual(['x']);
    expect(a!.forceLeave('x', { prune: true })).toBe('pruned');
    expect(a!.member('x')).toBeUndefined();
    await waitFor('b to reap x', () => b!.member('x') === undefined, WAIT);
    expect(reaped).toEqual(['x']);
  });

  it('a node deaf to gossip learns the leave from push/pull', async () => {
    const [a, , deaf, x] = await cluster(['a', 'b', 'deaf', 'x'], { deaf: 'deaf' });
    await x!.shutdown();
    await waitFor('a and the deaf node to list x failed', () => statusAt(a!, 'x') === 'failed' && statusAt(deaf!, 'x') === 'failed', WAIT);
    a!.forceLeave('x');
    await waitFor('the deaf node to list x left', () => statusAt(deaf!, 'x') === 'left', WAIT);
  });

  it('refuses an unknown member and a live one, this node included, changing nothing', async () => {
    const [a, b] = await cluster(['a', 'b']);
    expect(() => a!.forceLeave('nobody')).toThrow(UnknownMemberError);
    expect(() => a!.forceLeave('nobody')).toThrow('no member named "nobody" is known here');
    expect(() => a!.forceLeave('b')).toThrow(LiveMemberError);
    expect(() => a!.forceLeave('b', { prune: true })).toThrow('b is alive: only a failed member can be forced to leave');
    expect(() => a!.forceLeave('a')).toThrow(LiveMemberError);
    expect([statusAt(a!, 'b'), statusAt(b!, 'a')]).toEqual(['alive', 'alive']);
  });
});
