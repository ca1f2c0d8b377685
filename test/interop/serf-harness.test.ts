/**
 * Smoke test of the Serf harness against the real agent: a 3-agent cluster forms, a SIGKILLed
 * agent is reported failed by the others, a `serf leave` shows as left, and an encrypted pair
 * forms. Skipped when `serf` is not on PATH (CI installs it with `apt-get install -y serf`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  freePort,
  liveSerfPids,
  parseMembersJson,
  serfAvailable,
  startSerfAgent,
  startSerfCluster,
  stopAllSerfAgents,
  type SerfAgent,
} from './serf-harness.js';

const HAVE_SERF = serfAvailable();
if (!HAVE_SERF) {
  console.warn('test/interop/serf-harness.test.ts: skipped, `serf` is not on PATH (apt-get install -y serf)');
}

/** A fixed test key: base64 of 32 bytes 0x01. */
const TEST_KEY = Buffer.alloc(32, 1).toString('base64');

describe('parseMembersJson', () => {
  it('parses members, the null list, and IP:PORT addresses', () => {
    expect(parseMembersJson('{"members": null}')).toEqual([]);
    const [m] = parseMembersJson(
      '{"members":[{"name":"a","addr":"127.0.0.1:17946","port":17946,"tags":{"role":"web"},"status":"alive","protocol":{"max":5,"min":2,"version":5}}]}',
    );
    expect(m).toEqual({
      name: 'a',
      addr: '127.0.0.1:17946',
      ip: '127.0.0.1',
      port: 17946,
      tags: { role: 'web' },
      status: 'alive',
      protocol: { min: 2, max: 5, version: 5 },
    });
  });
});

describe.skipIf(!HAVE_SERF)('serf harness (real agent)', () => {
  afterAll(async () => {
    await stopAllSerfAgents();
    expect(liveSerfPids()).toEqual([]);
  });

  it('freePort returns distinct ports', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    expect(new Set(ports).size).toBe(3);
    for (const p of ports) expect(p).toBeGreaterThan(0);
  });

  describe('3-agent cluster', () => {
    let agents: SerfAgent[] = [];
    afterAll(async () => {
      await Promise.all(agents.map((a) => a.kill()));
    });

    it('forms, with tags, addresses and protocol as reported by `serf members -format json`', async () => {
      agents = await startSerfCluster(3, { namePrefix: 'smoke', tagsFor: (i): Record<string, string> => (i === 1 ? { role: 'web', dc: 'x' } : {}) });
      const [a1, a2, a3] = agents as [SerfAgent, SerfAgent, SerfAgent];
      const seen = await a2.members();
      expect(seen.map((m) => m.name).sort()).toEqual(['smoke1', 'smoke2', 'smoke3']);
      for (const agent of agents) {
        const m = seen.find((x) => x.name === agent.name)!;
        expect(m).toMatchObject({ addr: `127.0.0.1:${agent.port}`, ip: '127.0.0.1', port: agent.port, status: 'alive' });
        expect(m.protocol).toEqual({ min: 2, max: 5, version: 5 });
      }
      expect(seen.find((m) => m.name === a1.name)!.tags).toEqual({ role: 'web', dc: 'x' });
      expect(seen.find((m) => m.name === a3.name)!.tags).toEqual({});
      // CLI commands with positional arguments (flags must come first for Go's flag package).
      await a1.event('smoke', 'payload');
      await expect(a1.cli(['query', '-timeout', '1s', 'smoke-q', 'hi'], 10_000)).resolves.toMatch(/Total Acks/);
    });

    it('reports a SIGKILLed agent as failed at the others', async () => {
      const [a1, a2, a3] = agents as [SerfAgent, SerfAgent, SerfAgent];
      const t0 = Date.now();
      await a3.kill('SIGKILL');
      expect(a3.running()).toBe(false);
      // 3 nodes: suspicion timeout 4 s after the first failed probe; observed ~5–7 s.
      await Promise.all([a1.waitForStatus(a3.name, 'failed', 20_000), a2.waitForStatus(a3.name, 'failed', 20_000)]);
      expect(Date.now() - t0).toBeLessThan(20_000);
    });

    it('reports `serf leave` as left, and the leaving agent exits by itself', async () => {
      const [a1, a2] = agents as [SerfAgent, SerfAgent];
      await a2.leave({ waitForExit: false });
      await a1.waitForStatus(a2.name, 'left', 10_000);
      const { signal } = await a2.exited;
      expect(signal).toBeNull();
      const left = await a1.member(a2.name);
      expect(left?.status).toBe('left');
    });
  });

  it('an encrypted pair forms', async () => {
    const agents = await startSerfCluster(2, { namePrefix: 'enc', encryptKey: TEST_KEY });
    try {
      const seen = await agents[1]!.members();
      expect(seen.filter((m) => m.status === 'alive')).toHaveLength(2);
    } finally {
      await Promise.all(agents.map((a) => a.kill()));
    }
  });

  it('rejects with the log tail when an agent cannot start', async () => {
    const port = await freePort();
    // Joining a port nobody listens on makes the agent exit.
    await expect(startSerfAgent({ name: 'nojoin', join: [`127.0.0.1:${port}`], readyTimeoutMs: 10_000 })).rejects.toThrow(/log tail/);
    expect(liveSerfPids()).toEqual([]);
  });
});
