import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode, type NodeOptions, type NodeStats } from '../../packages/hearsay/src/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

describe('nodes in one process', () => {
  const nodes: HearsayNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
  });

  it('20 nodes converge, and shutdown leaves no socket or timer behind', async () => {
    const before = new Set(process.getActiveResourcesInfo());
    const seed = await createNode({ name: 'n0', bind: '127.0.0.1:0', config: FAST });
    nodes.push(seed);
    const seedAddress = `127.0.0.1:${seed.address.port}`;
    for (let i = 1; i < 20; i++) {
      nodes.push(await createNode({ name: `n${i}`, bind: '127.0.0.1:0', join: [seedAddress], config: FAST, tags: { i: String(i) } }));
    }
    await waitFor('every node to list 20 alive members', () => nodes.every((node) => node.members().filter((m) => m.status === 'alive').length === 20));
    expect(nodes[0]!.member('n7')!.tags).toEqual({ i: '7' });
    expect(nodes[0]!.stats.traffic.packetsIn).toBeGreaterThan(0);
    await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
    const sockets = (kinds: Iterable<string>) => [...kinds].filter((kind) => kind === 'UDPWrap' || kind === 'TCPServerWrap' || kind === 'TCPSocketWrap').length;
    // Handles are released by libuv a moment after their close callbacks have run.
    await waitFor('every socket to be released', () => sockets(process.getActiveResourcesInfo()) <= sockets(before), { timeoutMs: 2000 });
  });

  it('a graceful leave shows as left, and a shut-down node as failed', async () => {
    const a = await createNode({ name: 'a', bind: '127.0.0.1:0', config: FAST });
    nodes.push(a);
    const join = [`127.0.0.1:${a.address.port}`];
    const b = await createNode({ name: 'b', bind: '127.0.0.1:0', join, config: FAST });
    const c = await createNode({ name: 'c', bind: '127.0.0.1:0', join, config: FAST });
    nodes.push(b, c);
    await waitFor('3 alive everywhere', () => [a, b, c].every((n) => n.members().filter((m) => m.status === 'alive').length === 3));
    await b.leave(5000);
    await waitFor('b left at a and c', () => a.member('b')?.status === 'left' && c.member('b')?.status === 'left');
    await c.shutdown();
    await waitFor('c failed at a', () => a.member('c')?.status === 'failed');
  });

  it('a broadcast reaches every other node exactly once', async () => {
    // Epidemic delivery is probabilistic: with memberlist's retransmitMult of 4 a six-node cluster
    // sends each event only 4 times per node, and about one run in twenty-five misses a node.
    // Doubling it makes a miss a one-in-thousands event; duplicates are what this test is about.
    const config = { ...FAST, retransmitMult: 8 };
    const seed = await createNode({ name: 'b0', bind: '127.0.0.1:0', config });
    nodes.push(seed);
    for (let i = 1; i < 6; i++) nodes.push(await createNode({ name: `b${i}`, bind: '127.0.0.1:0', join: [`127.0.0.1:${seed.address.port}`], config }));
    await waitFor('6 alive everywhere', () => nodes.every((n) => n.members().filter((m) => m.status === 'alive').length === 6));
    const received = new Map<string, string[]>();
    for (const node of nodes) {
      received.set(node.name, []);
      node.on('message', (payload, name) => received.get(node.name)!.push(`${name}:${Buffer.from(payload).toString()}`));
    }
    nodes[2]!.broadcast(Buffer.from('hello'));
    nodes[4]!.broadcast(Buffer.from('deploy v2'), 'deploy');
    await waitFor('every other node to get both', () => nodes.every((n) => n === nodes[2] || n === nodes[4] || received.get(n.name)!.length === 2));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const node of nodes) {
      const expected = [node !== nodes[2] && 'hearsay:hello', node !== nodes[4] && 'deploy:deploy v2'].filter(Boolean);
      expect(received.get(node.name)!.sort()).toEqual(expected.sort());
    }
    expect(() => nodes[0]!.broadcast(new Uint8Array(2000))).toThrow(/does not fit in one packet/);
  });

  it('rejects a join with no reachable seed, and a bad address, with clear errors', async () => {
    const lonely = await createNode({ name: 'lonely', bind: '127.0.0.1:0', config: FAST });
    nodes.push(lonely);
    // A port nobody listens on: take one and free it.
    const probe = await createNode({ name: 'probe', bind: '127.0.0.1:0', config: FAST });
    const port = probe.address.port;
    await probe.shutdown();
    await expect(lonely.join([`127.0.0.1:${port}`])).rejects.toThrow(/no seed could be reached/);
    await expect(createNode({ bind: 'nowhere:7946' })).rejects.toThrow(/"nowhere:7946" is not an address/);
    await expect(createNode({ bind: '127.0.0.1:0', keys: [new Uint8Array(5)] })).rejects.toThrow(
      /keys\[0\]: encryption key of 5 bytes: it must be 16, 24 or 32/,
    );
    await expect(createNode({ bind: `127.0.0.1:${lonely.address.port}` })).rejects.toThrow(/already in use/);
  });
});

