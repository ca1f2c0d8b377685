/**
 * Serf's push/pull user state between hearsay nodes on 127.0.0.1: recent events travel with
 * every push/pull, so a node that missed an event's gossip still gets it (once), while a node
 * joining later does not replay the cluster's past.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { waitFor } from '../helpers/wait.js';
import { FAST } from '../helpers/timings.js';

/** Push/pull every 800 ms: the exchanges are what these tests watch. */
const FREQUENT_PUSH_PULLS = { ...FAST, pushPullIntervalMs: 800 };

describe('recent events in push/pull state', () => {
  const nodes: HearsayNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
  });

  it('a node deaf to UDP still receives a broadcast, exactly once, through push/pull', async () => {
    const a = await createNode({ name: 'a', bind: '127.0.0.1:0', config: FREQUENT_PUSH_PULLS });
    nodes.push(a);
    const join = [`127.0.0.1:${a.address.port}`];
    const b = await createNode({ name: 'b', bind: '127.0.0.1:0', config: FREQUENT_PUSH_PULLS, join });
    // Every packet to c is dropped: gossip never reaches it, only TCP exchanges do.
    const c = await createNode({ name: 'c', bind: '127.0.0.1:0', config: FREQUENT_PUSH_PULLS, join, dropRate: 1 });
    nodes.push(b, c);
    const heard: string[] = [];
    c.on('message', (payload, name) => heard.push(`${name}=${Buffer.from(payload).toString()}`));
    b.broadcast(Buffer.from('v7'), 'deploy');
    await waitFor('c to get the event by push/pull', () => heard.length > 0);
    // Several more exchanges carry the same event: it must not be delivered again.
    const exchanges = c.stats.core.pushPulls;
    await waitFor('two more push/pulls at c', () => c.stats.core.pushPulls >= exchanges + 2);
    expect(heard).toEqual(['deploy=v7']);
    expect(c.stats.serf.eventsFromState).toBe(1);
  });

  it('a node that joins later does not replay events from before it joined', async () => {
    const a = await createNode({ name: 'a', bind: '127.0.0.1:0', config: FREQUENT_PUSH_PULLS });
    nodes.push(a);
    a.broadcast(Buffer.from('old'), 'deploy');
    const late = await createNode({ name: 'late', bind: '127.0.0.1:0', config: FREQUENT_PUSH_PULLS, join: [`127.0.0.1:${a.address.port}`] });
    nodes.push(late);
    const heard: string[] = [];
    late.on('message', (payload) => heard.push(Buffer.from(payload).toString()));
    const exchanges = late.stats.core.pushPulls;
    await waitFor('two periodic push/pulls at the late node', () => late.stats.core.pushPulls >= exchanges + 2);
    a.broadcast(Buffer.from('new'), 'deploy');
    await waitFor('the new event', () => heard.includes('new'));
    expect(heard).toEqual(['new']);
  });
});
