/** Encryption (docs/wire-format.md §6): key lengths, versions 0 and 1, every key tried, refusals. */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENCRYPTION_OVERHEAD, Keyring, encryptedLength } from '../../packages/hearsay/src/wire/index.js';
import { MAX_KEYS } from '../../packages/hearsay/src/wire/keyring.js';
import { RUNS, reason } from './helpers.js';

describe('Keyring', () => {
  it('takes 16, 24 and 32-byte keys and says which lengths are allowed otherwise', () => {
    for (const length of [16, 24, 32]) expect(() => new Keyring([new Uint8Array(length)])).not.toThrow();
    for (const length of [0, 8, 15, 17, 31, 33, 64]) {
      expect(() => new Keyring([new Uint8Array(length)])).toThrow(/16, 24 or 32 bytes/);
    }
    expect(() => new Keyring([])).toThrow(/at least one key/);
  });

  it('version 1 adds 29 bytes, version 0 pads to 16 and adds up to 45', () => {
    expect(ENCRYPTION_OVERHEAD).toBe(29);
    expect(encryptedLength(1, 69)).toBe(98);
    expect(encryptedLength(0, 0)).toBe(45);
    expect(encryptedLength(0, 16)).toBe(61);
    expect(encryptedLength(0, 15)).toBe(45);
  });

  it('round-trips both versions, every key length, with and without additional data', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(16, 24, 32),
        fc.constantFrom<0 | 1>(0, 1),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 8 }),
        (length, version, plain, aad) => {
          const keyring = new Keyring([randomBytes(length)]);
          const blob = keyring.encrypt(plain, aad, version);
          expect(blob.length).toBe(encryptedLength(version, plain.length));
          expect(blob[0]).toBe(version);
          expect(keyring.decrypt(blob, aad)).toEqual(plain);
        },
      ),
      RUNS,
    );
  });

  it('encrypts with the primary key and decrypts with any key', () => {
    const [a, b] = [randomBytes(32), randomBytes(16)];
    const blob = new Keyring([a, b]).encrypt(Uint8Array.of(1, 2, 3));
    expect(new Keyring([b, a]).decrypt(blob)).toEqual(Uint8Array.of(1, 2, 3));
    expect(reason(() => new Keyring([b]).decrypt(blob))).toBe('decrypt');
  });

  it('uses a fresh random nonce by default', () => {
    const keyring = new Keyring([randomBytes(16)]);
    const plain = Uint8Array.of(9);
    expect(keyring.encrypt(plain).subarray(1, 13)).not.toEqual(keyring.encrypt(plain).subarray(1, 13));
  });

  it('refuses versions above 1, short blobs, tampering and wrong additional data', () => {
    const keyring = new Keyring([randomBytes(16)]);
    const blob = keyring.encrypt(Uint8Array.of(1, 2, 3), Uint8Array.of(0x0a));
    expect(reason(() => keyring.decrypt(Uint8Array.of(2, ...blob.subarray(1)), Uint8Array.of(0x0a)))).toBe('version');
    expect(reason(() => keyring.decrypt(new Uint8Array(0)))).toBe('truncated');
    expect(reason(() => keyring.decrypt(blob.subarray(0, 28)))).toBe('truncated');
    expect(reason(() => keyring.decrypt(new Uint8Array(44)))).toBe('truncated'); // v0 needs 45
    expect(reason(() => keyring.decrypt(blob))).toBe('decrypt'); // missing AAD
    const tampered = blob.slice();
    tampered[14]! ^= 1;
    expect(reason(() => keyring.decrypt(tampered, Uint8Array.of(0x0a)))).toBe('decrypt');
  });
});

