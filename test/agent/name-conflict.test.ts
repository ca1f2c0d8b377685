/**
 * An agent started under a name a live member holds gives the name up, as Serf's agent does: it
 * logs why and stops with a NameConflictError (the CLI then exits 1); the cluster keeps the holder.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../packages/agent/src/agent/agent.js';
import { NameConflictError } from '../../packages/hearsay/src/index.js';
import { capturedLog, start } from '../attacks/agent-harness.js';
import { waitFor } from '../helpers/wait.js';

describe('an agent under a name already held', () => {
  const agents: Agent[] = [];
  afterAll(() => Promise.all(agents.map((agent) => agent.close())));

  it('stops with a NameConflictError naming the holder, and the cluster keeps the holder', async () => {
    const first = await start({ name: 'holder-a' });
    const seed = [`127.0.0.1:${first.node.address.port}`];
    const holder = await start({ name: 'held', join: seed });
    agents.push(first, holder);
    await waitFor('the holder alive at the first agent', () => first.node.member('held')?.status === 'alive');
    const { log, lines } = capturedLog();
    const impostor = await start({ name: 'held', join: seed }, log);
    agents.push(impostor);
    await impostor.stopped;
    expect(impostor.failure).toBeInstanceOf(NameConflictError);
    expect((impostor.failure as NameConflictError).claimedBy.port).toBe(holder.node.advertised.port);
    expect(lines().some((line) => line.level >= 50 && /the name held is held by a live member/.test(line.msg))).toBe(true);
    expect(first.node.member('held')).toMatchObject({ status: 'alive', port: holder.node.advertised.port });
  });
});
