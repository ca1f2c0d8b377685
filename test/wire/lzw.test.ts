/**
 * LZW (docs/wire-format.md §5): Go compress/lzw, LSB, 8-bit literals. The spec's vectors are in vectors.test.ts;
 * here the outputs for 0..300 kB inputs (random, text, zeros) are pinned to hashes of what Go 1.19
 * produces (checked with go-crosscheck), which covers width growth 9→12 and table resets; then
 * round trips and the decoder's refusals.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireError, compressMessage, lzwCompress, lzwDecompress } from '../../packages/hearsay/src/wire/index.js';
import { SEED, sameBytes } from './helpers.js';
import { lzwInputs } from './lzw-inputs.js';

/** SHA-256 of compressPayload(input) (the whole 09 message) from memberlist 0.2.2 on Go 1.19. */
const GO_OUTPUT_SHA256: Record<string, string> = {
  'random-1': '95f51c164b479ef3977163df3557cb37c737e35005eec2a3b171558d09408c62',
  'text-1': 'ec206c8c2181de3c9461bd65e83ace9cb02a10692da29827e1cd79230efa84fa',
  'zeros-1': '6d1b7ef52ad199a2c89a976a68128cbe5944c214b5dd4b401d8090c129f54f22',
  'random-2': 'b08755ef16b68005b171a7c444197f4e448ae15dad4d1a41ce445a453458a2e6',
  'text-2': '9a15879a39a5f869bfe0290a74d80012533373c92d17cd35c34a3203432e9500',
  'zeros-2': 'bb6be9eeedb033a4914211b126120fa2a43a92b45abd79f3c41ebcbb425a9f93',
  'random-255': '70c2d7da6b7a8b61d1c7c3dbede0a60f9be7e3c774b2718bc597b5bb660b1537',
  'text-255': 'da96f4f6aa5db73dadab2b5dfe0c05eedd9dad784bc07cde54b085dac5226cd5',
  'zeros-255': '25be0860253a18a14945638fd29b772c296ced84ad49d130a0b95e58dd9574e1',
  'random-256': 'cf41429ad01338af69e5dd19aad80ee9665858fbfa4b39ae1e86c471b64fdbff',
  'text-256': '8e69d544e3ad527efffbf55f2d74aff674e385acf8253a4f13ad0fcf22056117',
  'zeros-256': 'd1bec91edd6d0b9cf4a9b1790152d80bb79b3f21ba272a3ea39e6669bdf61087',
  'random-511': '67628b4cad95713a6c47b8d9babc64cb43d3e25199108aa78f080f5105d3617f',
  'text-511': '8cc60494b5cfbdc801fb3c1d320c8caf753a7dee9d2d6046affc8c85606aa97c',
  'zeros-511': '2e0eb915919f4057dc0c0478549a95a80e74bb56f7738e1dece8093e05e9125c',
  'random-512': '06b06087398a482493e43da487cc00413497c9279f744a289db11f351333e82d',
  'text-512': 'f038806a1e55f4d86990b31d8bb04e8d5ea98adb35b8e67be513afcf0833b26f',
  'zeros-512': 'd8070de726c17eb62faacf31bd8e5d41d25219dfcd7bc7dbdc932a4ef2836d9f',
  'random-1000': '8bc5e8a98acfb488853697d12a7a465669fc610460b7936f7b2138ffef401dd2',
  'text-1000': '0a4fe3fb1489b19119216138a2f0d353907bcffde5ae2d87e95fc5778c2c70c8',
  'zeros-1000': '135f3ba38ddd97c69669fc8d1a79fe354888446a90e9cd5cfa47baf771edf8ef',
  'random-4000': '12ea420f253f0c6b960ffc9ddb24c13d3e3d63145117a4a7079f8dc11fba4ade',
  'text-4000': '8070fec55418e1c1a6135ba366cdec7caf27491f786db08ac9f6320cbf9de927',
  'zeros-4000': '5fcd3ad3396f130928e0f74105b55871249d0f9f7ab4fda09ea162629d483833',
  'random-5000': '89ffd08159336e9fefef749ff94d11f6943cfa4b05fd6bcb3897d93d46cbb260',
  'text-5000': 'df6935cce2641572e185f3971e74013111777c16ad526b0532e3a7c7e32f0ad3',
  'zeros-5000': '4223d0a4b5565140b495946aada6c1c0045e1707d650bd8f6485aa13e36a5891',
  'random-20000': 'ab00e033a83c061b7df1652229fda5f8218ace78675f31f9e6441f4e6ce6b470',
  'text-20000': 'cf039120d6bd6fec2540823513b421903c593d11c631c02da1387ee6fe6bd57d',
  'zeros-20000': '479f83882e45ed74751681a4a53e22141221a8ee3dde4bc2d37ad0b3150abf3e',
  'random-100000': '8ff032e9de737478dc1eeafaf10a3351cd58a00228c414919ff8222a488e022d',
  'text-100000': 'a0b6bfae0a51149588120315ed1be90ba74954b53d5f5269853c7a7ec7d62979',
  'zeros-100000': '9069bc398bbade47fa71749458581a7c30e980021b57f4eb2344b3558d922118',
  'random-300000': '7489c68f5427bf5478f3a3f03f2ea896b74b6989d3a09e19f7199af9af6858c1',
  'text-300000': '8dd71faea382b7e927a2e7f6341c29ed5c7fd40b3a2a5919d350f82fb96067dc',
  'zeros-300000': 'fa540e8f68f696537f05a00456f28047eb303317567b93e5d0da3f8a367b2710',
  'abc-200000': '6ad46488235c73c211e5c1924c1e876490b363fb157751215d002b6e03f996b9',
};

