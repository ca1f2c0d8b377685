/**
 * The agent's Serf-style events, queries and key management: POST /v1/event and `hearsay event`,
 * POST /v1/query answered by --query-handler
 * commands (payload on stdin, Serf's environment, killed at the deadline), GET /v1/keys and
 * POST /v1/keys/install|use|remove with the keyring file following the rotation, the CLI's
 * `hearsay query` and `hearsay keys` against it, coordinates and `hearsay rtt`, and every bad
 * request refused precisely.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent, type AgentOptions } from '../../packages/agent/src/agent/agent.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

const KEY_1 = Buffer.alloc(32, 11).toString('base64');
const KEY_2 = Buffer.alloc(16, 12).toString('base64');
const CLI = join(import.meta.dirname, '../../packages/agent/dist/cli/main.js');
const run = promisify(execFile);

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON answers, read freely; a wrong shape fails the assertion that reads it.
type AnyJson = any;

describe('queries, keys and coordinates through the agent', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hearsay-query-api-'));
  const keyringFile = join(scratch, 'keyring.json');
  const agents: Agent[] = [];
  let base: string;
  const post = async (path: string, body: unknown): Promise<{ status: number; json: AnyJson }> => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, json: await response.json() };
  };

  beforeAll(async () => {
    writeFileSync(keyringFile, JSON.stringify([KEY_1]));
    const start = (options: AgentOptions) => startAgent({ bind: '127.0.0.1:0', http: '127.0.0.1:0', config: FAST, ...options }, pino({ level: 'silent' }));
    agents.push(
      await start({
        name: 'qa',
        keyringFile,
        tags: { role: 'web' },
        queryHandlers: [
          'echo=printf "%s|%s|%s|%s" "$HEARSAY_QUERY_NAME" "$HEARSAY_QUERY_FROM" "$SERF_EVENT" "$(cat)"',
          'slow=sleep 20; echo never',
          'fail=exit 3',
        ],
      }),
    );
    const seed = [`127.0.0.1:${agents[0]!.node.address.port}`];
    agents.push(await start({ name: 'qb', encrypt: KEY_1, join: seed, tags: { role: 'db' }, queryHandlers: ['*=printf "any:$SERF_QUERY_NAME"'] }));
    base = `http://127.0.0.1:${agents[0]!.http.port}`;
    await waitFor('both agents alive at both', () => agents.every((a) => a.node.members().filter((m) => m.status === 'alive').length === 2));
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    rmSync(scratch, { recursive: true, force: true });
  });

  it('POST /v1/query: handlers answer with the payload on stdin and the query in the environment; the wildcard takes the rest', async () => {
    const { status, json } = await post('/v1/query', { name: 'echo', payload: 'hi there', timeoutMs: 1500 });
    expect(status).toBe(200);
    expect([...json.acks].sort()).toEqual(['qa', 'qb']);
    const answers = Object.fromEntries(json.responses.map((r: AnyJson) => [r.from, r.payload]));
    expect(answers).toEqual({ qa: 'echo|qa|query|hi there', qb: 'any:echo' });
    expect(json.responses[0].payloadBase64).toBe(Buffer.from(json.responses[0].payload).toString('base64'));
    expect(json.elapsedMs).toBeGreaterThanOrEqual(1400);
  });

  it('filters by node and tag; a handler that fails or overruns the deadline sends nothing', async () => {
    const byTag = await post('/v1/query', { name: 'echo', payloadBase64: Buffer.from([1, 2]).toString('base64'), tags: { role: '^d' }, timeoutMs: 800 });
    expect(byTag.json.acks).toEqual(['qb']);
    const quiet = await post('/v1/query', { name: 'fail', nodes: ['qa'], timeoutMs: 800 });
    expect(quiet.json).toMatchObject({ acks: ['qa'], responses: [] });
    const slow = await post('/v1/query', { name: 'slow', nodes: ['qa'], requestAck: false, timeoutMs: 500 });
    expect(slow.json).toMatchObject({ acks: [], responses: [] });
  });

  it('POST /v1/event and `hearsay event` broadcast a user event that the other agent receives', async () => {
    const got: string[] = [];
    agents[1]!.node.on('message', (payload, name) => got.push(`${name}=${Buffer.from(payload).toString()}`));
    const { status, json } = await post('/v1/event', { name: 'deploy', payload: 'v1' });
    expect(status).toBe(200);
    expect(json).toEqual({ sent: true, name: 'deploy', bytes: 2 });
    const cli = await run(process.execPath, [CLI, 'event', '--http', `127.0.0.1:${agents[0]!.http.port}`, 'deploy', 'v2']);
    expect(cli.stdout).toBe("Event 'deploy' dispatched (2 bytes)\n");
    await waitFor('both events at qb', () => got.includes('deploy=v1') && got.includes('deploy=v2'));
    expect((await post('/v1/event', { payload: 'x' })).json.error).toMatch(/name must be a non-empty string/);
    const large = await post('/v1/event', { name: 'big', payloadBase64: Buffer.alloc(2000).toString('base64') });
    expect(large.status).toBe(400);
    expect(large.json.error).toMatch(/does not fit in one packet/);
  });

  it('refuses bad query requests with 400 and a precise message', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /name must be a non-empty string/],
      [{ name: 'x', payload: 'a', payloadBase64: 'YQ==' }, /not both/],
      [{ name: 'x', payload: 5 }, /payload must be a string/],
      [{ name: 'x', payloadBase64: '!!' }, /base64/],
      [{ name: 'x', nodes: 'qa' }, /nodes must be a list/],
      [{ name: 'x', tags: { role: 1 } }, /tags must be an object/],
      [{ name: 'x', tags: { role: '(' } }, /^the filter for tag "role" is not a regular expression \(RE2 syntax, as Go's\): .*missing closing \)/],
      [{ name: 'x', tags: { role: '(?!db)' } }, /the filter for tag "role" is not a regular expression/],
      [{ name: 'x', relayFactor: 7 }, /relayFactor must be an integer within 0 … 5/],
      [{ name: 'x', timeoutMs: -1 }, /timeoutMs must be a number of milliseconds, above 0/],
      [{ name: 'x', timeoutMs: 3_600_000 }, /at most 300000 \(5 minutes\)/],
      [{ name: 'x', payload: 'y'.repeat(2000) }, /over Serf's limit/],
      [[1], /JSON object/],
    ];
    for (const [body, message] of cases) {
      const { status, json } = await post('/v1/query', body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json.error).toMatch(message);
    }
  });

  it('rotates the keys of both agents and the keyring file follows', async () => {
    const listed = await (await fetch(`${base}/v1/keys`)).json();
    expect(listed).toEqual({ ok: true, nodes: 2, responses: 2, errors: {}, keys: { [KEY_1]: 2 }, primaryKeys: { [KEY_1]: 2 } });
    expect((await post('/v1/keys/install', { key: KEY_2 })).json).toMatchObject({ ok: true, responses: 2 });
    expect((await post('/v1/keys/use', { key: KEY_2 })).json.ok).toBe(true);
    const refused = (await post('/v1/keys/remove', { key: KEY_2 })).json;
    expect(refused.ok).toBe(false);
    expect(Object.keys(refused.errors).sort()).toEqual(['qa', 'qb']);
    expect((await post('/v1/keys/remove', { key: KEY_1 })).json.ok).toBe(true);
    await waitFor(
      'the keyring file to hold only the new key',
      () => readFileSync(keyringFile, 'utf8').includes(KEY_2) && !readFileSync(keyringFile, 'utf8').includes(KEY_1),
    );
    expect(JSON.parse(readFileSync(keyringFile, 'utf8'))).toEqual([KEY_2]);
    expect(agents[1]!.node.keys).toEqual([KEY_2]);
    const short = await post('/v1/keys/install', { key: 'c2hvcnQ=' });
    expect(short.status).toBe(400);
    expect(short.json.error).toBe('encryption key decodes to 5 bytes: it must be 16, 24 or 32 (serf keygen makes 32)');
    const notBase64 = await post('/v1/keys/use', { key: 'my secret!' });
    expect(notBase64.status).toBe(400);
    expect(notBase64.json.error).toBe('encryption key is not base64: give it as `serf keygen` prints one');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    // install, use, remove: three changes at this agent (the refused removal changed nothing).
    expect(metrics).toMatch(/^hearsay_key_changes_total 3$/m);
    expect(Number(/^hearsay_queries_asked_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(9);
    expect(Number(/^hearsay_query_responses_sent_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect((await post('/v1/keys/use', {})).json.error).toMatch(/\{"key"/);
  });

  it('GET /v1/coordinates and /v1/rtt, and `hearsay rtt`, estimate from the acks’ coordinates', async () => {
    await waitFor('a coordinate for qb at qa', () => agents[0]!.node.coordinateOf('qb') !== undefined);
    const coordinates: AnyJson = await (await fetch(`${base}/v1/coordinates`)).json();
    expect(coordinates.self.vec).toHaveLength(8);
    expect(Object.keys(coordinates.members).sort()).toEqual(['qa', 'qb']);
    const estimate: AnyJson = await (await fetch(`${base}/v1/rtt?a=qb`)).json();
    expect(estimate).toMatchObject({ a: 'qb', b: 'qa' });
    expect(estimate.rttMs).toBeGreaterThan(0);
    expect((await fetch(`${base}/v1/rtt`)).status).toBe(400);
    const unknown = await fetch(`${base}/v1/rtt?a=nobody`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as AnyJson).error).toMatch(/no member named nobody/);
    const http = `127.0.0.1:${agents[0]!.http.port}`;
    const out = await run(process.execPath, [CLI, 'rtt', '--http', http, 'qb', 'qa']);
    expect(out.stdout).toMatch(/^Estimated qb <-> qa rtt: \d+\.\d{3} ms\n$/);
    const missing = await run(process.execPath, [CLI, 'rtt', '--http', http, 'nobody']).catch((error) => error);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/HTTP 404: no member named nobody/);
  });

  it('`hearsay query` and `hearsay keys` print what came back and exit 0, 1 or 2', async () => {
    const http = `127.0.0.1:${agents[0]!.http.port}`;
    const query = await run(process.execPath, [CLI, 'query', '--http', http, '--timeout', '1s', '--node', 'qb', 'ping', 'x']);
    expect(query.stdout).toBe("Query 'ping' dispatched\nAck from 'qb'\nResponse from 'qb': any:ping\nTotal Acks: 1\nTotal Responses: 1\n");
    const keys = await run(process.execPath, [CLI, 'keys', '--http', http, '--list']);
    expect(keys.stdout).toBe(`${KEY_2}  [2/2]  primary on 2\n`);
    const failure = await run(process.execPath, [CLI, 'keys', '--http', http, '--remove', KEY_2]).catch((error) => error);
    expect(failure.code).toBe(1);
    expect(failure.stdout).toMatch(/^qa: .*primary key/m);
    expect(failure.stderr).toMatch(/0\/2 members reported success/);
    const usage = await run(process.execPath, [CLI, 'keys', '--http', http, '--list', '--use', KEY_2]).catch((error) => error);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/exactly one of/);
  });

  it('`hearsay query` and `hearsay keys` refuse what the agent could not take with exit 2: a bare --timeout, a bad tag filter, a key that is not base64', async () => {
    const http = `127.0.0.1:${agents[0]!.http.port}`;
    // Each of these fails: a resolved run (exit 0) has no code, and fails the test where it is read.
    const refused = (...args: string[]): Promise<{ code?: number; stdout: string; stderr: string }> =>
      run(process.execPath, [CLI, ...args]).catch((error) => error);
    const bare = await refused('query', '--http', http, '--timeout', '3', 'ping');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/argument '3' is invalid\. "3" has no unit: use a unit, like 3s or 3ms/);
    const filter = await refused('query', '--http', http, '--timeout', '1s', '--tag', 'role=(web', 'ping');
    expect(filter.code).toBe(2);
    expect(filter.stderr).toMatch(/HTTP 400: the filter for tag "role" is not a regular expression \(RE2 syntax, as Go's\): .*missing closing \)/);
    expect(filter.stdout).toBe('');
    const key = await refused('keys', '--http', http, '--install', 'my secret!');
    expect(key.code).toBe(2);
    expect(key.stderr).toMatch(
      /^hearsay: the agent at \S+ answered POST \/v1\/keys\/install with HTTP 400: encryption key is not base64: give it as `serf keygen` prints one\n$/,
    );
  });
});
