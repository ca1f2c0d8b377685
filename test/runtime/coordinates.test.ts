/**
 * Network coordinates between hearsay nodes on 127.0.0.1: acks carry each node's Vivaldi
 * coordinate, every direct probe refines it, and estimates follow from any two of them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

describe('network coordinates', () => {
  const nodes: HearsayNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
  });

  it('three nodes learn each other’s coordinates from probe acks and estimate loopback round trips', async () => {
    const first = await createNode({ name: 'c0', bind: '127.0.0.1:0', config: FAST });
    nodes.push(first);
    for (const name of ['c1', 'c2']) nodes.push(await createNode({ name, bind: '127.0.0.1:0', config: FAST, join: [`127.0.0.1:${first.address.port}`] }));
    await waitFor('every node to have a coordinate for every other', () =>
      nodes.every((node) => nodes.every((other) => node.coordinateOf(other.name) !== undefined)),
    );
    // Refined from the origin, where every coordinate starts.
    expect(first.coordinate.vec.some((x) => x !== 0)).toBe(true);
    for (const node of nodes) {
      for (const other of nodes) {
        if (node === other) continue;
        const ms = node.estimateRtt(other.name)!;
        // Loopback: well under 100 ms, and an estimate is never negative.
        expect(ms).toBeGreaterThan(0);
        expect(ms).toBeLessThan(100);
      }
    }
    // Any two members, from a third node's cache: c0 estimates c1 <-> c2 as c1 does, near enough.
    const seenByC0 = first.estimateRtt('c1', 'c2')!;
    expect(seenByC0).toBeGreaterThan(0);
    expect(first.coordinateOf('nobody')).toBeUndefined();
    expect(first.estimateRtt('nobody')).toBeUndefined();
    expect(first.coordinateOf('c0')).toEqual(first.coordinate);
  });
});
