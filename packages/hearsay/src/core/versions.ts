/** PMax, the highest protocol version a member speaks, from its version bytes. */
export function protocolMax(vsn: Uint8Array): number {
  return vsn.length >= 2 ? vsn[1]! : 0;
}

/**
 * memberlist ignores alive messages whose protocol range is empty or inverted. Version bytes
 * must also be exactly six long: memberlist 0.2.2 (Serf 0.9.4) panics on 1–5 of them, and an
 * empty set breaks every later push/pull, so such a record is never taken in nor passed on.
 */
export function validVersions(vsn: Uint8Array): boolean {
  if (vsn.length !== 6) return false;
  const [pmin, pmax] = [vsn[0]!, vsn[1]!];
  return pmin !== 0 && pmax !== 0 && pmin <= pmax;
}
