import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../packages/agent/src/agent/event-log.js';
import type { Agent } from '../../packages/agent/src/agent/agent.js';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { start } from '../attacks/agent-harness.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

interface Recorded {
  id: number;
  type: string;
  time: string;
  data: { name?: string; status?: string; payload?: string };
}

describe('the recent-event log', () => {
  it('keeps the newest events in a bounded ring, numbered from 1, oldest first', () => {
    const node = new EventEmitter();
    const log = new EventLog(node as unknown as HearsayNode, 5);
    expect(log.recent()).toEqual([]);
    for (let i = 1; i <= 12; i++) node.emit('message', Buffer.from(`p${i}`), 'tick');
    expect(log.lastId).toBe(12);
    expect(log.recent().map((record) => record.id)).toEqual([8, 9, 10, 11, 12]);
    expect(log.recent(2).map((record) => JSON.parse(record.json).data.payload)).toEqual(['p11', 'p12']);
    const followed: number[] = [];
    const unfollow = log.follow((record) => followed.push(record.id));
    node.emit('message', Buffer.from('x'), 'tick');
    unfollow();
    node.emit('message', Buffer.from('y'), 'tick');
    expect(followed).toEqual([13]);
    log.close();
    node.emit('message', Buffer.from('z'), 'tick');
    expect(log.lastId).toBe(14);
  });

  it('records a degraded pair as it starts and ends, with when it started', () => {
    const node = new EventEmitter();
    const log = new EventLog(node as unknown as HearsayNode, 5);
    node.emit('degraded', 'web-3', true);
    node.emit('degraded', 'web-3', false);
    const [start, end] = log.recent().map((record) => JSON.parse(record.json) as { type: string; data: { name: string; degraded: boolean; since: string } });
    expect(start).toMatchObject({ type: 'degraded', data: { name: 'web-3', degraded: true } });
    expect(end).toMatchObject({ type: 'degraded', data: { name: 'web-3', degraded: false, since: start!.data.since } });
    expect(Date.parse(start!.data.since)).toBeGreaterThan(0);
    log.close();
  });

  describe('GET /v1/events/recent', () => {
    let agent: Agent;
    let peer: HearsayNode;
    let base: string;
    beforeAll(async () => {
      agent = await start({ name: 'log-agent' });
      base = `http://127.0.0.1:${agent.http.port}`;
      peer = await createNode({ name: 'log-peer', bind: '127.0.0.1:0', config: FAST, join: [`127.0.0.1:${agent.node.address.port}`] });
    });
    afterAll(async () => {
      await agent.close();
      await peer.shutdown();
    });
    const recent = async (query = ''): Promise<Recorded[]> => {
      const response = await fetch(`${base}/v1/events/recent${query}`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { events: Recorded[] }).events;
    };

    it('serves the join it saw and a user event, with increasing ids and ISO times, as the SSE stream numbers them', async () => {
      const stream = await fetch(`${base}/v1/events`);
      const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
      peer.broadcast(Buffer.from('v1'), 'deploy');
      const events = await waitFor('the join and the user event in the log', async () => {
        const all = await recent();
        return all.some((e) => e.type === 'join' && e.data.name === 'log-peer') && all.some((e) => e.type === 'user') ? all : undefined;
      });
      const ids = events.map((event) => event.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);
      for (const event of events) expect(new Date(event.time).toISOString()).toBe(event.time);
      const user = events.find((event) => event.type === 'user')!;
      expect(user.data).toEqual({ name: 'deploy', payload: 'v1', payloadBase64: Buffer.from('v1').toString('base64') });
      // The stream carries the same event with the same id, and the same data.
      let text = '';
      while (!text.includes('event: user')) text += (await reader.read()).value ?? '';
      expect(text).toContain(`id: ${user.id}\nevent: user\ndata: ${JSON.stringify(user.data)}\n\n`);
      await reader.cancel();
      const newest = await recent('?limit=1');
      expect(newest).toHaveLength(1);
      expect(newest[0]!.id).toBe(Math.max(...(await recent()).map((e) => e.id)));
    });

    it('refuses a limit outside 1 … 200 with 400 and a message', async () => {
      for (const limit of ['0', '201', 'abc', '-1', '1.5', '']) {
        const response = await fetch(`${base}/v1/events/recent?limit=${limit}`);
        expect(response.status, limit).toBe(400);
        expect(((await response.json()) as { error: string }).error).toMatch(/^limit must be a whole number from 1 to 200/);
      }
      expect((await fetch(`${base}/v1/events/recent?limit=200`)).status).toBe(200);
    });
  });
});
