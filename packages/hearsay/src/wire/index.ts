/** memberlist 0.2.2's wire format as the Serf 0.9.4 agent speaks it: packets, streams, Serf bits. */
export { WireError, type WireErrorReason } from './errors.js';
export { encodeHost, decodeHost, canonicalHost } from './address.js';
export { parseAddress, formatAddress, parseSeed, type Seed } from './host-port.js';
export { decodeKey } from './key-text.js';
export { WireType, encodeMessage, decodeMessage } from './messages.js';
export { MAX_COMPOUND_PARTS, encodeCompound, splitCompound, type CompoundParts } from './compound.js';
export { lzwCompress, lzwDecompress } from './lzw.js';
export { compressMessage } from './compress.js';
export { Keyring, encryptedLength, ENCRYPTION_OVERHEAD, type EncryptionVersion, type KeyringOptions } from './keyring.js';
export {
  MAX_PACKET_BYTES,
  MAX_DECOMPRESSED_BYTES,
  crc32,
  wrapCrc,
  encodePacket,
  decodePacket,
  type EncodePacketOptions,
  type DecodePacketOptions,
} from './packet.js';
export { MAX_STREAM_BYTES, MAX_PUSH_NODES, StreamDecoder, type StreamDecoderOptions } from './stream-decoder.js';
export {
  encodeStream,
  encodeStreamBody,
  type EncodeStreamOptions,
  type StreamUserMessage,
  type WireStreamMessage,
} from './stream-messages.js';
export {
  MAX_META_BYTES,
  SerfMessageType,
  encodeTags,
  decodeTags,
  encodeSerfLeave,
  encodeSerfJoin,
  encodeSerfUserEvent,
  decodeSerfMessage,
  parseSerfUserState,
  encodeSerfUserState,
  serfStateLTime,
  type SerfLeave,
  type SerfJoin,
  type SerfUserEvent,
  type SerfMessage,
  type SerfUserState,
  type SerfEventSlot,
} from './serf.js';
export {
  QueryFlag,
  MAX_QUERY_BYTES,
  MAX_QUERY_RESPONSE_BYTES,
  encodeSerfQuery,
  decodeSerfQuery,
  encodeSerfQueryResponse,
  decodeSerfQueryResponse,
  encodeSerfRelay,
  decodeSerfRelay,
  encodeSerfKeyRequest,
  decodeSerfKeyRequest,
  encodeSerfKeyResponse,
  decodeSerfKeyResponse,
  encodeSerfConflictResponse,
  decodeSerfConflictResponse,
  type SerfQuery,
  type QueryFilter,
  type SerfQueryResponse,
  type SerfKeyResponse,
  type SerfConflictMember,
} from './serf-query.js';
export { COORDINATE_PING_VERSION, encodeCoordinatePayload, decodeCoordinatePayload, type Coordinate } from './coordinate.js';
