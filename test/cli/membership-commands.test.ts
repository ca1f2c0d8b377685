/** `hearsay join` and `hearsay leave` against real agents, as `serf join` and `serf leave`. */
import { afterAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../packages/agent/src/agent/agent.js';
import { start } from '../attacks/agent-harness.js';
import { waitFor } from '../helpers/wait.js';
import { hearsay } from './cluster-harness.js';

describe('hearsay join and hearsay leave', () => {
  const agents: Agent[] = [];
  afterAll(() => Promise.all(agents.map((agent) => agent.close())));
  const httpOf = (agent: Agent) => `127.0.0.1:${agent.http.port}`;

  it('joins an agent through a seed, then makes it leave gracefully: shown left, and it stops', async () => {
    const a = await start({ name: 'join-a' });
    const b = await start({ name: 'join-b' });
    agents.push(a, b);
    const joined = await hearsay({}, ['join', '--http', httpOf(b), `127.0.0.1:${a.node.address.port}`]);
    expect(joined).toMatchObject({ code: 0, stderr: '', stdout: 'Successfully joined cluster by contacting 1 nodes.\n' });
    await waitFor('b alive at a', () => a.node.member('join-b')?.status === 'alive');

    const left = await hearsay({}, ['leave', '--http', httpOf(b)]);
    expect(left).toMatchObject({ code: 0, stderr: '' });
    await b.stopped;
    await waitFor('b left at a', () => a.node.member('join-b')?.status === 'left');
  });

  it.each([
    [['join'], 2, /missing required argument 'address'/],
    [['join', 'no where:1'], 2, /"no where:1" is not an address/],
    [['join', '127.0.0.1:1'], 1, /no seed could be reached/],
  ])('hearsay %j exits %i with a precise message', async (args, code, message) => {
    const agent = agents[0]!;
    const run = await hearsay({}, [...args, '--http', httpOf(agent)]);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
  });
});
