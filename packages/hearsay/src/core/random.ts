import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import type { Random } from './types.js';

/** A seeded generator (xoroshiro128+ from pure-rand); the same seed yields the same sequence. */
export function createRandom(seed: number): Random {
  const generator = xoroshiro128plus(seed | 0);
  return {
    float: () => uniformFloat64(generator),
    // One 32-bit draw scaled to n: the bias (n / 2^32) is far below anything measurable here,
    // and it is several times cheaper than an exact rejection sampler on the simulator's hot path.
    int: (n) => (n <= 1 ? 0 : Math.floor(((generator.next() >>> 0) / 4294967296) * n)),
  };
}

/** Derives an independent seed for a sub-stream (one per simulated node, say). */
export function deriveSeed(seed: number, index: number): number {
  // splitmix32-style mixing so that neighbouring indexes give unrelated streams
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) | 0;
}
