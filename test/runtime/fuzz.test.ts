/**
 * Fuzzing with mutated valid input (issue 11): packets and streams of every kind, mutated (see
 * fuzz-mutate.ts), fed to the decoders in worker threads — 250,000 and 25,000 in every test run,
 * 1,000,000 and 100,000 with `npm run fuzz` (HEARSAY_FUZZ=full); and a sample of
 * 20,000 packets and 2,000 streams sent over real sockets to a live node, which must stay up, in
 * its cluster, and answer. Everything is generated from fixed seeds, so a failure repeats; a
 * finding is reported with its input in hex.
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../packages/hearsay/src/core/random.js';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { decodePacket, encodePacket } from '../../packages/hearsay/src/wire/index.js';
import { streamCuts, type CampaignResult } from './fuzz-campaign.js';
import { fuzzKeyring, generateCorpus, type Corpus, type Reach } from './fuzz-corpus.js';
import { mutatePacket, mutateStream } from './fuzz-mutate.js';
import { describeFindings, Probe } from './fuzz-probe.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

const CORPUS_SEED = 0x5eed2026;
/** The full campaign takes two cores about 50 s; the suite runs a quarter of it on the same seeds. */
const FULL = process.env.HEARSAY_FUZZ === 'full';
const PACKETS = FULL ? 1_000_000 : 250_000;
const STREAMS = FULL ? 100_000 : 25_000;
const LIVE_PACKETS = 20_000;
const LIVE_STREAMS = 2_000;
/** The machine's cores (two here): the decoding is CPU-bound and splits evenly. */
const WORKERS = Math.max(1, Math.min(2, availableParallelism()));
/** In-process decoding sends nothing: any address will do. */
const ANYWHERE: Reach = { hosts: ['127.0.0.1', '::1', '10.1.2.3', '::ffff:127.0.0.1', 'fe80::1'], ports: [0, 1, 7946, 65535] };

const tempDir = mkdtempSync(join(tmpdir(), 'hearsay-fuzz-'));
const workers = new Set<Worker>();

/** The worker's TypeScript (and what it imports) bundled into one ES module a worker thread can load. */
async function bundleWorker(): Promise<string> {
  const outfile = join(tempDir, 'fuzz-worker.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./fuzz-worker.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
    // CommonJS dependencies (crc-32) bundled into ESM need a require.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return outfile;
}

function runShare(file: string, workerData: { corpus: Corpus; seed: number; packets: number; streams: number }): Promise<CampaignResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(file, { workerData });
    workers.add(worker);
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      workers.delete(worker);
      if (code !== 0) reject(new Error(`a fuzz worker exited with code ${code}`));
    });
  });
}

/** Started before the live test and collected after it: the workers decode while the live node is flooded. */
let campaign: Promise<CampaignResult[]>;

beforeAll(async () => {
  const file = await bundleWorker();
  const corpus = generateCorpus(CORPUS_SEED, ANYWHERE, { packets: 3_000, streams: 600 });
  const share = (total: number, i: number) => Math.floor(total / WORKERS) + (i < total % WORKERS ? 1 : 0);
  campaign = Promise.all(
    Array.from({ length: WORKERS }, (_, i) => runShare(file, { corpus, seed: CORPUS_SEED + 1 + i, packets: share(PACKETS, i), streams: share(STREAMS, i) })),
  );
  // Reported by the test that awaits it; not unhandled meanwhile.
  campaign.catch(() => undefined);
});

afterAll(async () => {
  await Promise.all([...workers].map((worker) => worker.terminate()));
  rmSync(tempDir, { recursive: true, force: true });
});

