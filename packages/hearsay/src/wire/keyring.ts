import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { WireError } from './errors.js';

/*
 * memberlist's encryption (docs/wire-format.md §6): AES-GCM with the key length choosing AES-128/192/256, blob =
 * version (1) | nonce (12) | ciphertext | tag (16). Version 1 encrypts the plaintext as is; the
 * legacy version 0 first PKCS#7-pads it to a multiple of 16. We always send version 1.
 */

/** memberlist's encryption versions: 1 (sent), or 0 with PKCS#7 padding (still understood). */
export type EncryptionVersion = 0 | 1;

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const BLOCK = 16;
const EMPTY = new Uint8Array(0);
const KEY_LENGTHS = [16, 24, 32];
/**
 * Keys a keyring holds at most. Each is tried on every packet that fails with the ones before it,
 * and a peer can install keys (`serf keys -install` is a query): the cost of one datagram stays
 * bounded. Rotation needs two or three; memberlist sets no limit.
 */
export const MAX_KEYS = 32;

/** The blob length for a plaintext of `plainLength` bytes. */
export function encryptedLength(version: EncryptionVersion, plainLength: number): number {
  const padded = version === 0 ? plainLength + (BLOCK - (plainLength % BLOCK)) : plainLength;
  return 1 + NONCE_BYTES + padded + TAG_BYTES;
}

/** Bytes that encryption adds to a UDP packet (version 1), as memberlist budgets them. */
export const ENCRYPTION_OVERHEAD = encryptedLength(1, 0);

/** How a `Keyring` is made. */
export interface KeyringOptions {
  /** Where nonces come from; random by default. Tests inject a fixed one. */
  readonly nonce?: () => Uint8Array;
}

/**
 * memberlist's keyring: AES-GCM keys of 16, 24 or 32 bytes, at most 32 of them. The primary key
 * encrypts; every key is tried in turn to decrypt, so that keys can be rotated without downtime.
 */
export class Keyring {
  readonly #keys: Uint8Array[];
  readonly #nonce: () => Uint8Array;

  /** The first key is the primary: it encrypts. Every key is tried to decrypt. */
  constructor(keys: readonly Uint8Array[], options: KeyringOptions = {}) {
    if (keys.length === 0) throw new RangeError('a keyring needs at least one key');
    if (keys.length > MAX_KEYS) throw new RangeError(`a keyring holds at most ${MAX_KEYS} keys, got ${keys.length}`);
    for (const key of keys) checkKeyLength(key);
    this.#keys = keys.map((key) => Uint8Array.from(key));
    this.#nonce = options.nonce ?? (() => randomBytes(NONCE_BYTES));
  }

  /** Copies of the keys, the primary first. */
  get keys(): readonly Uint8Array[] {
    return this.#keys.map((key) => key.slice());
  }

  /** A copy of the key that encrypts. */
  get primaryKey(): Uint8Array {
    return this.#keys[0]!.slice();
  }

