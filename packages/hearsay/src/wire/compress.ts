import { WireError } from './errors.js';
import { lzwCompress, lzwDecompress } from './lzw.js';
import { WireType } from './messages.js';
import { bytesField, readStruct, typedStruct, uintField } from './msgpack.js';

/** compressionType 0, the only algorithm memberlist knows. */
const LZW_ALGO = 0;

/** `09 | {Algo: 0, Buf: LZW(payload)}`, what memberlist's compressPayload returns. */
export function compressMessage(payload: Uint8Array): Uint8Array {
  return typedStruct(WireType.compress, { Algo: LZW_ALGO, Buf: lzwCompress(payload) });
}

/**
 * Decodes the `{Algo, Buf}` object at `offset` (just after the 09 byte) and decompresses it, at
 * most `limit` bytes, into what `allocate` gives. An empty result is refused: memberlist 0.2.2
 * indexes [0] on it and panics.
 */
export function decompressAt(
  bytes: Uint8Array,
  offset: number,
  limit: number,
  allocate?: (length: number) => Uint8Array,
): { payload: Uint8Array; end: number } {
  const { struct, end } = readStruct(bytes, offset, 'compress');
  const algo = uintField(struct, 'Algo', 0xff, 'compress');
  if (algo !== LZW_ALGO) throw new WireError('decompress', `unknown compression algorithm ${algo}`);
  const payload = lzwDecompress(bytesField(struct, 'Buf', 'compress') ?? new Uint8Array(0), limit, allocate);
  if (payload.length === 0) throw new WireError('decompress', 'compressed payload is empty');
  return { payload, end };
}
