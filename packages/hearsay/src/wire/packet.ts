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
/**
 * Ceiling on the decompressed payload of one packet (an LZW bomb expands ~2500×). A sender
 * compresses what fits its UDP buffer, and memberlist reads at most 64 KiB: twice that is slack.
 */
export const MAX_DECOMPRESSED_BYTES = 2 * MAX_PACKET_BYTES;

/** How `encodePacket` wraps the messages, innermost first: compound, compression, CRC, encryption. */
export interface EncodePacketOptions {
  /** Add the CRC wrapper (only for peers with PMax ≥ 5). */
  readonly crc: boolean;
  /** LZW-compress, kept only when strictly shorter (as memberlist does on UDP). */
  readonly compress: boolean;
  /** Encrypt the datagram (version 1, no additional data). */
  readonly keyring?: Keyring;
}

/** How `decodePacket` reads a datagram. */
export interface DecodePacketOptions {
  /** Decrypt with these keys (each tried in turn); without a keyring the datagram is read as plaintext. */
  readonly keyring?: Keyring;
  /** Drop what does not decrypt (memberlist's GossipVerifyIncoming, default true). */
  readonly verifyIncoming?: boolean;
  /** Told about each compound part dropped while the rest of the packet was kept. */
  readonly onDrop?: (error: WireError) => void;
}

/** The IEEE CRC-32 (Go's crc32.ChecksumIEEE) of `bytes`, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array): number {
  return CRC32.buf(bytes) >>> 0;
}

/** memberlist's CRC wrapper: `0c | crc32 (u32 BE) | body`. */
export function wrapCrc(body: Uint8Array): Uint8Array {
  const wrapped = new Uint8Array(5 + body.length);
  wrapped[0] = WireType.hasCrc;
  new DataView(wrapped.buffer).setUint32(1, crc32(body));
  wrapped.set(body, 5);
  return wrapped;
}

/**
 * memberlist's UDP send pipeline (docs/wire-format.md §3.4): one message bare or several as a compound, then LZW
 * in a compress message if strictly shorter, then the CRC wrapper, then encryption.
 */
export function encodePacket(messages: readonly Message[], options: EncodePacketOptions): Uint8Array {
  if (messages.length === 0) throw new RangeError('a packet needs at least one message');
  let buf = messages.length === 1 ? encodeMessage(messages[0]!) : encodeCompound(messages.map(encodeMessage));
  if (options.compress) {
    const compressed = compressMessage(buf);
    if (compressed.length < buf.length) buf = compressed;
  }
  if (options.crc) buf = wrapCrc(buf);
  return options.keyring ? options.keyring.encrypt(buf) : buf;
}

/**
 * Receive side: decrypt (trying every key), verify and strip an outermost CRC, then unwrap what
 * memberlist senders produce and nothing else: at most one compress message, holding a compound
 * or one message; a compound's parts are plain messages. memberlist's receiver unwraps any
 * nesting, so one datagram of compounds of compounds held 255 × 255 pings; here a compound or a
 * compress message where only a plain message may be is dropped ('nested-compound',
 * 'nested-compress'). A compound part that fails (nested, unknown type, malformed, runs past the
 * end) is dropped alone, as memberlist handles each part separately, and reported to `onDrop`;
 * anything wrong outside a compound throws a WireError.
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
  if (buf[0] === WireType.compress) {
    buf = decompressAt(buf, 1, MAX_DECOMPRESSED_BYTES).payload;
    if (buf[0] === WireType.compress) throw new WireError('nested-compress', 'a compress message inside a compress message');
  }
  if (buf[0] !== WireType.compound) return [decodePlain(buf)];
  const { parts, truncated } = splitCompound(buf);
  const out: Message[] = [];
  for (const part of parts) {
    try {
      out.push(decodePlain(part));
    } catch (error) {
      options.onDrop?.(toWireError(error, 'malformed', 'compound part'));
    }
  }
  if (truncated > 0) options.onDrop?.(new WireError('truncated', `compound: ${truncated} part(s) run past the end`));
  return out;
}

/** One message that must not be a compound or compress wrapper. */
function decodePlain(buf: Uint8Array): Message {
  switch (buf[0]) {
    case undefined:
      throw new WireError('truncated', 'empty message');
    case WireType.compound:
      throw new WireError('nested-compound', 'a compound message where a plain message must be');
    case WireType.compress:
      throw new WireError('nested-compress', 'a compress message inside a compound');
    default:
      try {
        return decodeMessage(buf);
      } catch (error) {
        throw toWireError(error, 'malformed', 'decode message');
      }
  }
}