interface NodeProcess {
  child: ChildProcessWithoutNullStreams;
  name: string;
  port: number;
  events: { event: string; name: string }[];
  members(): Promise<{ name: string; status: string }[]>;
  /** Runs a busy loop in the process for `ms`: its event loop stalls. */
  busy(ms: number): Promise<void>;
  stats(): Promise<NodeStats>;
}

const script = fileURLToPath(new URL('./node-process.mjs', import.meta.url));
const processes: NodeProcess[] = [];

async function startProcess(options: NodeOptions): Promise<NodeProcess> {
  const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: { event: string; name: string }[] = [];
  const waiting: ((fact: Record<string, unknown>) => boolean)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const fact = JSON.parse(line) as Record<string, unknown>;
    if (fact.event) events.push(fact as unknown as { event: string; name: string });
    for (const waiter of [...waiting]) if (waiter(fact)) waiting.splice(waiting.indexOf(waiter), 1);
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const next = (key: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${key} from ${options.name}: ${stderr}`)), 15_000);
      waiting.push((fact) => {
        if (!(key in fact)) return false;
        clearTimeout(timer);
        resolve(fact);
        return true;
      });
    });
  const ready = await next('ready');
  const handle: NodeProcess = {
    child,
    name: options.name!,
    port: ready.port as number,
    events,
    members: async () => {
      const answer = next('members');
      child.stdin.write('members\n');
      return (await answer).members as { name: string; status: string }[];
    },
    busy: async (ms) => {
      const done = next('busy');
      child.stdin.write(`busy ${ms}\n`);
      await done;
    },
    stats: async () => {
      const answer = next('stats');
      child.stdin.write('stats\n');
      return (await answer).stats as NodeStats;
    },
  };
  processes.push(handle);
  return handle;
}

describe('nodes in separate processes', () => {
  afterAll(() => {
    for (const p of processes.splice(0)) {
      p.child.kill('SIGCONT');
      p.child.kill('SIGKILL');
    }
  });

  it('5 processes converge; a short SIGSTOP is refuted, never failed; a 1.5 s busy loop accuses no one; SIGKILL is detected by all', async () => {
    const first = await startProcess({ name: 'p0', bind: '127.0.0.1:0', config: FAST });
    const join = [`127.0.0.1:${first.port}`];
    const rest = await Promise.all([1, 2, 3, 4].map((i) => startProcess({ name: `p${i}`, bind: '127.0.0.1:0', join, config: FAST })));
    const all = [first, ...rest];
    const aliveEverywhere = async (group: NodeProcess[], count: number) => {
      for (const p of group) if ((await p.members()).filter((m) => m.status === 'alive').length !== count) return false;
      return true;
    };
    await waitFor('5 alive in every process', () => aliveEverywhere(all, 5));

    // A stop shorter than the 2 s minimum suspicion timeout: suspected maybe, failed never.
    const paused = all[2]!;
    paused.child.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    paused.child.kill('SIGCONT');
    await waitFor('5 alive again after the pause', () => aliveEverywhere(all, 5));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const p of all) expect(p.events.filter((e) => e.event === 'failed' && e.name === paused.name)).toEqual([]);

    // An overloaded process: its event loop busy for 1.5 s, probes in flight. It accuses no one for its own delay.
    const overloaded = all[1]!;
    const eventsBefore = overloaded.events.length;
    await overloaded.busy(1500);
    await waitFor('5 alive again after the stall', () => aliveEverywhere(all, 5));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(overloaded.events.slice(eventsBefore).filter((e) => e.event === 'suspect' || e.event === 'failed')).toEqual([]);
    expect((await overloaded.stats()).core.stalls).toBeGreaterThanOrEqual(1);
    for (const p of all) expect(p.events.filter((e) => e.event === 'failed')).toEqual([]);

    const victim = all[4]!;
    victim.child.kill('SIGKILL');
    const survivors = all.slice(0, 4);
    await waitFor('every survivor to report p4 failed', async () => {
      for (const p of survivors) if (!(await p.members()).some((m) => m.name === victim.name && m.status === 'failed')) return false;
      return true;
    });
  });
});