describe('LZW against Go', () => {
  for (const { name, input } of lzwInputs()) {
    it(`${name} compresses exactly as Go does and decompresses back`, () => {
      const message = compressMessage(input);
      expect(createHash('sha256').update(message).digest('hex')).toBe(GO_OUTPUT_SHA256[name]);
      expect(sameBytes(lzwDecompress(lzwCompress(input)), input)).toBe(true);
    });
  }
});

describe('LZW round trips', () => {
  it('random data of 0..300 kB', () => {
    const sizes = fc.oneof(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 300_000 }));
    fc.assert(
      fc.property(sizes, fc.integer({ min: 1, max: 256 }), fc.integer(), (size, alphabet, seed) => {
        let x = seed | 1;
        const input = Uint8Array.from({ length: size }, () => {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          return (x >>> 0) % alphabet;
        });
        expect(sameBytes(lzwDecompress(lzwCompress(input)), input)).toBe(true);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('arbitrary small inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (input) => {
        expect(sameBytes(lzwDecompress(lzwCompress(input)), input)).toBe(true);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('LZW decoder refusals', () => {
  const sample = lzwCompress(new TextEncoder().encode('TOBEORNOTTOBEORTOBEORNOT'));

  const reason = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(WireError);
      return (error as WireError).reason;
    }
    return undefined;
  };

  it('requires the EOF code', () => {
    expect(reason(() => lzwDecompress(new Uint8Array(0)))).toBe('decompress');
    for (let cut = 0; cut < sample.length - 1; cut++) {
      expect(reason(() => lzwDecompress(sample.subarray(0, cut)))).toBe('decompress');
    }
  });

  it('ignores bytes after EOF', () => {
    const padded = Uint8Array.of(...sample, 1, 2, 3);
    expect(lzwDecompress(padded)).toEqual(lzwDecompress(sample));
  });

  it('refuses a code beyond the next one to be defined', () => {
    // CLEAR (256) then code 300 at 9 bits: 256 | 300 << 9, LSB first.
    const bits = 256 | (300 << 9);
    expect(reason(() => lzwDecompress(Uint8Array.of(bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff)))).toBe('decompress');
  });

  it('measures before it allocates: a bomb allocates nothing, an output is allocated once, exactly', () => {
    const sizes: number[] = [];
    const allocate = (length: number) => {
      sizes.push(length);
      return new Uint8Array(length);
    };
    const bomb = lzwCompress(new Uint8Array(30 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(25_000);
    expect(reason(() => lzwDecompress(bomb, 20 * 1024 * 1024, allocate))).toBe('oversized');
    expect(sizes).toEqual([]);
    const input = lzwInputs().find((entry) => entry.name === 'text-100000')!.input;
    expect(sameBytes(lzwDecompress(lzwCompress(input), Infinity, allocate), input)).toBe(true);
    expect(sizes).toEqual([input.length]);
  });

  it('stops at the output limit', () => {
    const big = lzwCompress(new Uint8Array(100_000));
    expect(big.length).toBeLessThan(2000);
    expect(reason(() => lzwDecompress(big, 99_999))).toBe('oversized');
    expect(lzwDecompress(big, 100_000).length).toBe(100_000);
  });

  it('never throws anything but WireError on random input, and terminates', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (input) => {
        try {
          lzwDecompress(input, 1 << 20);
        } catch (error) {
          expect(error).toBeInstanceOf(WireError);
        }
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
