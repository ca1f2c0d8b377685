import { ConfigError, DEFAULT_VSN, deriveSeed, PROTOCOLS, type MemberProfile, type Protocol } from '../core/index.js';
import { SIM_PORT, simHost } from './network.js';
import type { SimOptions } from './scenario.js';

/** Serf's empty tags (0xFF + an empty msgpack map). */
const EMPTY_META = Uint8Array.of(0xff, 0x80);

/** The options every simulation is run with, checked, with their defaults: seed 1, 60 s, no loss, 1 ms delay + up to 1 ms jitter. */
export function simSettings(options: SimOptions): Required<Pick<SimOptions, 'nodes' | 'seed' | 'durationMs' | 'loss' | 'delayMs' | 'jitterMs'>> {
  const n = options.nodes;
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`nodes must be a positive integer, got ${n}`);
  const loss = options.loss ?? 0;
  if (!(loss >= 0 && loss <= 1)) throw new ConfigError(`loss must be within 0 … 1, got ${loss}`);
  return { nodes: n, seed: options.seed ?? 1, durationMs: options.durationMs ?? 60_000, loss, delayMs: options.delayMs ?? 1, jitterMs: options.jitterMs ?? 1 };
}

/** `protocol` if it is a detector; a ConfigError naming the option `what` otherwise. */
export function checkProtocol(what: string, protocol: Protocol): Protocol {
  if (!PROTOCOLS.includes(protocol)) throw new ConfigError(`${what} must be one of ${PROTOCOLS.join(', ')}, got "${String(protocol)}"`);
  return protocol;
}

/** The i-th simulated node as its peers know it: name n{i}, its own host, no tags. */
export function simProfile(index: number): MemberProfile {
  return { name: simName(index), host: simHost(index), port: SIM_PORT, meta: EMPTY_META, vsn: DEFAULT_VSN };
}

/** The name of the i-th simulated node. */
export function simName(index: number): string {
  return `n${index}`;
}

/** The index of the node called `name` among `n` (n0 … n{N−1}); a ConfigError, prefixed with `context`, for any other name. */
export function nodeIndex(name: string, n: number, context = ''): number {
  const match = /^n(\d+)$/.exec(name);
  const index = match ? Number(match[1]) : -1;
  if (index < 0 || index >= n) throw new ConfigError(`${context}no simulated node named "${name}": names are n0 … n${n - 1}`);
  return index;
}

/** The seed of node `index`'s core in its `generation`-th run: every run of every node draws apart. */
export function coreSeed(seed: number, index: number, generation: number): number {
  return deriveSeed(seed, index * 1000 + generation);
}

/** Checks the `pinned` option's names and files the lists by node index. */
export function pinnedByIndex(pinned: Readonly<Record<string, readonly string[]>>, n: number): (string[] | undefined)[] {
  const byIndex = new Array<string[] | undefined>(n);
  for (const [observer, members] of Object.entries(pinned)) {
    for (const member of members) nodeIndex(member, n, 'pinned: ');
    byIndex[nodeIndex(observer, n, 'pinned: ')] = [...members];
  }
  return byIndex;
}
