import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeBasePort, hearsay } from './cluster-harness.js';

/** What a real agent's GET /v1/members gives (see src/agent/http-api.ts). */
const MEMBERS = [
  { name: 'web-1', address: '127.0.0.1', port: 7946, status: 'alive', incarnation: 1, tags: { role: 'web' }, since: '2026-01-01T00:00:00.000Z', rttMs: 0.912 },
  { name: 'db-1', address: '127.0.0.1', port: 7947, status: 'suspect', incarnation: 4, tags: {}, since: '2026-01-01T00:00:01.000Z' },
  { name: 'old-1', address: '127.0.0.1', port: 7948, status: 'failed', incarnation: 2, tags: {}, since: '2026-01-01T00:00:02.000Z' },
];

/** A stand-in for the agent's HTTP API: /v1/members as given, anything else 404 like the agent. */
function fakeAgent(members: unknown, status = 200): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url === '/v1/members') {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(status === 200 ? members : { error: 'something broke' }));
    } else {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `no route ${request.method} ${request.url}` }));
    }
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

const addressOf = (server: Server) => `127.0.0.1:${(server.address() as AddressInfo).port}`;

describe('hearsay members', () => {
  let agent: Server;
  let broken: Server;
  beforeAll(async () => {
    agent = await fakeAgent(MEMBERS);
    broken = await fakeAgent(MEMBERS, 500);
  });
  afterAll(async () => {
    await new Promise((done) => agent.close(done));
    await new Promise((done) => broken.close(done));
  });

  it('prints the array exactly as the API gives it with --json', async () => {
    const run = await hearsay({}, ['members', '--http', addressOf(agent), '--json']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual(MEMBERS);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('prints a table by default, sorted by name', async () => {
    const run = await hearsay({}, ['members', '--http', `http://${addressOf(agent)}`]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/Name .*Address .*Status .*Incarnation .*Tags .*Since .*RTT/);
    expect(lines[3]).toMatch(/│ db-1 +│ 127\.0\.0\.1:7947 +│ suspect +│ 4 +│ - +│ \d+d ago +│/);
    expect(lines[4]).toMatch(/│ old-1 .*│ failed /);
    expect(lines[5]).toMatch(/│ web-1 .*│ alive .*│ role=web .*│ 0\.91ms +│$/);
    expect(run.stdout).not.toContain('\x1b[');
  });

  it('colours the status when colour is forced', async () => {
    const run = await hearsay({ NO_COLOR: undefined, FORCE_COLOR: '1' }, ['members', '--http', addressOf(agent)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('\x1b[32malive\x1b[39m');
    expect(run.stdout).toContain('\x1b[33msuspect\x1b[39m');
    expect(run.stdout).toContain('\x1b[31mfailed\x1b[39m');
  });

  it('fails clearly (exit 1) when no agent answers', async () => {
    const port = await freeBasePort(1);
    const run = await hearsay({}, ['members', '--http', `127.0.0.1:${port}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `hearsay: cannot reach the agent at http://127.0.0.1:${port} (connection refused): is \`hearsay agent\` running there? (--http HOST:PORT)\n`,
    );
    expect(run.stdout).toBe('');
  });

  it('fails (exit 1) with the agent’s error when it answers with one', async () => {
    const run = await hearsay({}, ['members', '--http', addressOf(broken), '--json']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`hearsay: the agent at http://${addressOf(broken)} answered GET /v1/members with HTTP 500: something broke\n`);
  });

  it('defaults to 127.0.0.1:17946', async () => {
    const run = await hearsay({}, ['members', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--http <host:port> +the agent’s HTTP API \(default: 127\.0\.0\.1:17946, env:\s+HEARSAY_HTTP_ADDR\)/);
  });

  it('takes the agent from HEARSAY_HTTP_ADDR, --http winning, as Serf’s SERF_RPC_ADDR', async () => {
    const fromEnv = await hearsay({ HEARSAY_HTTP_ADDR: addressOf(agent) }, ['members', '--json']);
    expect(fromEnv.code).toBe(0);
    expect(JSON.parse(fromEnv.stdout)).toEqual(MEMBERS);
    const flagWins = await hearsay({ HEARSAY_HTTP_ADDR: '127.0.0.1:1' }, ['members', '--http', addressOf(agent), '--json']);
    expect(JSON.parse(flagWins.stdout)).toEqual(MEMBERS);
    const bad = await hearsay({ HEARSAY_HTTP_ADDR: 'no such:place' }, ['members']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"no such:place" is not an address/);
  });

  it.each([
    [['members', '--http', 'nowhere:port'], /"nowhere:port" is not an address: use HOST:PORT, like 127\.0\.0\.1:17946/],
    [['members', '--bogus'], /unknown option '--bogus'/],
  ])('exits 2 with a precise message for %j', async (args, message) => {
    const run = await hearsay({}, args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
