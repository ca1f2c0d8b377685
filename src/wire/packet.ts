import CRC32 from 'crc-32';
import type { Message } from '../core/types.js';
import { encodeCompound, splitCompound } from './compound.js';
import { compressMessage, decompressAt } from './compress.js';
import { WireError, toWireError } from './errors.js';
import type { Keyring } from './keyring.js';
import { WireType, decodeMessage, encodeMessage } from './messages.js';
import { readU32 } from './msgpack.js';

/** memberlist's UDP read buffer: nothing larger can arrive. */
export const MAX_PACKET_BYTES = 65536;
/** Ceiling on all decompressed output of one packet (an LZW bomb expands ~2500×). */
export const MAX_DECOMPRESSED_BYTES = 2 * 1024 * 1024;
/** Compounds and compress messages nest; real traffic nests at most 2 deep. */
const MAX_NESTING = 16;

export interface EncodePacketOptions {
  /** Add the CRC wrapper (only for peers with PMax ≥ 5). */
  readonly crc: boolean;
  /** LZW-compress, kept only when strictly shorter (as memberlist does on UDP). */
  readonly compress: boolean;
  /** Encrypt the datagram (version 1, no additional data). */
  readonly keyring?: Keyring;
}

export interface DecodePacketOptions {
  readonly keyring?: Keyring;
  /** Drop what does not decrypt (memberlist's GossipVerifyIncoming, default true). */
  readonly verifyIncoming?: boolean;
  /** Told about each compound part dropped while the rest of the packet was kept. */
  readonly onDrop?: (error: WireError) => void;
}

export function crc32(bytes: Uint8Array): number {
  return CRC32.buf(bytes) >>> 0;
}

/**
 * memberlist's UDP send pipeline (spec §3.4): one message bare or several as a compound, then LZW
 * in a compress message if strictly shorter, then the CRC wrapper, then encryption.
 */
export function encodePacket(messages: readonly Message[], options: EncodePacketOptions): Uint8Array {
  if (messages.length === 0) throw new RangeError('a packet needs at least one message');
  let buf = messages.length === 1 ? encodeMessage(messages[0]!) : encodeCompound(messages.map(encodeMessage));
  if (options.compress) {
    const compressed = compressMessage(buf);
    if (compressed.length < buf.length) buf = compressed;
  }
  if (options.crc) {
    const wrapped = new Uint8Array(5 + buf.length);
    wrapped[0] = WireType.hasCrc;
    new DataView(wrapped.buffer).setUint32(1, crc32(buf));
    wrapped.set(buf, 5);
    buf = wrapped;
  }
  return options.keyring ? options.keyring.encrypt(buf) : buf;
}

/**
 * Receive side: decrypt (trying every key), verify and strip an outermost CRC, then unwrap
 * compress and compound messages recursively. Returns the messages in order. A compound part that
 * fails (unknown type, malformed, runs past the end) is dropped alone, as memberlist handles each
 * part separately; anything wrong outside a compound throws a WireError.
 */
export function decodePacket(bytes: Uint8Array, options: DecodePacketOptions = {}): Message[] {
  if (bytes.length > MAX_PACKET_BYTES) throw new WireError('oversized', `packet of ${bytes.length} bytes`);
  let buf = bytes;
  if (options.keyring) {
    try {
      buf = options.keyring.decrypt(bytes);
    } catch (error) {
      // Not verifying (GossipVerifyIncoming false): take the datagram as plaintext.
      if (options.verifyIncoming ?? true) throw new WireError('decrypt', `decrypt packet: ${(error as Error).message}`, { cause: error });
    }
  }
  // The CRC is only recognised as the outermost plaintext layer, and only with ≥ 5 bytes.
  if (buf.length >= 5 && buf[0] === WireType.hasCrc) {
    const body = buf.subarray(5);
    if (crc32(body) !== readU32(buf, 1)) throw new WireError('crc', 'packet checksum mismatch');
    buf = body;
  }
  const out: Message[] = [];
  const budget = { remaining: MAX_DECOMPRESSED_BYTES };
  unwrap(buf, out, budget, options.onDrop, 0);
  return out;
}

function unwrap(buf: Uint8Array, out: Message[], budget: { remaining: number }, onDrop: DecodePacketOptions['onDrop'], depth: number): void {
  if (depth > MAX_NESTING) throw new WireError('malformed', `messages nested more than ${MAX_NESTING} deep`);
  if (buf.length === 0) throw new WireError('truncated', 'empty message');
  switch (buf[0]) {
    case WireType.compress: {
      const { payload } = decompressAt(buf, 1, budget.remaining);
      budget.remaining -= payload.length;
      unwrap(payload, out, budget, onDrop, depth + 1);
      return;
    }
    case WireType.compound: {
      const { parts, truncated } = splitCompound(buf);
      for (const part of parts) {
        const mark = out.length;
        try {
          unwrap(part, out, budget, onDrop, depth + 1);
        } catch (error) {
          out.length = mark; // a part counts whole or not at all
          onDrop?.(toWireError(error, 'malformed', 'compound part'));
        }
      }
      if (truncated > 0) onDrop?.(new WireError('truncated', `compound: ${truncated} part(s) run past the end`));
      return;
    }
    default:
      try {
        out.push(decodeMessage(buf));
      } catch (error) {
        throw toWireError(error, 'malformed', 'decode message');
      }
  }
}
