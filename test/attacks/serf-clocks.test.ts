/**
 * Issue 11, item 6: Serf Lamport times at the top of the uint64 range, sent to live agents on
 * 127.0.0.1. One forged user event, query and intent at 2^64 − 1 used to leave every agent unable
 * to send an event, a query, a key listing or its leave intent ("not an unsigned integer:
 * 9007199254740992"), and a push/pull carrying an event then crashed the process. The clocks are
 * exact uint64s now, wrapping as Go's do: everything goes on working.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../packages/agent/src/agent/agent.js';
import type { IncomingQuery } from '../../packages/hearsay/src/index.js';
import {
  QueryFlag,
  StreamDecoder,
  encodeMessage,
  encodeSerfJoin,
  encodeSerfQuery,
  encodeSerfUserEvent,
  encodeSerfUserState,
  encodeStream,
  parseSerfUserState,
  type WireStreamMessage,
} from '../../packages/hearsay/src/wire/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

const TOP = 2n ** 64n - 1n;
/** Push/pull every second: the clocks' test waits for one at each agent. */
const CONFIG = { ...FAST, pushPullIntervalMs: 1000 };

/** One memberlist user message carrying a Serf message, in one datagram, as any host can send it. */
async function sendSerf(port: number, serf: Uint8Array): Promise<void> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) =>
      socket.send(encodeMessage({ type: 'user', payload: serf }), port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
  } finally {
    socket.close();
  }
}

/** A push/pull over TCP carrying `userState`; resolves with the node's answer. */
function pushPull(port: number, userState: Uint8Array): Promise<WireStreamMessage> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const decoder = new StreamDecoder();
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer to the push/pull')));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(encodeStream({ type: 'pushPull', join: false, states: [], userState }, { compress: false })));
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      const message = decoder.next();
      if (!message) return;
      socket.destroy();
      resolve(message);
    });
  });
}

