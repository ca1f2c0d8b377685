import { HearsayError } from '../core/errors.js';

/** Why a decoder refused its input, as a closed set so that a runtime can count drops by reason. */
export type WireErrorReason =
  | 'truncated'
  | 'malformed'
  | 'unknown-type'
  | 'crc'
  | 'decrypt'
  | 'not-encrypted'
  | 'oversized'
  | 'decompress'
  | 'version'
  /** A compound or compress message nested where memberlist senders never put one. */
  | 'nested-compound'
  | 'nested-compress'
  /** Refused because the streams in flight already hold all the memory they may. */
  | 'stream-memory'
  /** A compressed stream expanding far more than honest data does (an LZW bomb). */
  | 'compression-ratio';

/** The only error the decoders throw; anything else a library raises is wrapped into one. */
export class WireError extends HearsayError {
  override name = 'WireError';
  /** What kind of bad input it was, for counting and for tests. */
  readonly reason: WireErrorReason;

  constructor(reason: WireErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** Passes a WireError through; wraps anything else with the given reason. */
export function toWireError(error: unknown, reason: WireErrorReason, context: string): WireError {
  if (error instanceof WireError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new WireError(reason, `${context}: ${detail}`, { cause: error });
}
