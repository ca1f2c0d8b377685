import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { Random } from './types.js';

/** A seeded generator (xoroshiro128+ from pure-rand); the same seed yields the same sequence. */
export function createRandom(seed: number): Random {
  const generator = xoroshiro128plus(seed | 0);
  return {
    float: () => uniformFloat64(generator),
    int: (n) => (n <= 1 ? 0 : uniformInt(generator, 0, n - 1)),
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
