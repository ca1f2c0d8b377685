import { MsgpackWriter, asStruct, readObject, type Struct } from './msgpack.js';

/** A network coordinate; every length is in seconds, `error` is dimensionless. */
export interface Coordinate {
  /** The Euclidean part. */
  vec: number[];
  /** How unsure this node is of its coordinate: starts at `vivaldiErrorMax` and falls. */
  error: number;
  /** A distance offset: half the mean of the recent (rtt − raw distance) residuals [3]. */
  adjustment: number;
  /** The non-Euclidean access-link length, never below `heightMin`. */
  height: number;
}

/*
 * Serf's ping-ack payload: one version byte (Serf's PingVersion, 1), then the sender's coordinate
 * as go-msgpack writes a Go struct: a map with the keys sorted, every number a float64 (0xcb):
 *
 *   01 84 aa "Adjustment" cb … a5 "Error" cb … a6 "Height" cb … a3 "Vec" 98 (cb …) × 8
 *
 * (test/fixtures/serf/udp-ack-with-coordinate.hex is such a payload from a real agent.)
 */

/** The version byte Serf puts before the coordinate in an ack payload. */
export const COORDINATE_PING_VERSION = 1;

/** The ack payload carrying `c`, byte for byte as Serf writes it. */
export function encodeCoordinatePayload(c: Coordinate): Uint8Array {
  const w = new MsgpackWriter(16 + 45 + 9 * c.vec.length)
    .byte(COORDINATE_PING_VERSION)
    .mapHeader(4)
    .text('Adjustment')
    .float64(c.adjustment)
    .text('Error')
    .float64(c.error)
    .text('Height')
    .float64(c.height)
    .text('Vec')
    .arrayHeader(c.vec.length);
  for (const x of c.vec) w.float64(x);
  return w.finish();
}

/**
 * Reads an ack payload as Serf's coordinate. Like Serf's decoder, it leaves a missing or nil field
 * at zero (a missing Vec gives no dimensions), takes integers for floats, ignores unknown keys and
 * whatever follows the one msgpack object. It does not judge the values: a coordinate with the
 * wrong dimensionality or a NaN decodes, and `CoordinateClient.update` refuses it (as Serf does).
 * Throws a RangeError on an empty payload, an unknown version, or bytes that are not a msgpack map
 * of numbers.
 */
export function decodeCoordinatePayload(bytes: Uint8Array): Coordinate {
  if (bytes.length === 0) throw new RangeError('coordinate payload: empty');
  if (bytes[0] !== COORDINATE_PING_VERSION) {
    throw new RangeError(`coordinate payload: unsupported ping version ${bytes[0]} (expected ${COORDINATE_PING_VERSION})`);
  }
  let s: Struct;
  try {
    s = asStruct(readObject(bytes, 1, 'coordinate').value, 'coordinate');
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new RangeError(`coordinate payload: ${detail}`, { cause: error });
  }
  return {
    vec: vecField(s.Vec),
    error: floatField(s.Error, 'Error'),
    adjustment: floatField(s.Adjustment, 'Adjustment'),
    height: floatField(s.Height, 'Height'),
  };
}

function toFloat(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function floatField(v: unknown, key: string): number {
  if (v === undefined || v === null) return 0;
  const x = toFloat(v);
  if (x === undefined) throw new RangeError(`coordinate payload: ${key} is not a number`);
  return x;
}

function vecField(v: unknown): number[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new RangeError('coordinate payload: Vec is not an array');
  return v.map((item, i) => {
    if (item === null) return 0;
    const x = toFloat(item);
    if (x === undefined) throw new RangeError(`coordinate payload: Vec[${i}] is not a number`);
    return x;
  });
}
