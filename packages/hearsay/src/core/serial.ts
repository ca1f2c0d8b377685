/**
 * Serial-number arithmetic over memberlist's uint32 incarnations (RFC 1982): `a` is newer than
 * `b` iff 0 < (a − b) mod 2^32 < 2^31. Every value has a newer one (its successor), so a node can
 * always outbid a rumour about itself, even one forged at 2^32 − 1; two values exactly 2^31
 * apart are not newer than each other, and an update at that distance is refused both ways.
 */

const HALF = 2 ** 31;
const RANGE = 2 ** 32;

/** Whether incarnation `a` is newer than `b`. */
export function isNewer(a: number, b: number): boolean {
  const distance = (((a - b) % RANGE) + RANGE) % RANGE;
  return distance > 0 && distance < HALF;
}

/** Whether `a` is `b` or newer. */
export function isAtLeast(a: number, b: number): boolean {
  return a === b || isNewer(a, b);
}

/** The incarnation after `a`, wrapping from 2^32 − 1 past 0 (memberlist's "unknown" placeholder) to 1. */
export function nextIncarnation(a: number): number {
  return a >= RANGE - 1 ? 1 : a + 1;
}