  /** Installs a key for decryption (memberlist's AddKey); installing a known key changes nothing. */
  addKey(key: Uint8Array): void {
    checkKeyLength(key);
    if (this.#indexOf(key) >= 0) return;
    if (this.#keys.length >= MAX_KEYS) throw new RangeError(`the keyring already holds ${MAX_KEYS} keys: remove one first`);
    this.#keys.push(Uint8Array.from(key));
  }

  /** Makes an installed key the primary, the one that encrypts (memberlist's UseKey). */
  useKey(key: Uint8Array): void {
    const index = this.#indexOf(key);
    if (index < 0) throw new RangeError('the requested key is not in the keyring: install it first');
    const [primary] = this.#keys.splice(index, 1);
    this.#keys.unshift(primary!);
  }

  /** Uninstalls a key; the primary cannot be removed (memberlist's RemoveKey). */
  removeKey(key: Uint8Array): void {
    const index = this.#indexOf(key);
    if (index === 0) throw new RangeError('removing the primary key is not allowed: make another key the primary first');
    if (index > 0) this.#keys.splice(index, 1);
  }

  #indexOf(key: Uint8Array): number {
    return this.#keys.findIndex((known) => known.length === key.length && known.every((byte, i) => byte === key[i]));
  }

  /** Encrypts with the primary key; `aad` is the GCM additional data (empty on UDP in 0.2.2). */
  encrypt(plaintext: Uint8Array, aad: Uint8Array = EMPTY, version: EncryptionVersion = 1): Uint8Array {
    const key = this.#keys[0]!;
    const nonce = this.#nonce();
    if (nonce.length !== NONCE_BYTES) throw new RangeError(`a nonce must be ${NONCE_BYTES} bytes, got ${nonce.length}`);
    const body = version === 0 ? pad(plaintext) : plaintext;
    const cipher = createCipheriv(algorithm(key), key, nonce, { authTagLength: TAG_BYTES });
    if (aad.length > 0) cipher.setAAD(aad);
    const out = new Uint8Array(encryptedLength(version, plaintext.length));
    out[0] = version;
    out.set(nonce, 1);
    const head = cipher.update(body);
    out.set(head, 1 + NONCE_BYTES);
    const tail = cipher.final();
    out.set(tail, 1 + NONCE_BYTES + head.length);
    out.set(cipher.getAuthTag(), out.length - TAG_BYTES);
    return out;
  }

  /**
   * Tries every key. Throws WireError: 'version' for a version above 1, 'truncated' for a blob
   * shorter than the minimum (29 bytes for v1, 45 for v0), 'decrypt' when no key authenticates it.
   */
  decrypt(blob: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    if (blob.length === 0) throw new WireError('truncated', 'cannot decrypt an empty payload');
    const version = blob[0]!;
    if (version > 1) throw new WireError('version', `unsupported encryption version ${version}`);
    if (blob.length < encryptedLength(version as EncryptionVersion, 0)) {
      throw new WireError('truncated', `payload too small to decrypt: ${blob.length} bytes`);
    }
    const nonce = blob.subarray(1, 1 + NONCE_BYTES);
    const ciphertext = blob.subarray(1 + NONCE_BYTES, blob.length - TAG_BYTES);
    const tag = blob.subarray(blob.length - TAG_BYTES);
    for (const key of this.#keys) {
      const plain = tryDecrypt(key, nonce, ciphertext, tag, aad);
      if (!plain) continue;
      if (version === 1) return plain;
      const unpadded = unpad(plain);
      if (unpadded) return unpadded;
    }
    throw new WireError('decrypt', 'no installed key could decrypt the message');
  }
}

function checkKeyLength(key: Uint8Array): void {
  if (!KEY_LENGTHS.includes(key.length)) {
    throw new RangeError(`an encryption key must be 16, 24 or 32 bytes (AES-128/192/256), got ${key.length}`);
  }
}

function algorithm(key: Uint8Array): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  return key.length === 16 ? 'aes-128-gcm' : key.length === 24 ? 'aes-192-gcm' : 'aes-256-gcm';
}

function tryDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array): Uint8Array | null {
  try {
    const decipher = createDecipheriv(algorithm(key), key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    if (aad.length > 0) decipher.setAAD(aad);
    const head = decipher.update(ciphertext);
    const tail = decipher.final();
    const out = new Uint8Array(head.length + tail.length);
    out.set(head);
    out.set(tail, head.length);
    return out;
  } catch {
    return null;
  }
}

/** PKCS#7: 1..16 pad bytes, always added. */
function pad(plaintext: Uint8Array): Uint8Array {
  const n = BLOCK - (plaintext.length % BLOCK);
  const out = new Uint8Array(plaintext.length + n).fill(n);
  out.set(plaintext);
  return out;
}

/** Go trusts the last byte blindly (and can panic); an impossible pad is a failure here. */
function unpad(padded: Uint8Array): Uint8Array | null {
  const n = padded[padded.length - 1] ?? 0;
  if (n < 1 || n > BLOCK || n > padded.length) return null;
  return padded.slice(0, padded.length - n);
}
