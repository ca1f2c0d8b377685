/**
 * Identity churn on real sockets: failed and left members listed until reaped (with a `reap`
 * event), a name taken by a live member refused at start, Serf's conflict resolution from both
 * sides, and a member back at a new address taken as moved.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, NameConflictError, type HearsayNode, type NameConflict } from '../../packages/hearsay/src/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

const nodes: HearsayNode[] = [];

async function start(name: string, options: { join?: string[]; config?: object; bind?: string } = {}): Promise<HearsayNode> {
  const node = await createNode({
    name,
    bind: options.bind ?? '127.0.0.1:0',
    config: { ...FAST, ...options.config },
    ...(options.join ? { join: options.join } : {}),
  });
  nodes.push(node);
  return node;
}

const seedOf = (node: HearsayNode) => [`127.0.0.1:${node.address.port}`];
const statusIn = (node: HearsayNode, name: string) => node.member(name)?.status;
const allAlive = (cluster: HearsayNode[]) => cluster.every((node) => cluster.every((other) => statusIn(node, other.name) === 'alive'));

async function cluster(names: string[], config: object = {}): Promise<HearsayNode[]> {
  const first = await start(names[0]!, { config });
  const rest = [];
  for (const name of names.slice(1)) rest.push(await start(name, { join: seedOf(first), config }));
  const all = [first, ...rest];
  await waitFor(`${names.join(', ')} alive everywhere`, () => allAlive(all));
  return all;
}

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
});

describe('identity', () => {
  it('lists a left member until tombstoneTimeoutMs, then reaps it with a reap event', async () => {
    // The core forgets the departed after gossipToTheDeadTimeMs; Serf's list keeps them to the tombstone timeout.
    const config = { gossipToTheDeadTimeMs: 300, tombstoneTimeoutMs: 1500 };
    const [a, b] = await cluster(['a', 'b'], config);
    const reaped: string[] = [];
    a!.on('reap', (member) => reaped.push(`${member.name}:${member.status}`));
    await b!.leave(5000);
    await b!.shutdown();
    await waitFor('b left at a', () => statusIn(a!, 'b') === 'left');
    const leftAt = Date.now();
    // Past the core's 300 ms, still listed as left.
    await waitFor('a past the core forgetting b', () => Date.now() - leftAt > 600, { intervalMs: 50 });
    expect(statusIn(a!, 'b')).toBe('left');
    await waitFor('b reaped at a', () => reaped.length > 0, { timeoutMs: 5000 });
    expect(reaped).toEqual(['b:left']);
    expect(a!.member('b')).toBeUndefined();
    expect(a!.members().map((m) => m.name)).toEqual(['a']);
  });

  it('refuses to start a node under a name a live member holds, with a NameConflictError', async () => {
    const [a, b] = await cluster(['a', 'b']);
    const error = await start('b', { join: seedOf(a!) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NameConflictError);
    expect((error as NameConflictError).claimedBy.port).toBe(b!.advertised.port);
    expect((error as Error).message).toMatch(/name b is held by a live member at 127\.0\.0\.1:\d+/);
    expect(statusIn(a!, 'b')).toBe('alive');
    expect(a!.member('b')!.port).toBe(b!.advertised.port);
  });

  it('resolves a conflict as Serf does: the holder keeps its name, the newcomer is in the minority', async () => {
    const [a, b, c] = await cluster(['a', 'b', 'c']);
    // An impostor started alone, then joining: the join throws, and it sees the conflict about its own name.
    const impostor = await start('b');
    const seen: NameConflict[] = [];
    impostor.on('conflict', (conflict) => seen.push(conflict));
    await expect(impostor.join(seedOf(a!))).rejects.toBeInstanceOf(NameConflictError);
    await waitFor('the impostor told of the conflict', () => seen.some((conflict) => conflict.name === 'b'));
    const [theirs, ours] = await Promise.all([impostor.resolveConflict(), b!.resolveConflict()]);
    // Members answer only addresses they list as live (no reflection): the impostor hears no one, so holds no majority.
    expect(theirs).toMatchObject({ matching: 0, keep: false });
    // a and c answer b; a node does not answer a conflict about its own name (Serf's rule), so neither b nor the impostor does.
    expect(ours).toEqual({ matching: 2, total: 2, keep: true });
    for (const node of [a!, c!]) expect(node.member('b')!.port).toBe(b!.advertised.port);
  });

  it('takes a failed member back at a new address as moved: an update event, not a second join', async () => {
    const [a, b] = await cluster(['a', 'b']);
    const events: string[] = [];
    for (const type of ['join', 'update'] as const) a!.on(type, (member) => member.name === 'b' && events.push(type));
    const oldPort = b!.advertised.port;
    await b!.shutdown();
    await waitFor('b failed at a', () => statusIn(a!, 'b') === 'failed', { timeoutMs: 15_000 });
    // The same name, another address (a pod restarted with a new IP).
    const moved = await start('b', { bind: '127.0.0.2:0', join: seedOf(a!) });
    await waitFor('b alive at its new address at a', () => statusIn(a!, 'b') === 'alive' && a!.member('b')!.address === '127.0.0.2');
    expect(a!.member('b')!.port).toBe(moved.advertised.port);
    expect(a!.member('b')!.port === oldPort && a!.member('b')!.address === '127.0.0.1').toBe(false);
    expect(events).toEqual(['update']);
  });
});