describe('a live node under mutated packets and streams over real sockets', () => {
  const nodes: HearsayNode[] = [];
  const servers: Server[] = [];
  const sockets: dgram.Socket[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.shutdown()));
    for (const socket of sockets) socket.close();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it(`stays up, in its cluster, and answers after ${LIVE_PACKETS} packets and ${LIVE_STREAMS} streams`, async () => {
    const crashes: unknown[] = [];
    const onCrash = (error: unknown) => crashes.push(error);
    process.on('unhandledRejection', onCrash);
    process.on('uncaughtExceptionMonitor', onCrash);
    try {
      const target = await createNode({ name: 'target', bind: '127.0.0.1:0', config: FAST });
      nodes.push(target);
      const peer = await createNode({ name: 'peer', bind: '127.0.0.1:0', join: [`127.0.0.1:${target.address.port}`], config: FAST });
      nodes.push(peer);
      await waitFor('the pair to converge', () => target.members().length === 2 && peer.member('target')?.status === 'alive');

      // Forged members, targets and query askers may only point at sockets of this test: the
      // target, its peer, or a sink that takes whatever the target sends. Nothing else is touched.
      const sink = dgram.createSocket('udp4');
      sockets.push(sink);
      const sinkTcp = createServer((socket) => socket.resume().on('error', () => undefined));
      servers.push(sinkTcp);
      await new Promise<void>((resolve) => sinkTcp.listen(0, '127.0.0.1', resolve));
      const sinkPort = (sinkTcp.address() as AddressInfo).port;
      await new Promise<void>((resolve) => sink.bind(sinkPort, '127.0.0.1', resolve));
      const ports = [target.address.port, peer.address.port, sinkPort];
      const reach: Reach = { hosts: ['127.0.0.1'], ports, avoidNames: ['target', 'peer'] };
      const staysHere = (addresses: { host: string; port: number }[]) => addresses.every((a) => a.host === '127.0.0.1' && ports.includes(a.port));

      const corpus = generateCorpus(CORPUS_SEED + 100, reach, { packets: 1_000, streams: 200 });
      const keyring = fuzzKeyring();
      const random = createRandom(CORPUS_SEED + 101);
      const probe = new Probe(keyring);

      const socket = dgram.createSocket('udp4');
      sockets.push(socket);
      const before = target.stats.traffic.packetsIn;
      let sent = 0;
      let skipped = 0;
      while (sent < LIVE_PACKETS) {
        for (let batch = 0; batch < 50 && sent < LIVE_PACKETS; ) {
          const bytes = mutatePacket(corpus.packets[random.int(corpus.packets.length)]!, random, corpus.packets, keyring);
          probe.packet(bytes, false);
          if (!staysHere(probe.addresses)) {
            if (++skipped > 10 * LIVE_PACKETS) throw new Error('almost every mutation points elsewhere: the corpus is wrong');
            continue;
          }
          socket.send(bytes, target.address.port, '127.0.0.1');
          sent++;
          batch++;
        }
        // Paced so that the kernel's socket buffer never overflows.
        await waitFor('the node to read the batch', () => target.stats.traffic.packetsIn - before >= sent, { timeoutMs: 20_000 });
      }

      const streamsBefore = target.stats.traffic.streamsIn;
      let opened = 0;
      while (opened < LIVE_STREAMS) {
        const batch: Promise<void>[] = [];
        while (batch.length < 8 && opened < LIVE_STREAMS) {
          const bytes = mutateStream(corpus.streams[random.int(corpus.streams.length)]!, random, corpus.streams, keyring);
          const cuts = streamCuts(bytes.length, random);
          probe.stream(bytes, false, cuts);
          if (!staysHere(probe.addresses)) continue;
          opened++;
          batch.push(sendStream(target.address.port, bytes, cuts));
        }
        await Promise.all(batch);
      }

      const traffic = target.stats.traffic;
      const dropped = Object.values(traffic.dropped).reduce((a, b) => a + b, 0);
      console.info(
        `live fuzz: ${sent} packets (${skipped} mutations skipped: they named other addresses), ${opened} streams; ` +
          `the node read ${traffic.packetsIn - before} packets and ${traffic.streamsIn - streamsBefore} streams, dropped ${dropped}: ${JSON.stringify(traffic.dropped)}`,
      );
      expect(describeFindings(probe.findings.values())).toBe('');
      expect(traffic.packetsIn - before).toBeGreaterThanOrEqual(LIVE_PACKETS);
      expect(dropped).toBeGreaterThan(0);

      // It answers a ping as before, and both stay alive in each other's view.
      const seqNo = 4242;
      const acked = new Promise<boolean>((resolve) => {
        socket.on('message', (data) => {
          const isAck = (() => {
            try {
              return decodePacket(data).some((m) => m.type === 'ack' && m.seqNo === seqNo);
            } catch {
              return false; // an answer to one of the forged packets
            }
          })();
          if (isAck) resolve(true);
        });
      });
      socket.send(encodePacket([{ type: 'ping', seqNo, node: 'target' }], { crc: false, compress: false }), target.address.port, '127.0.0.1');
      expect(await Promise.race([acked, new Promise((resolve) => setTimeout(() => resolve(false), 5_000))])).toBe(true);
      await waitFor('peer and target to list each other alive', () => peer.member('target')?.status === 'alive' && target.member('peer')?.status === 'alive', {
        timeoutMs: 30_000,
      });
      expect(crashes).toEqual([]);
    } finally {
      process.off('unhandledRejection', onCrash);
      process.off('uncaughtExceptionMonitor', onCrash);
    }
  }, 90_000);
});

/** One TCP stream: the bytes in the chunks given, then our end closed; resolves when the node closes it (or after 3 s). */
function sendStream(port: number, bytes: Uint8Array, cuts: readonly number[]): Promise<void> {
  return new Promise<void>((resolve) => {
    const client = connect({ host: '127.0.0.1', port }, () => {
      let from = 0;
      for (const cut of cuts) {
        client.write(bytes.subarray(from, cut));
        from = cut;
      }
      client.end(bytes.subarray(from));
    });
    client.on('error', () => resolve());
    client.on('close', () => resolve());
    client.resume();
    client.setTimeout(3_000, () => client.destroy());
  });
}

describe(`the decoders under ${PACKETS.toLocaleString('en')} mutated valid packets and ${STREAMS.toLocaleString('en')} mutated streams`, () => {
  it('refuse bad input only with their documented errors, encode again what they accept, and refuse nothing slowly', async () => {
    const shares = await campaign;
    const total = (key: 'packets' | 'streams' | 'packetsAccepted' | 'streamsAccepted') => shares.reduce((sum, share) => sum + share[key], 0);
    const findings = shares.flatMap((share) => share.findings);
    const slow = shares.flatMap((share) => share.slow);
    console.info(
      `decoder fuzz: ${total('packets')} packets (${total('packetsAccepted')} still decoded), ${total('streams')} streams ` +
        `(${total('streamsAccepted')} still decoded) in ${WORKERS} worker(s), ${shares.map((s) => `${s.seconds.toFixed(1)} s`).join(' and ')}; ` +
        `${findings.length} findings, ${slow.length} slow inputs`,
    );
    expect(total('packets')).toBe(PACKETS);
    expect(total('streams')).toBe(STREAMS);
    expect(describeFindings(findings)).toBe('');
    expect(slow).toEqual([]);
    // Mutations of valid input mostly still reach the decoders' inner layers, unlike random bytes.
    expect(total('packetsAccepted')).toBeGreaterThan(PACKETS / 5);
    expect(total('streamsAccepted')).toBeGreaterThan(STREAMS / 10);
  }, 180_000);
});
