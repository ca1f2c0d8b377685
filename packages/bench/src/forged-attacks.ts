/**
 * The attacks of one forged message (a forged push/pull, a member's death, a protocol switch, a
 * Lamport time, a query from a NUL name, a cross-site request), each followed by the checks of
 * whether the cluster and its operator got over it.
 */
import { requestJson } from 'hearsay-agent/scripting';
import { forgedDead, forgedLamportEvent, forgedProtocolSwitch, forgedPushPull, nulNameQuery } from './attack-packets.js';
import { QUERY_NAME, type AttackAgent, type AttackCluster } from './attack-systems.js';
import { count, deadPort, pollUntil, sendStream, withListener } from './attack-tools.js';
import type { Attack } from './attacks.js';
import { LOOPBACK, sleep } from './bench-processes.js';

const statusOf = async (cluster: AttackCluster, observer: AttackAgent, name: string): Promise<string | undefined> =>
  (await cluster.system.members(observer, [name])).find((member) => member.name === name)?.status;

function hearsayBase(agent: AttackAgent): string {
  return `http://${LOOPBACK}:${agent.controlPort}`;
}

export const FORGED_ATTACKS: readonly Attack[] = [
  {
    key: 'nul-name-query',
    title: 'query from a member whose name holds a NUL byte, to an agent with a query handler',
    hearsayOnly: false,
    memory: false,
    alone: false,
    async run({ cluster }) {
      const victim = cluster.victim;
      return withListener(async (listener) => {
        await listener.send(nulNameQuery(QUERY_NAME, listener.port, 3), victim.gossipPort);
        await listener.quiet(2_000, 6_000);
        const up = !victim.process.hasExited() && (await cluster.system.answers(victim, 3_000));
        return {
          outcome: `${up ? 'still up' : 'DOWN'}; ${listener.packets > 0 ? `answered (${listener.packets} packets back)` : 'no answer'}`,
          figures: { up, answer_packets: listener.packets },
        };
      });
    },
  },
  {
    key: 'cross-site-leave',
    title: 'cross-site POST /v1/leave (text/plain, foreign Origin), as any web page can send',
    hearsayOnly: true,
    memory: false,
    alone: false,
    async run({ cluster }) {
      const victim = cluster.victim;
      let status: number | string;
      try {
        const response = await fetch(`${hearsayBase(victim)}/v1/leave`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain', origin: 'http://attacker.example' },
          body: 'x',
          signal: AbortSignal.timeout(5_000),
        });
        status = response.status;
      } catch (error) {
        status = (error as Error).message;
      }
      await sleep(3_000);
      const up = !victim.process.hasExited() && (await cluster.system.answers(victim, 3_000));
      const answer = typeof status === 'number' ? `HTTP ${status}` : status;
      return { outcome: `answered ${answer}; ${up ? 'still up' : 'the agent left and stopped'}`, figures: { status, up } };
    },
  },
  {
    key: 'forged-dead-max',
    title: 'forged `dead` of a member at incarnation 4294967295',
    hearsayOnly: false,
    memory: false,
    alone: false,
    async run({ cluster }) {
      const victim = cluster.victim;
      const member = cluster.agents[2]!;
      await withListener((listener) => listener.send(forgedDead(member.name), victim.gossipPort));
      const listedAs = await pollUntil(async () => (await statusOf(cluster, victim, member.name)) !== 'alive', 3_000, 100);
      const alive = async () => (await statusOf(cluster, victim, member.name)) === 'alive';
      const back = await pollUntil(alive, 10_000);
      if (back !== null) {
        const outcome = listedAs === null ? 'ignored' : `listed not alive, back by itself after ${(back / 1000).toFixed(1)} s`;
        return { outcome, figures: { comes_back: true, operator_join: false } };
      }
      const joinFailure = await cluster.system.join(victim, `${LOOPBACK}:${member.gossipPort}`);
      const afterJoin = await pollUntil(alive, 5_000);
      return {
        outcome:
          afterJoin !== null
            ? 'back only after an operator join'
            : `gone for good (an operator join: ${joinFailure ?? 'succeeded, member still not listed alive'})`,
        figures: { comes_back: afterJoin !== null, operator_join: true },
      };
    },
  },
  {
    key: 'forged-protocol-switch',
    title: 'forged protocol switch at epoch 2^32 − 1, then the operator switches back',
    hearsayOnly: true,
    memory: false,
    alone: false,
    async run({ cluster }) {
      const victim = cluster.victim;
      const protocolOf = async (agent: AttackAgent) =>
        ((await requestJson(hearsayBase(agent), '/v1/protocol', { timeoutMs: 3_000 })) as { protocol: string }).protocol;
      await withListener((listener) => listener.send(forgedProtocolSwitch(), victim.gossipPort));
      const switched = await pollUntil(async () => (await protocolOf(victim)) === 'heartbeat', 5_000);
      let failure: string | null = null;
      try {
        await requestJson(hearsayBase(cluster.agents[1]!), '/v1/protocol', { method: 'PUT', body: { protocol: 'swim' }, timeoutMs: 5_000 });
      } catch (error) {
        failure = (error as Error).message.slice(0, 160);
      }
      const back = await pollUntil(async () => (await Promise.all(cluster.agents.map(protocolOf))).every((p) => p === 'swim'), 10_000);
      const forged = switched === null ? 'forged switch not taken' : 'the cluster switched to heartbeat';
      const operator = back !== null ? 'the operator switched it back' : `the operator could NOT switch back${failure ? ` (${failure})` : ''}`;
      return { outcome: `${forged}; ${operator}`, figures: { forged_switch_taken: switched !== null, switched_back: back !== null } };
    },
  },
  {
    key: 'forged-lamport-max',
    title: 'forged Serf user event at Lamport time 2^64 − 1, then an operator event',
    hearsayOnly: false,
    memory: false,
    alone: false,
    async run({ cluster }) {
      await withListener((listener) => listener.send(forgedLamportEvent(), cluster.victim.gossipPort));
      await sleep(2_000);
      const failures = await Promise.all(cluster.agents.map((agent) => cluster.system.event(agent)));
      const failed = failures.filter((failure) => failure !== null);
      return {
        outcome:
          failed.length === 0
            ? 'operator events still work on every agent'
            : `operator events fail on ${failed.length}/${failures.length} agents: ${failed[0]}`,
        figures: { event_failures: failed.length },
      };
    },
  },
  {
    key: 'forged-push-pull',
    title: 'forged push/pull introducing 100,000 members',
    hearsayOnly: false,
    memory: true,
    alone: true,
    async run({ cluster, scale }) {
      const victim = cluster.victim;
      const stream = forgedPushPull(scale.forgedMembers, await deadPort(), 'forged');
      await sendStream(victim.gossipPort, stream, 10_000);
      await sleep(2_000);
      const started = performance.now();
      const answers = await cluster.system.answers(victim, 15_000);
      const latencyMs = performance.now() - started;
      const members = await cluster.system.memberCount(victim).catch(() => null);
      return {
        outcome:
          `${members === null ? 'member count unavailable' : `${count(members)} members after`}; ` +
          `API ${answers ? `answered in ${latencyMs.toFixed(0)} ms` : 'did NOT answer in 15 s'}`,
        figures: { forged: scale.forgedMembers, members_after: members, api_answers: answers, api_latency_ms: latencyMs },
      };
    },
  },
];
