/** Encryption (spec §6): key lengths, versions 0 and 1, every key tried, refusals. */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENCRYPTION_OVERHEAD, Keyring, encryptedLength } from '../../src/wire/index.js';
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
      fc.property(fc.constantFrom(16, 24, 32), fc.constantFrom<0 | 1>(0, 1), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 8 }), (length, version, plain, aad) => {
        const keyring = new Keyring([randomBytes(length)]);
        const blob = keyring.encrypt(plain, aad, version);
        expect(blob.length).toBe(encryptedLength(version, plain.length));
        expect(blob[0]).toBe(version);
        expect(keyring.decrypt(blob, aad)).toEqual(plain);
      }),
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
