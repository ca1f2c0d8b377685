/**
 * Memory from concurrent streams (issue 11, item 2), against a node in its own process so that
 * its resident memory can be read from /proc: 128 streams each sending megabytes of a push/pull
 * that never ends, 128 LZW bombs expanding past the stream limit, and 128 expanding just under
 * it. The streams together never hold more than the 64 MiB budget, the peak RSS stays under
 * 300 MB, and it falls back near the baseline once the attack is over. Needs `npm run build`
 * (npm test does it first): the node runs from dist/.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode, type NodeStats } from '../../packages/hearsay/src/index.js';
import { lzwCompress } from '../../packages/hearsay/src/wire/index.js';
import { MsgpackWriter, typedStruct } from '../../packages/hearsay/src/wire/msgpack.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
const CONFIG = { ...FAST, tcpTimeoutMs: 10_000 };
/** Source addresses per connection round; 8 addresses, 16 connections each: the per-source cap. */
const SOURCES_PER_ROUND = 8;

let victim: ChildProcessWithoutNullStreams;
let port: number;
let member: HearsayNode;
/** 24 KB expanding to 30 MiB, over the 20 MiB stream limit; then 15 KB to 19 MiB, under it. */
let bombs: Uint8Array[];
const answers: ((fact: Record<string, unknown>) => boolean)[] = [];

function ask<T>(command: string, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    // Generous: under a loaded machine the victim can lag by seconds (it has just been attacked).
    const timer = setTimeout(() => reject(new Error(`no ${key} from the victim`)), 30_000);
    answers.push((fact) => {
      if (!(key in fact)) return false;
      clearTimeout(timer);
      resolve(fact[key] as T);
      return true;
    });
    victim.stdin.write(`${command}\n`);
  });
}

/** Resident memory now and at its peak (MB), from the kernel's view of the process. */
function residentMemory(): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${victim.pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)![1]) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/**
 * 128 connections from 8 addresses (16 each, the per-source cap), each given to `send` with a
 * promise of its closing; closed when `send` is done. Each round comes from 8 addresses of its
 * own: a connection of the previous round that this side has closed may not be closed yet for the
 * victim (it lags under load), and must not count against the next round's per-source cap.
 */
async function streams(round: number, send: (socket: net.Socket, closed: Promise<void>) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: 128 }, (_, i) => {
      const localAddress = `127.0.0.${2 + round * SOURCES_PER_ROUND + (i % SOURCES_PER_ROUND)}`;
      const socket = net.connect({ host: '127.0.0.1', port, localAddress });
      socket.on('error', () => {});
      socket.resume(); // read the node's answers, so that its closing is seen
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('connect', () => void send(socket, closed).finally(() => socket.destroy()));
      return closed;
    }),
  );
}

/**
 * Waits until the victim's streams hold no memory: every attack stream of a round let go of its
 * memory (the member's own exchanges, a periodic push/pull or a TCP ping, hold a few hundred
 * bytes now and then). The next round must not start earlier, or it finds the budget still full.
 */
async function streamsDrained(): Promise<void> {
  await waitFor("the victim's streams to hold no memory", async () => (await ask<NodeStats>('stats', 'stats')).traffic.streamMemory === 0, {
    timeoutMs: 10_000,
  });
}

/** Writes `bytes`, waiting for the socket to drain; stops early once the node has closed it. */
async function write(socket: net.Socket, bytes: Uint8Array): Promise<void> {
  if (socket.destroyed || socket.write(bytes)) return;
  await new Promise((resolve) => {
    socket.once('drain', resolve);
    socket.once('close', resolve);
  });
}

beforeAll(async () => {
  // Compressed before the member starts: compressing blocks this process (for seconds under
  // load), long enough for the victim to suspect the member, or declare it failed.
  bombs = [30 * MiB, 19 * MiB].map((size) => typedStruct(9, { Algo: 0, Buf: lzwCompress(new Uint8Array(size)) }));
  const script = fileURLToPath(new URL('../runtime/node-process.mjs', import.meta.url));
  const options = { name: 'victim', bind: '127.0.0.1:0', config: CONFIG };
  victim = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
  createInterface({ input: victim.stdout }).on('line', (line) => {
    const fact = JSON.parse(line) as Record<string, unknown>;
    for (const answer of [...answers]) if (answer(fact)) answers.splice(answers.indexOf(answer), 1);
  });
  port = await new Promise<number>((resolve) =>
    answers.push((fact) => {
      if (!('ready' in fact)) return false;
      resolve(fact.port as number);
      return true;
    }),
  );
  member = await createNode({ name: 'member', bind: '127.0.0.1:0', config: CONFIG, join: [`127.0.0.1:${port}`] });
});

afterAll(async () => {
  await member?.shutdown();
  victim?.kill('SIGKILL');
});

describe('memory from concurrent streams', () => {
  it('128 streams of megabytes and 256 LZW bombs: the budget holds, RSS peaks under 300 MB and comes back', async () => {
    // Let the process settle before taking its baseline.
    await waitFor('the member to be alive at the victim', async () => (await ask<unknown[]>('members', 'members')).length === 2);
    const baseline = residentMemory().rss;

    // A plain push/pull announcing 4 MiB of user state, sent in 64 KiB pieces, never finished.
    const header = new MsgpackWriter()
      .byte(6)
      .struct({ Join: false, Nodes: 0, UserStateLen: 4 * MiB })
      .finish();
    const piece = new Uint8Array(64 * 1024).fill(1);
    await streams(0, async (socket) => {
      await write(socket, header);
      for (let sent = 0; sent < 4 * MiB - piece.length && !socket.destroyed; sent += piece.length) await write(socket, piece);
    });
    for (const [i, bomb] of bombs.entries()) {
      expect(bomb.length).toBeLessThan(25_000);
      await streamsDrained();
      await streams(1 + i, async (socket, closed) => {
        await write(socket, bomb);
        await closed; // the node answers and closes
      });
    }
    await streamsDrained();

    const stats = await ask<NodeStats>('stats', 'stats');
    const { dropped, streamMemoryPeak } = stats.traffic;
    expect(dropped['stream-memory']).toBeGreaterThan(0);
    // Both expand over 128 times their size: refused before a byte of output is allocated.
    expect(dropped['compression-ratio']).toBe(256);
    expect(streamMemoryPeak).toBeLessThanOrEqual(64 * MiB);
    const { peak } = residentMemory();
    expect(peak).toBeLessThan(300);
    // Stream buffers go back to the system as streams end; what is left is the collector's to take.
    await waitFor(`RSS back near the baseline of ${baseline.toFixed(0)} MB`, () => residentMemory().rss < baseline + 64, { timeoutMs: 10_000 });

    // Still a member, still exchanging state. Under load either side may have suspected the
    // other, or declared it failed, while the attack kept them busy; the refutation then takes
    // a gossip round or two to arrive.
    expect(await member.join([`127.0.0.1:${port}`])).toBe(1);
    const bothAlive = async () => {
      const atVictim = await ask<{ name: string; status: string }[]>('members', 'members');
      const listed = atVictim.map((m) => `${m.name}:${m.status}`).sort();
      return listed.join() === 'member:alive,victim:alive' && member.member('victim')?.status === 'alive';
    };
    await waitFor('the victim to list both alive, and the member the victim', bothAlive, { timeoutMs: 20_000 });
    console.log(`baseline ${baseline.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, after ${residentMemory().rss.toFixed(0)} MB`);
  });
});