describe('Keyring key management (memberlist AddKey / UseKey / RemoveKey, for `serf keys`)', () => {
  const key = (length: number, fill: number) => new Uint8Array(length).fill(fill);
  const [a, b, c] = [key(32, 1), key(16, 2), key(24, 3)];

  it('holds at most MAX_KEYS keys, each tried on every packet: one more is refused', () => {
    const ring = new Keyring([a]);
    for (let i = 1; i < MAX_KEYS; i++) ring.addKey(key(16, i));
    expect(ring.keys).toHaveLength(MAX_KEYS);
    ring.addKey(key(16, 1)); // installed already: no change, no error
    expect(() => ring.addKey(key(16, 200))).toThrow(/at most|already holds/);
    ring.removeKey(key(16, 1));
    ring.addKey(key(16, 200));
    expect(() => new Keyring(Array.from({ length: MAX_KEYS + 1 }, (_, i) => key(16, i)))).toThrow(RangeError);
  });

  it('addKey installs a key for decryption only, once, and validates its length', () => {
    const ring = new Keyring([a]);
    ring.addKey(b);
    ring.addKey(b);
    ring.addKey(Uint8Array.from(b)); // equal bytes, another array
    ring.addKey(a);
    expect(ring.keys).toEqual([a, b]);
    expect(ring.primaryKey).toEqual(a);
    for (const length of [0, 15, 17, 33]) expect(() => ring.addKey(new Uint8Array(length))).toThrow(/16, 24 or 32 bytes/);
    expect(ring.keys).toEqual([a, b]);
    // The ring keeps its own copy.
    const d = key(16, 4);
    ring.addKey(d);
    d.fill(9);
    expect(ring.keys[2]).toEqual(key(16, 4));
  });

  it('an added key decrypts but does not encrypt', () => {
    const ring = new Keyring([a]);
    const fromB = new Keyring([b]).encrypt(Uint8Array.of(1, 2));
    expect(reason(() => ring.decrypt(fromB))).toBe('decrypt');
    ring.addKey(b);
    expect(ring.decrypt(fromB)).toEqual(Uint8Array.of(1, 2));
    expect(new Keyring([a]).decrypt(ring.encrypt(Uint8Array.of(3)))).toEqual(Uint8Array.of(3));
  });

  it('useKey makes an installed key the primary: it encrypts, the old primary still decrypts', () => {
    const ring = new Keyring([a, b, c]);
    const oldBlob = ring.encrypt(Uint8Array.of(7));
    ring.useKey(c);
    // memberlist's installKeys: the primary first, the others in their order.
    expect(ring.keys).toEqual([c, a, b]);
    expect(ring.primaryKey).toEqual(c);
    const blob = ring.encrypt(Uint8Array.of(8));
    expect(new Keyring([c]).decrypt(blob)).toEqual(Uint8Array.of(8));
    expect(reason(() => new Keyring([a]).decrypt(blob))).toBe('decrypt');
    expect(ring.decrypt(oldBlob)).toEqual(Uint8Array.of(7));
    ring.useKey(c); // already the primary: nothing changes
    expect(ring.keys).toEqual([c, a, b]);
  });

  it('useKey throws for a key that is not installed, and leaves the ring alone', () => {
    const ring = new Keyring([a, b]);
    expect(() => ring.useKey(c)).toThrow(/not in the keyring/);
    expect(() => ring.useKey(new Uint8Array(5))).toThrow(/not in the keyring/);
    expect(ring.keys).toEqual([a, b]);
  });

  it('removeKey refuses the primary and removes the others: their messages no longer decrypt', () => {
    const ring = new Keyring([a, b, c]);
    expect(() => ring.removeKey(a)).toThrow(/primary/);
    expect(() => ring.removeKey(Uint8Array.from(a))).toThrow(/primary/);
    expect(ring.keys).toEqual([a, b, c]);
    const fromB = new Keyring([b]).encrypt(Uint8Array.of(5));
    expect(ring.decrypt(fromB)).toEqual(Uint8Array.of(5));
    ring.removeKey(b);
    expect(ring.keys).toEqual([a, c]);
    expect(reason(() => ring.decrypt(fromB))).toBe('decrypt');
    // After a rotation the old primary can go.
    ring.useKey(c);
    ring.removeKey(a);
    expect(ring.keys).toEqual([c]);
    expect(ring.primaryKey).toEqual(c);
  });

  it('removing an unknown key (of any length) is a no-op, as in memberlist', () => {
    const ring = new Keyring([a, b]);
    ring.removeKey(c);
    ring.removeKey(new Uint8Array(7));
    ring.removeKey(new Uint8Array(0));
    expect(ring.keys).toEqual([a, b]);
  });

  it('any sequence of operations keeps a valid ring: the primary first, no duplicates', () => {
    const keys = [a, b, c, key(16, 4), key(32, 5)];
    const op = fc.tuple(fc.constantFrom('add' as const, 'use' as const, 'remove' as const), fc.nat({ max: keys.length - 1 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const ring = new Keyring([a]);
        const model: Uint8Array[] = [a];
        const index = (k: Uint8Array) => model.indexOf(k);
        for (const [kind, i] of ops) {
          const k = keys[i]!;
          if (kind === 'add') {
            ring.addKey(k);
            if (index(k) < 0) model.push(k);
          } else if (kind === 'use') {
            if (index(k) < 0) expect(() => ring.useKey(k)).toThrow();
            else {
              ring.useKey(k);
              model.splice(index(k), 1);
              model.unshift(k);
            }
          } else if (index(k) === 0) {
            expect(() => ring.removeKey(k)).toThrow();
          } else {
            ring.removeKey(k);
            if (index(k) > 0) model.splice(index(k), 1);
          }
          expect(ring.keys).toEqual(model);
        }
        const blob = ring.encrypt(Uint8Array.of(1));
        expect(new Keyring([model[0]!]).decrypt(blob)).toEqual(Uint8Array.of(1));
      }),
      RUNS,
    );
  });
});
