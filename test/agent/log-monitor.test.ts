/**
 * GET /v1/monitor (serf monitor): the agent's log lines at the level a monitor asks for, lowering
 * the logger's level only while a monitor needs it (stderr keeps the agent's level), bounded in
 * monitors and in what a monitor that does not read may hold; recent lines replayed on attach; a
 * new level of the agent's own followed. A real agent on 127.0.0.1, its logger made as `hearsay
 * agent` makes it.
 */
import http, { type IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../packages/agent/src/agent/agent.js';
import { LogMonitor } from '../../packages/agent/src/agent/log-monitor.js';
import { droppedMetric, start } from '../attacks/agent-harness.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

/** What the agent writes where `hearsay agent` writes stderr. */
const stderrLines: string[] = [];
const stderr = new Writable({
  write(chunk, _encoding, done) {
    stderrLines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  },
});
const monitor = new LogMonitor('info', stderr);
const { logger } = monitor;
let agent: Agent;

interface Attached {
  response: IncomingMessage;
  text: () => string;
  /** The JSON records received so far. */
  records: () => { level: number; msg: string; [field: string]: unknown }[];
  close: () => void;
}

/** GET /v1/monitor?level=…, kept open and read as it comes. */
function attach(level?: string): Promise<Attached> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port: agent.http.port, path: `/v1/monitor${level ? `?level=${level}` : ''}` }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('error', () => undefined);
      resolve({
        response,
        text: () => text,
        records: () => [...text.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1]!)),
        close: () => request.destroy(),
      });
    });
    request.on('error', reject);
  });
}

beforeAll(async () => {
  agent = await startAgent({ name: 'monitored', bind: '127.0.0.1:0', http: '127.0.0.1:0', config: FAST }, logger, monitor);
});
afterAll(() => agent.close());

describe('GET /v1/monitor', () => {
  it('streams lines at the level asked, lowering the logger only while a monitor needs it', async () => {
    expect(logger.level).toBe('info');
    const debug = await attach('debug');
    const info = await attach('info');
    expect(debug.response.statusCode).toBe(200);
    expect(debug.response.headers['content-type']).toBe('text/event-stream');
    await waitFor('the logger lowered to debug', () => logger.level === 'debug');

    agent.log.debug({ probe: 1 }, 'a debug line');
    agent.log.info({ probe: 2 }, 'an info line');
    const probes = (a: Attached) => a.records().filter((r) => r.probe !== undefined);
    await waitFor('both lines at the debug monitor', () => probes(debug).length >= 2, { timeoutMs: 20_000 });
    expect(probes(debug).map((r) => [r.msg, r.node, r.level])).toEqual([
      ['a debug line', 'monitored', 20],
      ['an info line', 'monitored', 30],
    ]);
    expect(debug.text()).toMatch(/^event: log\ndata: \{"level":20,/m);
    await waitFor('the info line at the info monitor', () => probes(info).length >= 1, { timeoutMs: 20_000 });
    expect(probes(info).map((r) => r.msg)).toEqual(['an info line']);
    // stderr keeps the agent's own level.
    expect(stderrLines.some((line) => line.includes('an info line'))).toBe(true);
    expect(stderrLines.some((line) => line.includes('a debug line'))).toBe(false);

    debug.close();
    await waitFor('the logger back at info once no monitor wants debug', () => logger.level === 'info', { timeoutMs: 20_000 });
    agent.log.debug('unseen');
    agent.log.warn('after');
    await waitFor('the warn line at the info monitor', () => info.records().some((r) => r.msg === 'after'), { timeoutMs: 20_000 });
    expect(info.records().some((r) => r.msg === 'unseen')).toBe(false);
    info.close();
  });

  it('replays the agent’s recent lines (at its own level) to a monitor as it attaches, as Serf’s monitor does', async () => {
    const late = await attach('info');
    await waitFor('the recent lines replayed', () => late.records().some((r) => r.msg === 'agent ready'), { timeoutMs: 20_000 });
    const replayed = late.records().map((r) => r.msg);
    expect(replayed.indexOf('agent ready')).toBeLessThan(replayed.indexOf('an info line'));
    // The debug line went to a monitor only: it was never the agent's own.
    expect(replayed).not.toContain('a debug line');
    late.close();
    const quiet = await attach('error');
    agent.log.error('an error line');
    await waitFor('the error line', () => quiet.records().length >= 1, { timeoutMs: 20_000 });
    expect(quiet.records().map((r) => r.msg)).toEqual(['an error line']);
    quiet.close();
  });

  it('follows a new level of the agent’s own (a config reload): stderr at once, the logger unless a monitor wants more', async () => {
    await waitFor('no monitor left attached', () => monitor.clients === 0, { timeoutMs: 20_000 });
    monitor.setLevel('debug');
    expect(logger.level).toBe('debug');
    agent.log.debug('debug on stderr');
    expect(stderrLines.some((line) => line.includes('debug on stderr'))).toBe(true);
    const tracer = await attach('trace');
    await waitFor('the logger at trace for the monitor', () => logger.level === 'trace');
    monitor.setLevel('warn');
    expect(logger.level).toBe('trace');
    agent.log.info('info while at warn');
    await waitFor('the info line at the trace monitor', () => tracer.records().some((r) => r.msg === 'info while at warn'), { timeoutMs: 20_000 });
    expect(stderrLines.some((line) => line.includes('info while at warn'))).toBe(false);
    tracer.close();
    await waitFor('the logger at warn once the monitor left', () => logger.level === 'warn', { timeoutMs: 20_000 });
    monitor.setLevel('info');
  });

  it('answers 503 on an agent embedded without a monitor', async () => {
    const embedded = await start({ name: 'embedded' });
    try {
      const response = await fetch(`http://127.0.0.1:${embedded.http.port}/v1/monitor`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ error: 'this agent was started without a log monitor' });
    } finally {
      await embedded.close();
    }
  });

  it('refuses an unknown level with a 400', async () => {
    for (const level of ['verbose', 'silent', 'DEBUG']) {
      const response = await fetch(`http://127.0.0.1:${agent.http.port}/v1/monitor?level=${level}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe(`level must be one of trace, debug, info, warn, error, fatal, got "${level}"`);
    }
  });

  it('takes 16 monitors at once and refuses the 17th with a 429', async () => {
    await waitFor('no monitor left attached', () => monitor.clients === 0, { timeoutMs: 20_000 });
    const attached = await Promise.all(Array.from({ length: 16 }, () => attach('warn')));
    expect(attached.every((a) => a.response.statusCode === 200)).toBe(true);
    const refused = await fetch(`http://127.0.0.1:${agent.http.port}/v1/monitor`);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: string }).error).toBe('16 monitors are already attached: close one and retry');
    expect(await droppedMetric(agent, 'agent', 'monitor-clients-full')).toBe(1);
    for (const a of attached) a.close();
    await waitFor('the 16 monitors gone', () => monitor.clients === 0, { timeoutMs: 20_000 });
  });

  it('drops a monitor that does not read once 1 MiB waits for it, and counts it', async () => {
    const stalled = await attach('info');
    stalled.response.pause();
    const blob = 'x'.repeat(64 * 1024);
    // Each line is 64 KiB: the socket buffers fill, then the agent's 1 MiB bound is passed.
    await waitFor(
      'the stalled monitor dropped',
      async () => {
        for (let i = 0; i < 16; i++) agent.log.info({ blob }, 'bulk');
        return (await droppedMetric(agent, 'agent', 'monitor-slow-client')) === 1;
      },
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    expect(monitor.clients).toBe(0);
    stalled.close();
  });
});