describe('Serf Lamport times at 2^64 − 1 against live agents', () => {
  const agents: Agent[] = [];
  let a: Agent;
  let b: Agent;
  const post = async (agent: Agent, path: string, body: unknown) => {
    const response = await fetch(`http://127.0.0.1:${agent.http.port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    // Only a query's acks are read: the routes' other answers are checked by their status.
    return { status: response.status, json: (await response.json()) as { acks: string[] } };
  };

  beforeAll(async () => {
    const start = (name: string, join?: string[]) =>
      startAgent({ name, bind: '127.0.0.1:0', http: '127.0.0.1:0', config: CONFIG, join }, pino({ level: 'silent' }));
    a = await start('ca');
    agents.push(a);
    b = await start('cb', [`127.0.0.1:${a.node.address.port}`]);
    agents.push(b);
    await waitFor('both agents alive at both', () => agents.every((agent) => agent.node.members().filter((m) => m.status === 'alive').length === 2));
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
  });

  it('forged event, query and intents at 2^64 − 1, then events, queries, keys, push/pulls and a graceful leave all work', async () => {
    const heard: string[] = [];
    const queries: IncomingQuery[] = [];
    for (const agent of agents) {
      agent.node.on('message', (_payload, name) => heard.push(`${agent.node.name}:${name}`));
      agent.node.on('query', (query) => queries.push(query));
    }
    const gossip = a.node.address.port;

    // The attack: one event, one query (answers to a's own address) and one intent per clock, at the top of the range.
    await sendSerf(gossip, encodeSerfUserEvent({ ltime: TOP, name: 'forged', payload: Buffer.from('x'), coalesce: false }));
    await sendSerf(
      gossip,
      encodeSerfQuery({
        ltime: TOP,
        id: 1,
        host: '127.0.0.1',
        port: gossip,
        sourceNode: 'mallory',
        filters: [],
        flags: QueryFlag.ack,
        relayFactor: 0,
        timeoutMs: 1000,
        name: 'forged-q',
        payload: new Uint8Array(0),
      }),
    );
    for (const agent of agents) await sendSerf(agent.node.address.port, encodeSerfJoin({ ltime: TOP, node: 'ghost' }));
    // a gossips the event and the query on: both agents take them, with their exact LTime.
    await waitFor('the forged event at both agents', () => heard.includes('ca:forged') && heard.includes('cb:forged'));
    await waitFor('the forged query at both agents', () => queries.filter((q) => q.name === 'forged-q').length === 2);
    expect(queries.map((q) => q.ltime)).toEqual([TOP, TOP]);
    // The acks to that query reach a, which asked nothing: dropped and counted.
    await waitFor('the acks counted as unmatched at a', () => (a.node.stats.serf.dropped['response-unmatched'] ?? 0) >= 2);

    // POST /v1/event: the next event is stamped after the wrap, and arrives.
    const event = await post(a, '/v1/event', { name: 'after', payload: '1' });
    expect(event.status).toBe(200);
    await waitFor('the new event at b', () => heard.includes('cb:after'));

    // POST /v1/query: a's query clock wrapped to 0, so its next query carries LTime 0; both ack.
    const query = await post(a, '/v1/query', { name: 'after-q', timeoutMs: 800 });
    expect(query.status).toBe(200);
    expect([...query.json.acks].sort()).toEqual(['ca', 'cb']);
    expect(queries.filter((q) => q.name === 'after-q').map((q) => q.ltime)).toEqual([0n, 0n]);

    // GET /v1/keys: a key query to every member (no keyring here, so each answers "empty").
    const keys = await fetch(`http://127.0.0.1:${a.http.port}/v1/keys`);
    expect(keys.status).toBe(200);
    expect(await keys.json()).toMatchObject({ nodes: 2, responses: 2 });

    // A push/pull whose state carries the forged event and clocks at the top: a answers with its
    // own state (published after the operator's event and query), exact and readable.
    const forgedState = encodeSerfUserState({
      ltime: TOP,
      eventLTime: TOP,
      queryLTime: TOP,
      events: [{ ltime: TOP, events: [{ name: 'forged', payload: Buffer.from('x') }] }],
    });
    const answer = await pushPull(gossip, forgedState);
    expect(answer.type).toBe('pushPull');
    const theirs = parseSerfUserState((answer as { userState: Uint8Array }).userState)!;
    expect(theirs.events.flatMap((slot) => slot.events.map((e) => e.name))).toEqual(expect.arrayContaining(['forged', 'after']));
    expect(theirs.events.find((slot) => slot.events.some((e) => e.name === 'forged'))!.ltime).toBe(TOP);
    // The periodic push/pulls between the agents carry those events too, and nothing breaks.
    const [pushesA, pushesB] = [a.node.stats.core.pushPulls, b.node.stats.core.pushPulls];
    await waitFor('a push/pull at each agent', () => a.node.stats.core.pushPulls > pushesA && b.node.stats.core.pushPulls > pushesB);
    // Nothing was delivered twice: the forged event came back by push/pull and gossip, and was known.
    expect(heard.filter((h) => h.endsWith(':forged')).sort()).toEqual(['ca:forged', 'cb:forged']);
    expect(a.node.stats.serf.malformed + b.node.stats.serf.malformed).toBe(0);

    // A graceful leave: b's leave intent encodes, and a sees b as left, not failed.
    const leave = await post(b, '/v1/leave', {});
    expect(leave.status).toBe(200);
    await waitFor('a to see b as left', () => a.node.members().find((m) => m.name === 'cb')?.status === 'left');
    await b.stopped;
    // a is still up and answering.
    const members = (await (await fetch(`http://127.0.0.1:${a.http.port}/v1/members`)).json()) as { name: string; status: string }[];
    expect(members.map((m) => `${m.name}:${m.status}`).sort()).toEqual(['ca:alive', 'cb:left']);
  });
});
