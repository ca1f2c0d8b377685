/**
 * One share of the fuzzing: mutated packets and streams from one seed, each fed to the decoders
 * by a Probe. Runs in a worker thread (fuzz-worker.ts); every share mutates the same corpus,
 * each from its own seed.
 */
import type { Random } from '../../packages/hearsay/src/core/index.js';
import { createRandom } from '../../packages/hearsay/src/core/random.js';
import { fuzzKeyring, type Corpus } from './fuzz-corpus.js';
import { mutatePacket, mutateStream } from './fuzz-mutate.js';
import { Probe, type Finding } from './fuzz-probe.js';

export interface CampaignOptions {
  readonly corpus: Corpus;
  /** Seed of this share's mutations. */
  readonly seed: number;
  readonly packets: number;
  readonly streams: number;
}

export interface CampaignResult {
  readonly packets: number;
  readonly streams: number;
  /** Mutated inputs that still decoded to at least one message. */
  readonly packetsAccepted: number;
  readonly streamsAccepted: number;
  readonly findings: Finding[];
  readonly slow: { ms: number; input: string }[];
  readonly seconds: number;
}

/** Where a stream is cut into the chunks TCP delivers: none to three cuts. */
export function streamCuts(length: number, random: Random): number[] {
  return Array.from({ length: random.int(4) }, () => random.int(length + 1)).sort((a, b) => a - b);
}

export function runCampaign(options: CampaignOptions): CampaignResult {
  const started = performance.now();
  const keyring = fuzzKeyring();
  const { corpus } = options;
  const random = createRandom(options.seed);
  const probe = new Probe(keyring);
  // Refused inputs throw by the million: capturing a stack trace for each would cost more than decoding.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (let i = 0; i < options.packets; i++) {
      const sample = corpus.packets[random.int(corpus.packets.length)]!;
      // Encrypted samples go to a node with the key; a quarter of the plain ones too (it then refuses them).
      probe.packet(mutatePacket(sample, random, corpus.packets, keyring), sample.shape.encrypt || random.int(4) === 0);
    }
    const packetsAccepted = probe.accepted;
    for (let i = 0; i < options.streams; i++) {
      const sample = corpus.streams[random.int(corpus.streams.length)]!;
      const bytes = mutateStream(sample, random, corpus.streams, keyring);
      probe.stream(bytes, sample.encrypt || random.int(4) === 0, streamCuts(bytes.length, random));
    }
    return {
      packets: options.packets,
      streams: options.streams,
      packetsAccepted,
      streamsAccepted: probe.accepted - packetsAccepted,
      findings: [...probe.findings.values()],
      slow: probe.slow,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}
