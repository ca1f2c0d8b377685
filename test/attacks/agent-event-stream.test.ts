/**
 * Event-stream clients that never read, then a burst of forged events (issue 11, item 6e): write()'s
 * return value was ignored, and 100 such clients plus a burst took an agent to 1.4 GB. Now each
 * client may fall 256 KiB behind before it is dropped, and 64 stream at once.
 */
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../packages/agent/src/agent/agent.js';
import { waitFor } from '../helpers/wait.js';
import { droppedMetric, forgedQuery, gaugeMetric, sendDatagrams, start } from './agent-harness.js';

const PER_DATAGRAM = 40;
const MAX_QUERIES = 12_000;
const MAX_BUFFERED = 256 * 1024;

describe('100 event-stream clients that never read, and a burst of forged queries', () => {
  let agent: Agent;
  const sluggards: Socket[] = [];
  let reader: http.ClientRequest;
  let received = 0;

  beforeAll(async () => {
    agent = await start({ name: 'streamer' });
  });
  afterAll(async () => {
    reader?.destroy();
    for (const socket of sluggards) socket.destroy();
    await agent.close();
  });

  it('drops each client that falls behind, refuses those beyond 64, and keeps serving the one that reads', async () => {
    const port = agent.http.port;
    // One client that reads, counting the query events it gets.
    let tail = '';
    reader = http.get(`http://127.0.0.1:${port}/v1/events`, (response) => {
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        const text = tail + chunk;
        received += text.split('event: query\n').length - 1;
        tail = text.slice(-12);
      });
    });
    await waitFor('the reader streaming', async () => (await gaugeMetric(agent, 'hearsay_event_stream_clients')) === 1);
    for (let i = 0; i < 100; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {}); // dropped by the agent: expected
      socket.write(`GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      socket.pause();
      sluggards.push(socket);
    }
    await waitFor('63 streaming, 37 refused', async () => (await droppedMetric(agent, 'agent', 'event-stream-clients-full')) === 37);
    expect(await gaugeMetric(agent, 'hearsay_event_stream_clients')).toBe(64);
    const refused = await fetch(`http://127.0.0.1:${port}/v1/events`);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: string }).error).toBe('64 clients are already following the event stream: close one and retry');

    // Forged queries of ~1 KB, each an event on every stream, until every sluggard is dropped.
    const payload = Buffer.alloc(950, 'q');
    let sent = 0;
    let peakBuffered = 0;
    while ((await droppedMetric(agent, 'agent', 'event-stream-slow-client')) < 63 && sent < MAX_QUERIES) {
      const datagrams = Array.from({ length: 5 }, (_, d) =>
        Array.from({ length: PER_DATAGRAM }, (_, i) => forgedQuery({ ltime: sent + d * PER_DATAGRAM + i + 1, from: 'forger', name: 'burst', payload })),
      );
      const before = agent.node.stats.serf.queriesReceived;
      await sendDatagrams(agent.node.address.port, datagrams, (index) =>
        waitFor(`datagram ${index} taken in`, () => agent.node.stats.serf.queriesReceived >= before + (index + 1) * PER_DATAGRAM),
      );
      sent += 5 * PER_DATAGRAM;
      peakBuffered = Math.max(peakBuffered, await gaugeMetric(agent, 'hearsay_event_stream_buffered_bytes'));
    }
    expect(await droppedMetric(agent, 'agent', 'event-stream-slow-client')).toBe(63);
    // What the agent holds for its clients never went past the bound of each.
    expect(peakBuffered).toBeLessThanOrEqual(64 * (MAX_BUFFERED + 2048));
    await waitFor('the reader to catch up', () => received === sent);
    expect(await gaugeMetric(agent, 'hearsay_event_stream_clients')).toBe(1);
    expect(await gaugeMetric(agent, 'hearsay_event_stream_buffered_bytes')).toBeLessThanOrEqual(MAX_BUFFERED);
    expect((await fetch(`http://127.0.0.1:${port}/v1/self`)).status).toBe(200);
    // A slot freed by a dropped client takes a new one.
    const again = await fetch(`http://127.0.0.1:${port}/v1/events`);
    expect(again.status).toBe(200);
    await again.body?.cancel();
  }, 60_000);
});
