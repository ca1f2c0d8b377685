/**
 * Surviving a restart (issue 14): five agents, each keeping a --snapshot. One is stopped without
 * leaving and started again on its port with --rejoin and no --join: it finds the cluster from
 * its snapshot and is alive everywhere again, and a user event it handled before the restart,
 * sent to it again, is not delivered twice (its event clock was restored). One that left
 * gracefully and restarts with --rejoin stays alone.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Agent, AgentOptions } from '../../packages/agent/src/agent/agent.js';
import { BindError } from '../../packages/hearsay/src/index.js';
import { parseSnapshot } from '../../packages/hearsay/src/serf/snapshot.js';
import { encodeMessage, encodeSerfUserEvent } from '../../packages/hearsay/src/wire/index.js';
import { capturedLog, sendDatagrams, start } from '../attacks/agent-harness.js';
import { waitFor } from '../helpers/wait.js';

const BEFORE = { name: 'before-restart', payload: new TextEncoder().encode('handled once') };
const ATTEMPTS = 3;

describe('restarting an agent with --snapshot and --rejoin', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hearsay-snapshot-rejoin-'));
  const running = new Set<Agent>();
  /** Event names each agent delivered, by agent. */
  const delivered = new Map<Agent, string[]>();

  const launch = async (options: AgentOptions, log = capturedLog().log): Promise<Agent> => {
    const agent = await start(options, log);
    running.add(agent);
    const names: string[] = [];
    delivered.set(agent, names);
    agent.node.on('message', (_payload, name) => names.push(name));
    return agent;
  };
  const stop = async (agent: Agent, how: 'close' | 'leave') => {
    await agent[how]();
    running.delete(agent);
  };
  const stopAll = () => Promise.all([...running].map((agent) => stop(agent, 'close')));
  const statusAt = (agent: Agent, name: string) => agent.node.member(name)?.status;

  afterAll(async () => {
    await stopAll();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function scenario(attempt: number): Promise<void> {
    const snapshotOf = (name: string) => join(scratch, `${attempt}-${name}.snapshot`);
    const first = await launch({ name: 'a0', snapshot: snapshotOf('a0') });
    const seed = [`127.0.0.1:${first.node.address.port}`];
    const agents = [first];
    for (const name of ['a1', 'a2', 'a3', 'a4']) agents.push(await launch({ name, snapshot: snapshotOf(name), join: seed }));
    const alive = (agent: Agent) => agent.node.members().filter((m) => m.status === 'alive').length;
    await waitFor('5 alive at every agent', () => agents.every((agent) => alive(agent) === 5));

    first.node.broadcast(BEFORE.payload, BEFORE.name);
    await waitFor('the event delivered to the four others', () => agents.slice(1).every((agent) => delivered.get(agent)!.includes(BEFORE.name)));

    // a3 stops without leaving, as a crash or a kill would; its port is kept to restart on.
    const [, , , victim, leaver] = agents as [Agent, Agent, Agent, Agent, Agent];
    const port = victim.node.address.port;
    await stop(victim, 'close');
    const others = agents.filter((agent) => agent !== victim && agent !== leaver);
    await waitFor('a3 failed at the others', () => others.every((agent) => statusAt(agent, 'a3') === 'failed'));
    const saved = parseSnapshot(readFileSync(snapshotOf('a3'), 'utf8'), 'a3');
    expect([...saved.alive.keys()].sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(saved.clocks.event).toBeGreaterThanOrEqual(1n);

    // Same name, same port, no --join: the snapshot's members are the way back. A BindError (the port taken meanwhile) starts over.
    const restarted = await launch({ name: 'a3', bind: `127.0.0.1:${port}`, snapshot: snapshotOf('a3'), rejoin: true });
    const cluster = [...others, leaver, restarted];
    await waitFor('a3 alive again at every agent', () => cluster.every((agent) => statusAt(agent, 'a3') === 'alive' && alive(agent) === 5));

    // The event a3 handled before, as gossip could bring it again: refused below the restored event clock.
    const refused = () => restarted.node.stats.serf.dropped['event-seen-before-restart'] ?? 0;
    const before = refused();
    const replay = encodeSerfUserEvent({ ltime: saved.clocks.event, name: BEFORE.name, payload: BEFORE.payload, coalesce: false });
    await sendDatagrams(port, [[encodeMessage({ type: 'user', payload: replay })]]);
    await waitFor('the replayed event refused as seen before the restart', () => refused() > before);
    first.node.broadcast(new TextEncoder().encode('new'), 'after-restart');
    await waitFor('a new event delivered to a3', () => delivered.get(restarted)!.includes('after-restart'));
    expect(delivered.get(restarted)).toEqual(['after-restart']);

    // a4 leaves gracefully: its snapshot says so, and a restart with --rejoin stays alone.
    await stop(leaver, 'leave');
    await waitFor('a4 left at the others', () => [...others, restarted].every((agent) => statusAt(agent, 'a4') === 'left'));
    const { log, lines } = capturedLog();
    const back = await launch({ name: 'a4', snapshot: snapshotOf('a4'), rejoin: true }, log);
    await waitFor('a4 saying it does not rejoin', () => lines().some((line) => line.msg.includes('not rejoining: it left gracefully last time')));
    expect(back.node.members().map((member) => member.name)).toEqual(['a4']);
    expect([...others, restarted].every((agent) => statusAt(agent, 'a4') === 'left')).toBe(true);
  }

  it('rejoins a restarted member from its snapshot, without delivering an old event again; one that left stays out', async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        await scenario(attempt);
        return;
      } catch (error) {
        if (!(error instanceof BindError) || attempt === ATTEMPTS) throw error;
        await stopAll();
      }
    }
  }, 120_000);
});
