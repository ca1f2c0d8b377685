/**
 * Name conflicts between hearsay and Serf 0.9.4 agents: a Serf agent that joins under a hearsay
 * node's name loses Serf's `_serf_conflict` vote and stops, the hearsay node keeping its name;
 * a hearsay node that would start under a Serf agent's name is refused. Skipped without `serf`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createNode, NameConflictError, type HearsayNode, type NameConflict } from '../../packages/hearsay/src/index.js';
import { serfAvailable, startSerfAgent, startSerfCluster, stopAllSerfAgents, type SerfAgent } from './serf-harness.js';

describe.skipIf(!serfAvailable())('name conflicts with Serf agents', () => {
  let agents: SerfAgent[] = [];
  const nodes: HearsayNode[] = [];

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.shutdown()));
    await stopAllSerfAgents();
  });

  it('a Serf agent joining under a hearsay node’s name is in the minority and stops; the hearsay node keeps the name', async () => {
    agents = await startSerfCluster(2, { namePrefix: 'conflict-serf' });
    const node = await createNode({ name: 'shared-name', bind: '127.0.0.1:0', join: [agents[0]!.addr] });
    nodes.push(node);
    const conflicts: NameConflict[] = [];
    node.on('conflict', (conflict) => conflicts.push(conflict));
    for (const agent of agents) await agent.waitForStatus('shared-name', 'alive');

    const impostor = await startSerfAgent({ name: 'shared-name', join: [agents[0]!.addr] });
    const exit = await Promise.race([impostor.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 30_000).unref())]);
    expect(exit, impostor.logTail(20)).not.toBe('running');
    expect(impostor.log()).toMatch(/minority in name conflict resolution/);
    // Serf's agents and hearsay still hold the name at hearsay's address.
    for (const agent of agents) {
      const member = await agent.member('shared-name');
      expect(member).toMatchObject({ status: 'alive', port: node.advertised.port });
    }
    expect(node.member('shared-name')!.port).toBe(node.advertised.port);
    // Serf's members ignore the claim and do not pass it on, so hearsay may never hear of it; if it did, it kept the name.
    expect(conflicts.every((conflict) => conflict.known.port === node.advertised.port)).toBe(true);
  });

  it('refuses to start a hearsay node under a live Serf agent’s name', async () => {
    const error = await createNode({ name: agents[1]!.name, bind: '127.0.0.1:0', join: [agents[0]!.addr] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NameConflictError);
    expect((error as NameConflictError).claimedBy.port).toBe(agents[1]!.port);
    expect(await agents[0]!.member(agents[1]!.name)).toMatchObject({ status: 'alive', port: agents[1]!.port });
  });
});
